package ringkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import ringkv.client.tls.TestCertificates;
import ringkv.ring.Ring;

/*
 * Goal: the client speaks HTTPS when built with TLS options: it reads, writes and deletes over
 * TLS trusting a CA PEM file (or a JDK SSLContext), refuses a node whose certificate another CA
 * signed and one whose certificate does not name the address dialled (hostname verification is
 * on by default), and presents its own certificate to a node that requires one. A TLS failure
 * fails at once as Kind.TLS with the SSLException as its cause, not after retries.
 *
 * Method: certificates made at test time with keytool (TestCertificates: one CA for the nodes
 * and clients, one unrelated CA), FakeNode as an HTTPS server in this JVM. The HTTPS ring
 * names the node as 127.0.0.1:port (its certificate has only an IP address SAN) and the test
 * also dials it as localhost:port, a name the certificate does not carry.
 */
class ClientTlsTest {
  @TempDir
  static Path dir;
  private static TestCertificates certs;
  private static TestCertificates otherCa;
  private static Path[] nodeFiles;
  @RegisterExtension final Opened<FakeNode> opened = new Opened<>();

  @BeforeAll
  static void makeCertificates() {
    certs = new TestCertificates(dir.resolve("ca"), "client-test-ca");
    nodeFiles = certs.issue("node"); // also the client's certificate where one is required
    otherCa = new TestCertificates(dir.resolve("other"), "unrelated-ca");
    otherCa.issue("node");
  }

  private FakeNode httpsNode(boolean needClientAuth) {
    FakeNode n = opened.node(new FakeNode(certs.context("node"), needClientAuth));
    n.ringJson = FakeNode.oneShardRingJson(n.address());
    n.handler = r -> FakeNode.okReply(r, "\"v\"");
    return n;
  }

  private static void putGetDelete(RingKvClient client) {
    Session session = new Session();
    assertTrue(client.putJsonBlocking(session, "k", "\"v\"").created());
    assertEquals("\"v\"", client.getBlocking(session, "k").valueJson().orElseThrow());
    assertTrue(client.deleteBlocking(session, "k").found());
  }

  private static void assertTlsFailure(RingKvException e) {
    assertEquals(RingKvException.Kind.TLS, e.kind(), e.toString());
    assertInstanceOf(SSLException.class, e.getCause(), e.toString());
  }

  @Test
  void putGetDeleteOverHttpsTrustingTheCaFile() {
    FakeNode n = httpsNode(false);
    putGetDelete(opened.client(RingKvClient.builder(n.address()).tlsCa(certs.caPem())));
    assertEquals(3, n.requests.size());
  }

  @Test
  void putGetDeleteOverHttpsWithAJdkContext() {
    FakeNode n = httpsNode(false);
    putGetDelete(opened.client(RingKvClient.builder(n.address()).sslContext(certs.context(null))));
  }

  @Test
  void aCertificateAnotherCaSignedFailsTheHandshakeAtOnce() {
    FakeNode n = httpsNode(false);
    RingKvException e = assertThrows(RingKvException.class,
        () -> opened.client(RingKvClient.builder(n.address()).tlsCa(otherCa.caPem())));
    assertTlsFailure(e);
    assertEquals(0, n.ringReads.get());
  }

  @Test
  void aCertificateThatDoesNotNameTheAddressDialledIsRefusedUnlessVerificationIsOff() {
    FakeNode n = httpsNode(false);
    String byName = n.address().replace("127.0.0.1", "localhost");
    RingKvException e = assertThrows(RingKvException.class,
        () -> opened.client(RingKvClient.builder(byName).tlsCa(certs.caPem())));
    assertTlsFailure(e);
    // The ring names the node by IP address, which its certificate carries.
    RingKvClient unverified = opened.client(RingKvClient.builder(byName).tlsCa(certs.caPem())
        .hostnameVerification(false));
    putGetDelete(unverified);
    assertTlsFailure(assertThrows(RingKvException.class,
        () -> opened.client(RingKvClient.builder(byName).sslContext(certs.context(null)))));
    putGetDelete(opened.client(RingKvClient.builder(byName).sslContext(certs.context(null))
        .hostnameVerification(false)));
  }

  @Test
  void aNodeThatRequiresAClientCertificateGetsOne() {
    FakeNode n = httpsNode(true);
    RingKvException e = assertThrows(RingKvException.class,
        () -> opened.client(RingKvClient.builder(n.address()).tlsCa(certs.caPem())
            .operationTimeoutMs(3_000).requestTimeoutMs(2_000)));
    assertTrue(e.kind() == RingKvException.Kind.TLS
        || e.kind() == RingKvException.Kind.UNREACHABLE, e.toString());
    putGetDelete(opened.client(RingKvClient.builder(n.address()).tlsCa(certs.caPem())
        .tlsClientCertificate(nodeFiles[0], nodeFiles[1])));
  }

  @Test
  void aKeyValueOperationThatMeetsATlsFailureIsNotRetried() {
    FakeNode impostor = new FakeNode(otherCa.context("node"), false);
    opened.node(impostor);
    FakeNode https = httpsNode(false);
    // The trusted node's ring names the impostor (another CA signed its certificate) as the
    // key's replica.
    https.ringJson = FakeNode.ringJson(1, Ring.initial(1, 20),
        List.of(List.of(impostor.address())));
    RingKvClient client = opened.client(RingKvClient.builder(https.address()).tlsCa(certs.caPem()));
    RingKvException e = assertThrows(RingKvException.class,
        () -> client.getBlocking(new Session(), "k"));
    assertTlsFailure(e);
    assertEquals(0, client.stats().retries());
    assertEquals(0, impostor.requests.size());
  }

  @Test
  void conflictingTlsOptionsAndUnreadableFilesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> RingKvClient.builder("127.0.0.1:1")
        .tlsCa(certs.caPem()).sslContext(certs.context(null)).build());
    assertThrows(IllegalArgumentException.class, () -> RingKvClient.builder("127.0.0.1:1")
        .tlsCa(dir.resolve("missing.pem")).build());
  }
}
