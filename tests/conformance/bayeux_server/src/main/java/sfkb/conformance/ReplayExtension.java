package sfkb.conformance;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.cometd.bayeux.Promise;
import org.cometd.bayeux.server.BayeuxServer;
import org.cometd.bayeux.server.LocalSession;
import org.cometd.bayeux.server.ServerChannel;
import org.cometd.bayeux.server.ServerMessage;
import org.cometd.bayeux.server.ServerSession;

/**
 * Salesforce's replay extension on top of a stock CometD server. A /meta/subscribe carries
 * ext.replay = {channel: replayId}: -1 = new events only, -2 = every retained event, N = the
 * events after N. Each subscribed session has a cursor per channel (the last replay ID it was
 * given); the subscription and every publish deliver exactly the retained events above the cursor
 * and move it, all under one lock, so a subscribe that races a publish neither skips nor repeats an
 * event.
 *
 * <p>Delivery is CometD's own (ServerSession.deliver: its queue, its long poll, its advice); only
 * the choice of which events a session gets is this class's.
 */
final class ReplayExtension
    implements BayeuxServer.SubscriptionListener, BayeuxServer.SessionListener {
  private final BayeuxServer bayeux;
  private final ReplayStore store;
  private final LocalSession sender;
  private final Map<ServerSession, Map<String, Long>> cursors = new HashMap<>();
  private long delivered;
  private long subscribes;
  private long replayedOnSubscribe;
  private boolean hold;

  ReplayExtension(BayeuxServer bayeux, ReplayStore store) {
    this.bayeux = bayeux;
    this.store = store;
    this.sender = bayeux.newLocalSession("replay");
    this.sender.handshake();
    bayeux.addListener(this);
  }

  @Override
  public void subscribed(ServerSession session, ServerChannel channel, ServerMessage message) {
    if (session.isLocalSession()) {
      return;
    }
    String name = channel.getId();
    long from = requestedReplayId(message, name);
    synchronized (this) {
      ++subscribes;
      long cursor = from == -2 ? 0 : from == -1 ? store.last(name) : from;
      cursors.computeIfAbsent(session, s -> new HashMap<>()).put(name, cursor);
      replayedOnSubscribe += catchUp(session, name);
    }
  }

  @Override
  public void unsubscribed(ServerSession session, ServerChannel channel, ServerMessage message) {
    synchronized (this) {
      Map<String, Long> mine = cursors.get(session);
      if (mine != null) {
        mine.remove(channel.getId());
      }
    }
  }

  @Override
  public void sessionRemoved(ServerSession session, ServerMessage message, boolean timeout) {
    synchronized (this) {
      cursors.remove(session);
    }
  }

  /**
   * While held, published events are retained but not delivered to live sessions: they are the
   * events a server had accepted but not yet sent when it died, which only replay can recover.
   */
  synchronized void hold(boolean hold) {
    this.hold = hold;
  }

  /**
   * Ends every client session from the server side (ServerSession.disconnect(): CometD tells the
   * client in its pending /meta/connect), as a server does that drops its sessions. Returns how
   * many it ended.
   */
  int disconnectAll() {
    List<ServerSession> sessions;
    synchronized (this) {
      sessions = new ArrayList<>(cursors.keySet());
    }
    // Outside the lock: disconnect() calls sessionRemoved() on CometD's threads too.
    sessions.forEach(ServerSession::disconnect);
    return sessions.size();
  }

  /** Retains the events and delivers them to every session subscribed to the channel. */
  synchronized List<Long> publish(String channel, List<Map<String, Object>> payloads)
      throws IOException {
    List<Long> ids = new ArrayList<>();
    for (Map<String, Object> payload : payloads) {
      ids.add(store.append(channel, payload).replayId());
    }
    ServerChannel live = hold ? null : bayeux.getChannel(channel);
    if (live != null) {
      for (ServerSession session : live.getSubscribers()) {
        if (cursors.containsKey(session) && cursors.get(session).containsKey(channel)) {
          catchUp(session, channel);
        }
      }
    }
    return ids;
  }

  synchronized Map<String, Object> stats() {
    Map<String, Object> stats = new HashMap<>();
    stats.put("sessions", cursors.size());
    stats.put("subscribes", subscribes);
    stats.put("delivered", delivered);
    stats.put("replayed_on_subscribe", replayedOnSubscribe);
    stats.put("hold", hold);
    stats.put("last_replay_ids", store.lastIds());
    return stats;
  }

  /** Delivers the retained events above the session's cursor and moves it; returns how many. */
  private int catchUp(ServerSession session, String channel) {
    Map<String, Long> mine = cursors.get(session);
    int count = 0;
    for (ReplayStore.Event event : store.after(channel, mine.get(channel))) {
      session.deliver(sender, channel, event.data(), Promise.noop());
      mine.put(channel, event.replayId());
      ++delivered;
      ++count;
    }
    return count;
  }

  /** ext.replay[channel] of a /meta/subscribe; -1 (new events only) when it is absent. */
  private static long requestedReplayId(ServerMessage message, String channel) {
    Map<String, Object> ext = message.getExt();
    if (ext != null && ext.get("replay") instanceof Map<?, ?> replay
        && replay.get(channel) instanceof Number id) {
      return id.longValue();
    }
    return -1;
  }
}
