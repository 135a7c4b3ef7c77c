package sfkb.conformance;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.eclipse.jetty.util.ajax.JSON;

/** The emulator's admin API (tests/emulator/README.md), over the JDK's HTTP client. */
final class Emulator {
  final String url;
  final String staticToken;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  Emulator(String url, String staticToken) {
    this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    this.staticToken = staticToken;
  }

  static Emulator fromEnvironment() {
    String url = System.getenv("SFKB_CONF_EMULATOR_URL");
    if (url == null || url.isEmpty()) {
      throw new IllegalStateException(
          "SFKB_CONF_EMULATOR_URL is not set: run these tests through tests/conformance/run");
    }
    String token = System.getenv().getOrDefault("SFKB_CONF_STATIC_TOKEN", "conformance-static-token");
    return new Emulator(url, token);
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> call(String method, String path, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url + path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json");
    b.method(method, body == null
        ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body));
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException(method + " " + path + " -> " + r.statusCode() + " " + r.body());
      }
      return (Map<String, Object>) new JSON().fromJSON(r.body());
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + path + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  void reset() {
    call("POST", "/_emulator/reset", "{}");
  }

  /** Injects one event and returns its replay ID. */
  long inject(String channel, Map<String, Object> payload) {
    Map<String, Object> body = Map.of("channel", channel, "count", 1, "payload", payload);
    return ((Number) call("POST", "/_emulator/inject", new JSON().toJSON(body))
            .get("first_replay_id"))
        .longValue();
  }

  Map<String, Object> faults(String json) {
    return call("POST", "/_emulator/faults", json);
  }

  long stat(String key) {
    return ((Number) call("GET", "/_emulator/stats", null).get(key)).longValue();
  }
}
