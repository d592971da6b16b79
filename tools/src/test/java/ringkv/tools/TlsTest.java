package ringkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Goal: with a CA file (--cacert, KVS_CA or TLS_CA) the CLI speaks HTTPS and trusts exactly
 * that CA; a certificate it cannot verify is exit 3 with a message about TLS. Method: a
 * self-signed certificate for 127.0.0.1 made with the JDK's keytool, an HTTPS server that
 * answers GET /ring with it, and the CLI with and without the certificate as its CA.
 */
class TlsTest {
  private static final String PASSWORD = "changeit";
  private static final String RING = "{\"epoch\":4,\"hash-function\":\"murmur3_128\","
      + "\"vnodes-per-shard\":20,\"shards\":[],\"tokens\":[]}";

  @TempDir
  Path dir;

  private HttpsServer server;
  private Path caPem;

  @BeforeEach
  void start() throws Exception {
    Path store = dir.resolve("node.p12");
    caPem = dir.resolve("ca.pem");
    keytool("-genkeypair", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048",
        "-validity", "2", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1",
        "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", PASSWORD);
    keytool("-exportcert", "-rfc", "-alias", "node", "-keystore", store.toString(),
        "-storepass", PASSWORD, "-file", caPem.toString());
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, PASSWORD.toCharArray());
    }
    KeyManagerFactory km = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    km.init(keys, PASSWORD.toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(km.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(context));
    server.createContext("/ring", x -> {
      byte[] body = RING.getBytes(StandardCharsets.UTF_8);
      x.getResponseHeaders().set("Content-Type", "application/json");
      x.sendResponseHeaders(200, body.length);
      x.getResponseBody().write(body);
      x.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private void keytool(String... args) throws Exception {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    List<String> command = new java.util.ArrayList<>(List.of(keytool.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("keytool.log").toFile()).start();
    try {
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool did not finish");
      assertEquals(0, p.exitValue(), () -> "keytool failed: " + read(dir.resolve("keytool.log")));
    } finally {
      p.destroyForcibly();
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }

  private String address() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  @Test
  void aCaFileMakesItHttpsAndTrustsThatCa() {
    Cli.Result option = Cli.run(Map.of(), "ring", "--node", address(), "--cacert",
        caPem.toString());
    assertEquals(0, option.exit(), option::toString);
    assertTrue(option.out().startsWith("Ring of " + address() + ": epoch 4"), option::toString);
    Cli.Result fromEnv = Cli.run(Map.of("KVS_NODE", "https://" + address(),
        "TLS_CA", caPem.toString()), "ring", "--json");
    assertEquals(0, fromEnv.exit(), fromEnv::toString);
  }

  @Test
  void aCertificateItCannotVerifyIsUnreachableWithATlsMessage() {
    Cli.Result r = Cli.run(Map.of(), "ring", "--node", "https://" + address());
    assertEquals(ExitCode.UNREACHABLE.code(), r.exit(), r::toString);
    assertTrue(r.err().contains("TLS failed"), r.err());
    Cli.Result plain = Cli.run(Map.of(), "ring", "--node", address(), "--timeout", "2");
    assertEquals(ExitCode.UNREACHABLE.code(), plain.exit(), "HTTP to an HTTPS port: " + plain);
  }
}
