package sfkb.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.cometd.bayeux.Channel;
import org.cometd.bayeux.Message;
import org.cometd.bayeux.client.ClientSession;
import org.cometd.bayeux.client.ClientSessionChannel;
import org.cometd.client.BayeuxClient;
import org.cometd.client.http.jetty.JettyHttpClientTransport;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reference CometD Java client (org.cometd.java 8) against the emulator's Streaming API, used
 * the way Salesforce's own EMP-Connector uses it: a bearer token added to every request by the
 * transport, the replay extension adding {@code ext.replay} to each {@code /meta/subscribe}, and a
 * {@code /meta/handshake} listener that subscribes (again, after a re-handshake) from the last
 * replay ID seen.
 */
class CometdJavaClientTest {
  private static final String EVENT = "/event/Low_Ink__e";
  private static final long TIMEOUT_S = 15;
  private static final Pattern UUID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

  private final Emulator emu = Emulator.fromEnvironment();
  private final List<Subscriber> subscribers = new ArrayList<>();

  @BeforeEach
  void resetEmulator() {
    emu.reset();
  }

  @AfterEach
  void stopClients() throws Exception {
    for (Subscriber s : subscribers) {
      s.close();
    }
    emu.reset();
  }

  /** Adds the bearer token, as EMP-Connector does, to every CometD request. */
  static final class BearerTransport extends JettyHttpClientTransport {
    private final String token;

    BearerTransport(HttpClient http, String token) {
      super(new HashMap<>(), http);
      this.token = token;
    }

    @Override
    protected void customize(Request request) {
      super.customize(request);
      request.headers(h -> h.put(HttpHeader.AUTHORIZATION, "Bearer " + token));
    }
  }

  /** Salesforce's replay extension: the replay ID to subscribe from, per channel. */
  static final class ReplayExtension implements ClientSession.Extension {
    final Map<String, Long> replay = new ConcurrentHashMap<>();
    final UnaryOperator<String> mapKey;

    ReplayExtension(UnaryOperator<String> mapKey) {
      this.mapKey = mapKey;
    }

    @Override
    public boolean sendMeta(ClientSession session, Message.Mutable message) {
      if (Channel.META_SUBSCRIBE.equals(message.getChannel())) {
        String sub = (String) message.get(Message.SUBSCRIPTION_FIELD);
        Long id = replay.get(sub);
        if (id != null) {
          message.getExt(true).put("replay", Map.of(mapKey.apply(sub), id));
        }
      }
      return true;
    }

    @Override
    public boolean rcv(ClientSession session, Message.Mutable message) {
      Object id = replayId(message);
      if (id != null) {
        replay.put(message.getChannel(), ((Number) id).longValue());
      }
      return true;
    }
  }

  @SuppressWarnings("unchecked")
  static Object replayId(Message message) {
    Map<String, Object> data = message.getDataAsMap();
    if (data == null || !(data.get("event") instanceof Map)) {
      return null;
    }
    return ((Map<String, Object>) data.get("event")).get("replayId");
  }

  final class Subscriber implements AutoCloseable {
    final HttpClient http = new HttpClient();
    final ReplayExtension extension;
    final BayeuxClient client;
    final String channel;
    final BlockingQueue<Message> events = new LinkedBlockingQueue<>();
    final BlockingQueue<Message> subscribeReplies = new LinkedBlockingQueue<>();
    final AtomicInteger handshakes = new AtomicInteger();

    Subscriber(String channel, long replayFrom, UnaryOperator<String> mapKey) throws Exception {
      this.channel = channel;
      http.start();
      extension = new ReplayExtension(mapKey);
      extension.replay.put(channel, replayFrom);
      client = new BayeuxClient(emu.url + "/cometd/62.0", new BearerTransport(http, emu.staticToken));
      client.addExtension(extension);
      ClientSessionChannel.MessageListener onEvent = (c, m) -> events.add(m);
      // Subscriptions do not survive a re-handshake: subscribe from the handshake listener, so
      // every new session subscribes again from the last replay ID the extension recorded.
      client.getChannel(Channel.META_HANDSHAKE).addListener(
          (ClientSessionChannel.MessageListener) (c, m) -> {
            if (m.isSuccessful()) {
              handshakes.incrementAndGet();
              client.getChannel(channel).subscribe(onEvent, subscribeReplies::add);
            }
          });
      subscribers.add(this);
      client.handshake();
    }

    Subscriber(String channel, long replayFrom) throws Exception {
      this(channel, replayFrom, UnaryOperator.identity());
    }

    Message subscribeReply() throws InterruptedException {
      Message reply = subscribeReplies.poll(TIMEOUT_S, TimeUnit.SECONDS);
      assertNotNull(reply, "no /meta/subscribe reply within " + TIMEOUT_S + " s");
      return reply;
    }

    void awaitSubscribed() throws InterruptedException {
      Message reply = subscribeReply();
      assertTrue(reply.isSuccessful(), "subscribe failed: " + reply);
    }

    List<Message> receive(int n) throws InterruptedException {
      List<Message> got = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
      while (got.size() < n) {
        Message m = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (m == null) {
          fail("received " + got.size() + " of " + n + " events within " + TIMEOUT_S + " s: " + got);
        }
        got.add(m);
      }
      return got;
    }

    @Override
    public void close() throws Exception {
      client.disconnect(5000);
      http.stop();
    }
  }

  static Map<String, Object> ink(int i) {
    return Map.of("Printer_Model__c", "XZO-" + i, "Serial__c", "S-" + i, "Level__c", i);
  }

  List<Long> injectEach(int from, int to) {
    List<Long> ids = new ArrayList<>();
    for (int i = from; i < to; ++i) {
      ids.add(emu.inject(EVENT, ink(i)));
    }
    return ids;
  }

  static List<Long> replayIds(List<Message> messages) {
    List<Long> ids = new ArrayList<>();
    for (Message m : messages) {
      ids.add(((Number) replayId(m)).longValue());
    }
    return ids;
  }

  @SuppressWarnings("unchecked")
  static void assertPlatformEvent(Message m, int i) {
    assertEquals(EVENT, m.getChannel());
    Map<String, Object> data = m.getDataAsMap();
    assertTrue(((String) data.get("schema")).matches("[A-Za-z0-9_-]{22}"), data.toString());
    Map<String, Object> payload = (Map<String, Object>) data.get("payload");
    assertEquals("S-" + i, payload.get("Serial__c"));
    assertEquals(i, ((Number) payload.get("Level__c")).intValue());
    assertNotNull(payload.get("CreatedDate"), data.toString());
    assertNotNull(payload.get("CreatedById"), data.toString());
    Map<String, Object> event = (Map<String, Object>) data.get("event");
    assertTrue(UUID.matcher((String) event.get("EventUuid")).matches(), data.toString());
  }

  @Test
  void replayAllReceivesRetainedThenNewEvents() throws Exception {
    List<Long> old = injectEach(0, 3);
    Subscriber s = new Subscriber(EVENT, -2);
    s.awaitSubscribed();
    assertTrue(s.client.waitFor(TIMEOUT_S * 1000, BayeuxClient.State.CONNECTED));
    List<Message> got = s.receive(3);
    assertEquals(old, replayIds(got));
    for (int i = 0; i < 3; ++i) {
      assertPlatformEvent(got.get(i), i);
    }
    List<Long> fresh = injectEach(3, 5);
    got = s.receive(2);
    assertEquals(fresh, replayIds(got));
    assertPlatformEvent(got.get(1), 4);
  }

  @Test
  void replayNewOnlySkipsRetainedEvents() throws Exception {
    injectEach(0, 3);
    Subscriber s = new Subscriber(EVENT, -1);
    s.awaitSubscribed();
    List<Long> fresh = injectEach(3, 4);
    assertEquals(fresh, replayIds(s.receive(1)));
  }

  @Test
  void replayFromAGivenIdReceivesOnlyLaterEvents() throws Exception {
    List<Long> ids = injectEach(0, 5);
    Subscriber s = new Subscriber(EVENT, ids.get(1));
    s.awaitSubscribed();
    List<Message> got = s.receive(3);
    assertEquals(ids.subList(2, 5), replayIds(got));
    assertPlatformEvent(got.get(0), 2);
  }

  @Test
  void invalidReplayIdIsRefusedWithTheDocumentedError() throws Exception {
    List<Long> ids = injectEach(0, 2);
    long bad = ids.get(1) + 1000;
    Subscriber s = new Subscriber(EVENT, bad);
    Message reply = s.subscribeReply();
    assertFalse(reply.isSuccessful());
    assertEquals("400::The replayId {" + bad + "} you provided was invalid.  Please provide a valid"
        + " ID, -2 to replay all events, or -1 to replay only new events.", reply.get("error"));
    assertEquals(EVENT, reply.get(Message.SUBSCRIPTION_FIELD));
  }

  @Test
  void replayMapWithoutTheChannelsKeyIsRefused() throws Exception {
    injectEach(0, 1);
    Subscriber s = new Subscriber(EVENT, -2, sub -> "/event/Other__e");
    Message reply = s.subscribeReply();
    assertFalse(reply.isSuccessful());
    assertEquals("400::The replayId for channel {" + EVENT
        + "} wasn't found using the provided replay ID map", reply.get("error"));
  }

  @Test
  void droppedSessionRehandshakesAndResumesFromTheLastReplayId() throws Exception {
    Subscriber s = new Subscriber(EVENT, -1);
    s.awaitSubscribed();
    List<Long> first = injectEach(0, 3);
    assertEquals(first, replayIds(s.receive(3)));
    long created = emu.stat("sessions_created");

    emu.faults("{\"drop_sessions\":true}");
    // Injected while the session is gone: they come back through the resubscribe's replay ID.
    List<Long> second = injectEach(3, 6);
    assertEquals(second, replayIds(s.receive(3)));
    s.awaitSubscribed();
    assertTrue(s.handshakes.get() >= 2, "handshakes: " + s.handshakes.get());
    assertTrue(emu.stat("sessions_created") > created);

    // Nothing repeated in between: the next event is the next one injected.
    List<Long> third = injectEach(6, 7);
    assertEquals(third, replayIds(s.receive(1)));
  }
}
