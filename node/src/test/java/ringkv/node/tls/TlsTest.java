package ringkv.node.tls;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ringkv.client.tls.TestCertificates;
import ringkv.node.inprocess.InProcessCluster;
import ringkv.ring.NodeAddress;

/*
 * Goal: with TLS_CERT/TLS_KEY a node serves HTTPS only and its peers call it over HTTPS,
 * checking its certificate against TLS_CA (writes replicate, reads are served everywhere); with
 * TLS_CLIENT_AUTH=required a client without a certificate TLS_CA signed cannot connect, while
 * peers (presenting their own) still work together. Method: certificates made at test time with
 * keytool (TestCertificates), three nodes in this JVM, the test's HTTPS client.
 */
class TlsTest {
  @TempDir
  Path dir;

  private Map<String, String> env(TestCertificates certs, String... more) {
    Path[] node = certs.issue("node");
    Map<String, String> env = new HashMap<>(Map.of("SHARD_COUNT", "1",
        "TLS_CERT", node[0].toString(), "TLS_KEY", node[1].toString(),
        "TLS_CA", certs.caPem().toString(),
        "CLUSTER_SECRET", "tls-test-cluster-secret-0123"));
    for (int i = 0; i < more.length; i += 2) {
      env.put(more[i], more[i + 1]);
    }
    return env;
  }

  private static void writeAndReadEverywhere(InProcessCluster c) {
    for (int i = 0; i < 9; i++) {
      var put = c.send(c.node(i % 3), "PUT", "/key-value-store/t" + i, "{\"value\":" + i + "}");
      assertEquals(201, put.status(), put.toString());
    }
    for (int n = 0; n < 3; n++) {
      NodeAddress node = c.node(n);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        for (int i = 0; i < 9; i++) {
          assertEquals(200, c.send(node, "GET", "/key-value-store/t" + i, null).status());
        }
      });
    }
  }

  @Test
  void nodesServeHttpsAndPeersVerifyEachOther() {
    TestCertificates certs = new TestCertificates(dir, "ringkv-test-ca");
    try (InProcessCluster c = new InProcessCluster(3, env(certs))) {
      c.https(certs.context(null));
      writeAndReadEverywhere(c);
      c.https(null);
      assertThrows(UncheckedIOException.class, () -> c.send(c.node(0), "GET", "/ring", null),
          "plain HTTP is not served");
    }
  }

  @Test
  void requiredClientCertificatesKeepOutClientsWithoutOne() {
    TestCertificates certs = new TestCertificates(dir, "ringkv-test-ca");
    try (InProcessCluster c = new InProcessCluster(3,
        env(certs, "TLS_CLIENT_AUTH", "required"))) {
      c.https(certs.context(null));
      assertThrows(UncheckedIOException.class, () -> c.send(c.node(0), "GET", "/ring", null),
          "no client certificate");
      c.https(certs.context("node"));
      writeAndReadEverywhere(c);
    }
  }
}
