package ringkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/*
 * Goal: the bearer token option: every request (key-value operations and GET /ring) carries
 * "Authorization: Bearer <token>", no request carries one without the option, the token shows
 * in no toString() and no exception message, a token that could break the header is refused,
 * and a 401 fails the operation at once as UNAUTHORIZED (one attempt, no retry) rather than
 * being retried until the deadline.
 *
 * Method: FakeNode HTTP servers in this JVM play the nodes and record each request's
 * Authorization header; waiting is on futures with timeouts.
 */
class TokenTest {
  private static final String TOKEN = "s3cret-client-token_0123";
  @RegisterExtension final Opened<FakeNode> opened = new Opened<>();

  private FakeNode node() {
    FakeNode n = opened.node(new FakeNode());
    n.ringJson = FakeNode.oneShardRingJson(n.address());
    return n;
  }

  private static FakeNode.Reply answer(FakeNode.Request r) {
    return FakeNode.okReply(r, "1");
  }

  @Test
  void everyRequestCarriesTheToken() {
    FakeNode a = node();
    a.handler = TokenTest::answer;
    RingKvClient client = opened.client(RingKvClient.builder(a.address()).token(TOKEN));
    Session session = new Session();
    client.putJsonBlocking(session, "k", "1");
    client.getBlocking(session, "k");
    client.putJsonBlocking(session, "k", "{\"a\":[1,2]}"); // a body after the header
    client.deleteBlocking(session, "k");
    client.refreshRing().join();
    assertEquals(4, a.requests.size());
    a.requests.forEach(r -> assertEquals("Bearer " + TOKEN, r.authorization(), r.toString()));
    assertEquals(List.of("Bearer " + TOKEN, "Bearer " + TOKEN), List.copyOf(a.ringAuthorizations));
  }

  @Test
  void withoutTheOptionNoRequestCarriesAnAuthorizationHeader() {
    FakeNode a = node();
    a.handler = TokenTest::answer;
    RingKvClient client = opened.client(RingKvClient.builder(a.address()));
    client.putJsonBlocking(new Session(), "k", "1");
    assertNull(a.requests.peek().authorization());
    assertEquals("", a.ringAuthorizations.peek());
  }

  @Test
  void aTokenIsShownNowhere() {
    FakeNode a = node();
    a.handler = r -> FakeNode.Reply.json(401,
        "{\"error\":\"Unauthorized\",\"message\":\"a missing or wrong bearer token\"}");
    RingKvClient.Builder builder = RingKvClient.builder(a.address()).token(TOKEN);
    RingKvClient client = opened.client(builder);
    RingKvException e = assertThrows(RingKvException.class,
        () -> client.getBlocking(new Session(), "k"));
    assertTrue(client.toString().contains("token=(set)"), client.toString());
    for (String shown : List.of(client.toString(), builder.toString(), e.toString(),
        String.valueOf(e.getMessage()))) {
      assertFalse(shown.contains(TOKEN), shown);
    }
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> RingKvClient.builder(a.address()).token("abc\r\nx-injected: " + TOKEN));
    assertFalse(bad.getMessage().contains(TOKEN), bad.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> RingKvClient.builder(a.address()).token(""));
  }

  @Test
  void a401FailsAtOnceAsUnauthorizedWithoutRetrying() throws Exception {
    FakeNode a = node();
    a.handler = r -> FakeNode.Reply.json(401,
        "{\"error\":\"Unauthorized\",\"message\":\"a missing or wrong bearer token\"}");
    RingKvClient client = opened.client(RingKvClient.builder(a.address()).token("wrong-token")
        .operationTimeoutMs(30_000));
    long started = System.nanoTime();
    ExecutionException failed = assertThrows(ExecutionException.class,
        () -> client.putJson(new Session(), "k", "1").get(10, TimeUnit.SECONDS));
    RingKvException e = (RingKvException) failed.getCause();
    assertEquals(RingKvException.Kind.UNAUTHORIZED, e.kind());
    assertEquals(401, e.status());
    assertEquals("unauthorized", e.label());
    assertTrue(e.getMessage().contains("bearer token"), e.getMessage());
    assertEquals(1, a.requests.size(), "one attempt");
    assertEquals(0, client.stats().retries());
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) < 5_000,
        "not retried until the deadline");
  }

  @Test
  void a401OnTheRingFailsTheBuildAsUnauthorized() {
    FakeNode guarded = node();
    guarded.ringJson = null; // FakeNode answers GET /ring with 401
    RingKvException e = assertThrows(RingKvException.class,
        () -> opened.client(RingKvClient.builder(guarded.address())));
    assertEquals(RingKvException.Kind.UNAUTHORIZED, e.kind());
    assertEquals(1, guarded.ringReads.get(), "not retried");
  }
}
