package sfkb.conformance;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.jetty.util.ajax.JSON;

/**
 * The retained events of every channel, in an append-only file of JSON lines, so that they outlive
 * a kill -9 of the server: a line is written (to the OS, which keeps it across the death of this
 * process) before the event is delivered to anyone or acknowledged to the publisher. Replay IDs
 * start at 1 per channel and continue after a restart from the largest one in the file. A torn last
 * line (the process died inside a write) is ignored: that event was never acknowledged.
 *
 * <p>Not thread-safe: ReplayExtension calls it under its own lock.
 */
final class ReplayStore {
  /** One retained event as Salesforce delivers it: data = {schema, payload, event}. */
  record Event(String channel, long replayId, String uuid, Map<String, Object> payload) {
    Map<String, Object> data() {
      Map<String, Object> event = new LinkedHashMap<>();
      event.put("EventUuid", uuid);
      event.put("replayId", replayId);
      Map<String, Object> data = new LinkedHashMap<>();
      data.put("schema", schemaOf(channel));
      data.put("payload", payload);
      data.put("event", event);
      return data;
    }
  }

  private static final DateTimeFormatter CREATED_DATE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private final Map<String, List<Event>> channels = new HashMap<>();
  private final BufferedWriter out;

  ReplayStore(Path file) throws IOException {
    if (Files.exists(file)) {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        Object parsed;
        try {
          parsed = new JSON().fromJSON(line);
        } catch (RuntimeException torn) {
          continue;
        }
        if (!(parsed instanceof Map<?, ?> map)) {
          continue;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> payload = (Map<String, Object>) map.get("payload");
        String channel = (String) map.get("channel");
        channels
            .computeIfAbsent(channel, c -> new ArrayList<>())
            .add(
                new Event(
                    channel, ((Number) map.get("replayId")).longValue(), (String) map.get("uuid"),
                    payload));
      }
    }
    out =
        Files.newBufferedWriter(
            file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  static String schemaOf(String channel) {
    // Salesforce sends a schema ID (a hash of the event's fields); any stable string will do here.
    return "conformance-" + Integer.toHexString(channel.hashCode());
  }

  /** The largest replay ID of the channel, 0 when it has none. */
  long last(String channel) {
    List<Event> events = channels.get(channel);
    return events == null || events.isEmpty() ? 0 : events.get(events.size() - 1).replayId();
  }

  /** The retained events of the channel with a replay ID above `after`, oldest first. */
  List<Event> after(String channel, long after) {
    List<Event> events = channels.getOrDefault(channel, List.of());
    List<Event> result = new ArrayList<>();
    for (Event event : events) {
      if (event.replayId() > after) {
        result.add(event);
      }
    }
    return result;
  }

  int size(String channel) {
    return channels.getOrDefault(channel, List.of()).size();
  }

  Map<String, Long> lastIds() {
    Map<String, Long> ids = new LinkedHashMap<>();
    channels.forEach((channel, events) -> ids.put(channel, last(channel)));
    return ids;
  }

  /** Retains one event, written out before it is returned. */
  Event append(String channel, Map<String, Object> fields) throws IOException {
    Map<String, Object> payload = new LinkedHashMap<>();
    payload.put("CreatedDate", CREATED_DATE.format(Instant.now()));
    payload.put("CreatedById", "005000000000001AAA");
    payload.putAll(fields);
    Event event = new Event(channel, last(channel) + 1, UUID.randomUUID().toString(), payload);
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("channel", channel);
    line.put("replayId", event.replayId());
    line.put("uuid", event.uuid());
    line.put("payload", payload);
    out.write(new JSON().toJSON(line));
    out.write('\n');
    out.flush();
    channels.computeIfAbsent(channel, c -> new ArrayList<>()).add(event);
    return event;
  }
}
