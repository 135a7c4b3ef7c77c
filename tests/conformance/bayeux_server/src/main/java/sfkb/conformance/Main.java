package sfkb.conformance;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cometd.server.http.jakarta.CometDServlet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ajax.JSON;

/**
 * The reference CometD Java server (CometDServlet on Jetty 12) at /cometd/API_VERSION on
 * 127.0.0.1, with ReplayExtension for Salesforce's replay semantics and a small control API:
 *
 * <pre>
 *   POST /_control/publish  {"channel": "/event/X__e", "events": [{payload fields}, ...]}
 *                           -> {"replayIds": [N, ...]} once the events are retained
 *   POST /_control/hold     {"hold": true|false}: while held, events are retained but not
 *                           delivered (the events a server accepted but had not sent when it died)
 *   POST /_control/disconnect  {}: ends every client session from the server side
 *   GET  /_control/stats    -> {"sessions", "subscribes", "delivered", "replayed_on_subscribe",
 *                               "hold", "last_replay_ids"}
 * </pre>
 *
 * Prints "port=PORT" on stdout once it accepts connections. Options: --port P (0: the OS picks),
 * --api-version V (62.0), --store FILE (required), --token T (when set, every request must carry
 * "Authorization: Bearer T", otherwise 401), --timeout-ms (the long poll, CometD's "timeout"),
 * --max-interval-ms (CometD's "maxInterval": how long a session outlives its last /meta/connect).
 */
public final class Main {
  public static void main(String[] args) throws Exception {
    Map<String, String> options = new LinkedHashMap<>();
    options.put("--port", "0");
    options.put("--api-version", "62.0");
    options.put("--store", "");
    options.put("--token", "");
    options.put("--timeout-ms", "10000");
    options.put("--max-interval-ms", "10000");
    for (int i = 0; i < args.length; i += 2) {
      if (!options.containsKey(args[i]) || i + 1 >= args.length) {
        System.err.println(
            "usage: Main " + String.join(" ", options.keySet()) + " (each with a value)");
        System.exit(64);
      }
      options.put(args[i], args[i + 1]);
    }
    if (options.get("--store").isEmpty()) {
      System.err.println("--store FILE is required");
      System.exit(64);
    }

    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(Integer.parseInt(options.get("--port")));
    // Restarted on the same port right after a kill -9: the old socket may be in TIME_WAIT.
    connector.setReuseAddress(true);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler("/");
    server.setHandler(context);

    String token = options.get("--token");
    if (!token.isEmpty()) {
      context.addFilter(
          new FilterHolder(new BearerFilter(token)),
          "/cometd/*",
          EnumSet.of(DispatcherType.REQUEST));
    }

    CometDServlet cometd = new CometDServlet();
    ServletHolder cometdHolder = new ServletHolder(cometd);
    // Long polling only (no WebSocket: the bridge speaks long polling, as Salesforce does).
    cometdHolder.setInitParameter("transports", "org.cometd.server.http.JSONHttpTransport");
    cometdHolder.setInitParameter("timeout", options.get("--timeout-ms"));
    cometdHolder.setInitParameter("maxInterval", options.get("--max-interval-ms"));
    cometdHolder.setInitOrder(1);
    context.addServlet(cometdHolder, "/cometd/" + options.get("--api-version") + "/*");

    ReplayStore store = new ReplayStore(Path.of(options.get("--store")));
    ControlServlet control = new ControlServlet();
    context.addServlet(new ServletHolder(control), "/_control/*");

    server.start();
    control.replay = new ReplayExtension(cometd.getBayeuxServer(), store);
    System.out.println("port=" + connector.getLocalPort());
    System.out.flush();
    server.join();
  }

  /** Salesforce answers a missing or wrong token with HTTP 401; so does this. */
  static final class BearerFilter implements Filter {
    private final String expected;

    BearerFilter(String token) {
      this.expected = "Bearer " + token;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
        throws IOException, ServletException {
      String header = ((HttpServletRequest) request).getHeader("Authorization");
      if (!expected.equals(header)) {
        HttpServletResponse http = (HttpServletResponse) response;
        http.setStatus(401);
        http.setContentType("application/json");
        http.getWriter()
            .write(
                "[{\"message\":\"Session expired or invalid\","
                    + "\"errorCode\":\"INVALID_SESSION_ID\"}]");
        return;
      }
      chain.doFilter(request, response);
    }
  }

  static final class ControlServlet extends HttpServlet {
    volatile ReplayExtension replay;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      if (!"/stats".equals(request.getPathInfo()) || replay == null) {
        response.sendError(404);
        return;
      }
      reply(response, replay.stats());
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      String path = request.getPathInfo();
      if (!("/publish".equals(path) || "/hold".equals(path) || "/disconnect".equals(path))
          || replay == null) {
        response.sendError(404);
        return;
      }
      String body = new String(request.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      Object parsed;
      try {
        parsed = new JSON().fromJSON(body);
      } catch (RuntimeException e) {
        response.sendError(400, "body is not JSON");
        return;
      }
      if ("/disconnect".equals(path)) {
        reply(response, Map.of("disconnected", replay.disconnectAll()));
        return;
      }
      if ("/hold".equals(path)) {
        if (!(parsed instanceof Map<?, ?> map) || !(map.get("hold") instanceof Boolean hold)) {
          response.sendError(400, "expected {\"hold\": true|false}");
          return;
        }
        replay.hold(hold);
        reply(response, replay.stats());
        return;
      }
      if (!(parsed instanceof Map<?, ?> map)
          || !(map.get("channel") instanceof String channel)
          || !(map.get("events") instanceof Object[] events)) {
        response.sendError(400, "expected {\"channel\": \"/event/X__e\", \"events\": [{...}]}");
        return;
      }
      List<Map<String, Object>> payloads = new ArrayList<>();
      for (Object event : events) {
        if (!(event instanceof Map<?, ?> fields)) {
          response.sendError(400, "each event is an object of payload fields");
          return;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> typed = (Map<String, Object>) fields;
        payloads.add(typed);
      }
      reply(response, Map.of("replayIds", replay.publish(channel, payloads)));
    }

    private static void reply(HttpServletResponse response, Object body) throws IOException {
      response.setContentType("application/json");
      response.getWriter().write(new JSON().toJSON(body));
    }
  }

  private Main() {}
}
