package ringkv.tests;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import ringkv.client.RingKvClient;
import ringkv.client.RingKvException;
import ringkv.client.Session;
import ringkv.client.tls.TestCertificates;
import ringkv.tests.support.Commands;
import ringkv.tests.support.LocalCluster;

/**
 * Goal: the Java client against real nodes secured as an operator secures them
 * ({@code CLUSTER_SECRET}, {@code CLIENT_TOKEN}, {@code TLS_CERT}/{@code TLS_KEY}/{@code TLS_CA}):
 * with the token and the CA it puts, gets and deletes over HTTPS, and a write through one node
 * is read through a client of the other (the nodes replicate over HTTPS to each other); without
 * the token, or with a wrong one, an operation fails as {@code UNAUTHORIZED} at once; trusting
 * another CA, the client fails the handshake ({@code Kind.TLS}) when it is built.
 *
 * <p>Method: certificates made at test time with keytool ({@link TestCertificates}, an IP
 * address SAN for 127.0.0.1, where the nodes listen), one cluster of 2 real node processes
 * (one shard, both replicas) started by {@link LocalCluster} with an HTTPS readiness check.
 * Waiting is Awaitility; processes and clients are closed in @AfterAll.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientSecurityTest {
  private static final String CLIENT_TOKEN = "client-security-test-token-0123";
  private Path dir;
  private TestCertificates certs;
  private LocalCluster cluster;

  @BeforeAll
  void start() throws IOException {
    dir = Files.createTempDirectory("client-security-test");
    certs = new TestCertificates(dir.resolve("ca"), "ringkv-e2e-ca");
    Path[] node = certs.issue("node");
    SSLContext trusting = certs.context(null);
    cluster = LocalCluster.builder("ClientSecurityTest").nodes(2).shards(1)
        .env("CLUSTER_SECRET", "client-security-test-cluster-secret")
        .env("CLIENT_TOKEN", CLIENT_TOKEN)
        .env("TLS_CERT", node[0].toString())
        .env("TLS_KEY", node[1].toString())
        .env("TLS_CA", certs.caPem().toString())
        .tls(trusting)
        .start();
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
    Commands.deleteTree(dir);
  }

  private RingKvClient.Builder secured(int node) {
    return RingKvClient.builder(cluster.node(node)).tlsCa(certs.caPem()).token(CLIENT_TOKEN);
  }

  @Test
  void putGetDeleteOverHttpsWithTheToken() {
    try (RingKvClient client = secured(0).build();
        RingKvClient other = secured(1).build()) {
      Session session = new Session();
      assertTrue(client.putJsonBlocking(session, "secure-1", "{\"a\":[1,\"ü\"]}").created());
      assertEquals("{\"a\":[1,\"ü\"]}",
          client.getBlocking(session, "secure-1").valueJson().orElseThrow());
      assertTrue(client.putJsonBlocking(session, "secure-2", "2").created());
      // The nodes replicate to each other over HTTPS: a fresh session elsewhere sees it.
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals("2",
          other.getBlocking(new Session(), "secure-2").valueJson().orElse(null)));
      assertTrue(client.deleteBlocking(session, "secure-1").found());
      assertFalse(client.getBlocking(session, "secure-1").found());
      assertFalse(client.toString().contains(CLIENT_TOKEN), client.toString());
    }
  }

  @Test
  void withoutTheTokenOrWithAWrongOneAnOperationFailsUnauthorized() {
    try (RingKvClient anonymous = RingKvClient.builder(cluster.node(0))
            .tlsCa(certs.caPem()).build();
        RingKvClient wrong = RingKvClient.builder(cluster.node(1)).tlsCa(certs.caPem())
            .token("not-the-client-token").build()) {
      for (RingKvClient client : new RingKvClient[] {anonymous, wrong}) {
        RingKvException e = assertThrows(RingKvException.class,
            () -> client.putJsonBlocking(new Session(), "denied", "1"));
        assertEquals(RingKvException.Kind.UNAUTHORIZED, e.kind(), e.toString());
        assertEquals(401, e.status());
        assertEquals(0, client.stats().retries(), "a 401 is not retried");
      }
    }
  }

  @Test
  void trustingAnotherCaTheClientFailsTheHandshake() {
    TestCertificates other = new TestCertificates(dir.resolve("other"), "unrelated-ca");
    RingKvException e = assertThrows(RingKvException.class, () -> RingKvClient
        .builder(cluster.node(0)).tlsCa(other.caPem()).token(CLIENT_TOKEN).build());
    assertEquals(RingKvException.Kind.TLS, e.kind(), e.toString());
    assertInstanceOf(SSLException.class, e.getCause(), e.toString());
  }
}
