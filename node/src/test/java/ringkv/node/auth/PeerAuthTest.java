package ringkv.node.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import ringkv.node.config.NodeConfig;
import ringkv.ring.NodeAddress;

/*
 * Goal: a signature covers exactly what it claims (method, URI, receiving node, timestamp,
 * nonce, body; for an answer: answering node, status, the request's nonce, body), a key id names
 * a secret without revealing it, a rotation's previous secret is accepted and answered in kind,
 * and the replay guard refuses stale and repeated nonces within a bounded memory.
 * Method: sign, then change one thing at a time and verify.
 */
class PeerAuthTest {
  private static final NodeAddress A = NodeAddress.parse("127.0.0.1:8082");
  private static final NodeAddress B = NodeAddress.parse("127.0.0.1:8083");
  private static final byte[] BODY = "{\"epoch\":2}".getBytes(StandardCharsets.UTF_8);

  static PeerAuth auth(String secret, String previous) {
    Map<String, String> env = new HashMap<>(Map.of("SOCKET_ADDRESS", A.toString(), "VIEW",
        A.toString(), "CLUSTER_SECRET", secret));
    if (previous != null) {
      env.put("CLUSTER_SECRET_PREVIOUS", previous);
    }
    return PeerAuth.of(NodeConfig.parse(env, new String[0]).security());
  }

  private static final PeerAuth ONE = auth("secret-number-one-0123456789", null);

  @Test
  void aRequestSignatureCoversEveryPartOfTheRequest() {
    PeerAuth.Signed s = ONE.signRequest("POST", "/internal/view/commit", B, BODY, 1_000);
    var sig = ONE.parse(s.header()).orElseThrow();
    assertEquals(1_000, sig.timestampMs());
    assertTrue(ONE.verifyRequest(sig, "POST", "/internal/view/commit", B, BODY));
    assertFalse(ONE.verifyRequest(sig, "GET", "/internal/view/commit", B, BODY));
    assertFalse(ONE.verifyRequest(sig, "POST", "/internal/view/abort", B, BODY));
    assertFalse(ONE.verifyRequest(sig, "POST", "/internal/view/commit", A, BODY),
        "a request for B replayed at A");
    assertFalse(ONE.verifyRequest(sig, "POST", "/internal/view/commit", B,
        "{\"epoch\":3}".getBytes(StandardCharsets.UTF_8)));
    var later = ONE.parse(s.header().replace("ts=1000", "ts=1001")).orElseThrow();
    assertFalse(ONE.verifyRequest(later, "POST", "/internal/view/commit", B, BODY));
    assertNotEquals(s.nonce(), ONE.signRequest("POST", "/x", B, BODY, 1_000).nonce());
  }

  @Test
  void anotherSecretIsNeitherKnownNorAccepted() {
    PeerAuth other = auth("another-secret-entirely-0123", null);
    PeerAuth.Signed s = other.signRequest("POST", "/internal/kv", B, BODY, 1_000);
    assertTrue(ONE.parse(s.header()).isEmpty(), "unknown key id");
    String forged = s.header().replaceFirst("key=[0-9a-f]+", "key=" + ONE.keyId());
    var sig = ONE.parse(forged).orElseThrow();
    assertFalse(ONE.verifyRequest(sig, "POST", "/internal/kv", B, BODY));
    assertFalse(ONE.keyId().contains("secret"));
    for (String bad : new String[] {null, "", "v1", "v2 key=a ts=1 nonce=b sig=c",
        s.header() + " extra", s.header().replace("ts=1000", "ts=-1"), "x".repeat(500)}) {
      assertTrue(ONE.parse(bad).isEmpty(), String.valueOf(bad));
    }
  }

  @Test
  void anAnswerIsBoundToTheRequestTheNodeAndTheStatus() {
    PeerAuth.Signed s = ONE.signRequest("POST", "/internal/config", B, BODY, 1_000);
    var sig = ONE.parse(s.header()).orElseThrow();
    String answer = ONE.signAnswer(sig, B, 200, BODY);
    assertTrue(ONE.verifyAnswer(answer, B, 200, s.nonce(), BODY));
    assertFalse(ONE.verifyAnswer(answer, A, 200, s.nonce(), BODY), "another node's answer");
    assertFalse(ONE.verifyAnswer(answer, B, 500, s.nonce(), BODY));
    assertFalse(ONE.verifyAnswer(answer, B, 200, "AAAAAAAAAAAAAAAAAAAAAA", BODY),
        "an old answer replayed for a new request");
    assertFalse(ONE.verifyAnswer(answer, B, 200, s.nonce(), new byte[0]));
    assertFalse(ONE.verifyAnswer(null, B, 200, s.nonce(), BODY));
  }

  @Test
  void duringARotationThePreviousSecretIsAcceptedAndAnsweredInKind() {
    PeerAuth phaseOne = auth("old-secret-0123456789abcdef", "new-secret-0123456789abcdef");
    PeerAuth phaseTwo = auth("new-secret-0123456789abcdef", "old-secret-0123456789abcdef");
    for (PeerAuth[] pair : new PeerAuth[][] {{phaseOne, phaseTwo}, {phaseTwo, phaseOne}}) {
      PeerAuth.Signed s = pair[0].signRequest("POST", "/internal/ping", B, BODY, 5);
      var sig = pair[1].parse(s.header()).orElseThrow();
      assertTrue(pair[1].verifyRequest(sig, "POST", "/internal/ping", B, BODY));
      assertTrue(pair[0].verifyAnswer(pair[1].signAnswer(sig, B, 200, BODY), B, 200,
          s.nonce(), BODY));
    }
    PeerAuth done = auth("new-secret-0123456789abcdef", null);
    assertTrue(done.parse(phaseOne.signRequest("POST", "/x", B, BODY, 5).header()).isEmpty(),
        "the old secret is refused once the rotation is over");
  }

  @Test
  void theReplayGuardRefusesStaleAndRepeatedNoncesAndStaysBounded() {
    ReplayGuard guard = new ReplayGuard(1_000, 3);
    assertEquals(ReplayGuard.Verdict.FRESH, guard.record(10_000, 10_000, 1));
    assertEquals(ReplayGuard.Verdict.REPLAYED, guard.check(10_000, 10_000, 1));
    assertEquals(ReplayGuard.Verdict.REPLAYED, guard.record(10_500, 10_000, 1));
    assertEquals(ReplayGuard.Verdict.STALE, guard.check(10_000, 8_999, 2));
    assertEquals(ReplayGuard.Verdict.STALE, guard.check(10_000, 11_001, 2));
    assertEquals(ReplayGuard.Verdict.FRESH, guard.record(10_000, 10_999, 0));
    assertEquals(ReplayGuard.Verdict.FRESH, guard.record(10_000, 9_500, 3));
    assertEquals(ReplayGuard.Verdict.FULL, guard.record(10_000, 10_000, 4), "bounded");
    assertEquals(3, guard.size());
    // Once their second is out of the window, nonces go (the timestamp refuses them now).
    assertEquals(ReplayGuard.Verdict.FRESH, guard.record(12_000, 12_000, 5));
    assertEquals(1, guard.size());
    assertEquals(ReplayGuard.Verdict.STALE, guard.record(12_000, 10_000, 1));
  }

  @Test
  void theSetBehindTheGuardHoldsManyNonces() {
    ReplayGuard.LongSet set = new ReplayGuard.LongSet();
    for (long i = -5_000; i < 5_000; i++) {
      set.add(i * 0x10001L);
    }
    assertEquals(10_000, set.size());
    for (long i = -5_000; i < 5_000; i++) {
      assertTrue(set.contains(i * 0x10001L));
    }
    assertFalse(set.contains(7));
  }
}
