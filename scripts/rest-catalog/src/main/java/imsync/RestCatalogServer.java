package imsync;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.rest.RESTCatalogAdapter;
import org.apache.iceberg.rest.RESTCatalogServlet;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.FilterHolder;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

/**
 * Apache Iceberg's reference REST catalog (the adapter and servlet iceberg-open-api's
 * RESTCatalogServer uses) over a JdbcCatalog on SQLite, bound to 127.0.0.1 on a free port (the
 * upstream main binds every interface). Prints one JSON line with its URI on stdout and stops
 * when stdin closes.
 *
 * <p>Usage: {@code RestCatalogServer <warehouse-dir> <sqlite-file> [client-id:secret token-ttl-s]}
 *
 * <p>With a client credential the server also plays an OAuth2 authorization server the way a
 * production deployment's would: {@code POST /v1/oauth/tokens} with the client-credentials grant
 * issues bearer tokens that expire after the given seconds, and every other request needs a live
 * token (401 otherwise). The reference adapter issues tokens but never checks them; this filter
 * exists so that the client's token refresh is tested against a server that does.
 */
public final class RestCatalogServer {
  private RestCatalogServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2 && args.length != 4) {
      System.err.println("usage: RestCatalogServer <warehouse-dir> <sqlite-file> [client-id:secret token-ttl-s]");
      System.exit(2);
    }
    Map<String, String> props =
        Map.of(
            "catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog",
            "warehouse", "file://" + args[0],
            "uri", "jdbc:sqlite:" + args[1],
            "jdbc.schema-version", "V1");
    Catalog catalog = CatalogUtil.buildIcebergCatalog("rest_backend", props, new Configuration());

    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addServlet(new ServletHolder(new RESTCatalogServlet(new RESTCatalogAdapter(catalog))), "/*");
    if (args.length == 4) {
      context.addFilter(
          new FilterHolder(new OAuthFilter(args[2], Long.parseLong(args[3]))),
          "/*",
          EnumSet.of(DispatcherType.REQUEST));
    }

    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(context);
    server.start();
    System.out.println("{\"uri\":\"http://127.0.0.1:" + connector.getLocalPort() + "\"}");
    System.out.flush();
    // Stop when the test run closes our stdin (or kills us).
    while (System.in.read() != -1) {
      // keep reading
    }
    server.stop();
    System.exit(0);
  }

  /** Client-credentials tokens with an expiry, and a 401 for requests without a live one. */
  static final class OAuthFilter implements Filter {
    private final String clientId;
    private final String secret;
    private final long ttlMillis;
    private final Map<String, Long> expiries = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    OAuthFilter(String credential, long ttlSeconds) {
      int colon = credential.indexOf(':');
      this.clientId = credential.substring(0, colon);
      this.secret = credential.substring(colon + 1);
      this.ttlMillis = ttlSeconds * 1000;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
        throws IOException, ServletException {
      HttpServletRequest request = (HttpServletRequest) req;
      HttpServletResponse response = (HttpServletResponse) res;
      String path = request.getRequestURI();
      if (path.endsWith("/v1/oauth/tokens") && "POST".equals(request.getMethod())) {
        Map<String, String> form = parseForm(new String(request.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        if (!"client_credentials".equals(form.get("grant_type"))
            || !clientId.equals(form.get("client_id"))
            || !secret.equals(form.get("client_secret"))) {
          send(response, 401, "{\"error\":\"invalid_client\",\"error_description\":\"bad client credentials\"}");
          return;
        }
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        String token = HexFormat.of().formatHex(bytes);
        expiries.put(token, System.currentTimeMillis() + ttlMillis);
        send(
            response,
            200,
            "{\"access_token\":\"" + token + "\",\"token_type\":\"bearer\",\"expires_in\":" + (ttlMillis / 1000)
                + ",\"issued_token_type\":\"urn:ietf:params:oauth:token-type:access_token\"}");
        return;
      }
      String auth = request.getHeader("Authorization");
      Long expiry = auth != null && auth.startsWith("Bearer ") ? expiries.get(auth.substring(7)) : null;
      if (expiry == null || expiry < System.currentTimeMillis()) {
        send(
            response,
            401,
            "{\"error\":{\"message\":\"" + (expiry == null ? "Not authorized" : "Token expired")
                + "\",\"type\":\"NotAuthorizedException\",\"code\":401}}");
        return;
      }
      chain.doFilter(req, res);
    }

    private static Map<String, String> parseForm(String body) {
      Map<String, String> form = new HashMap<>();
      for (String pair : body.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          form.put(
              URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
              URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
      }
      return form;
    }

    private static void send(HttpServletResponse response, int status, String json) throws IOException {
      response.setStatus(status);
      response.setContentType("application/json");
      response.getOutputStream().write(json.getBytes(StandardCharsets.UTF_8));
    }
  }
}
