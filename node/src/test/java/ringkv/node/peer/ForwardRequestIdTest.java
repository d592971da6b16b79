package ringkv.node.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import ringkv.gossip.CausalContext;
import ringkv.gossip.KeyValueCore;
import ringkv.node.error.KvException;
import ringkv.node.peer.KvMessages.ForwardRequest;
import ringkv.ring.NodeAddress;

/**
 * Goal: a forwarded request carries the id its first node gave the client's request (optional
 * {@code request-id}), read and written by the one codec, bounded like every field from a peer.
 * Method: round trips with and without the id, and a body with an id over the bound.
 */
class ForwardRequestIdTest {
  private static ForwardRequest request(String id) {
    return new ForwardRequest(KeyValueCore.Op.GET, "k", null, CausalContext.EMPTY, 10, 1, 3,
        NodeAddress.parse("127.0.0.1:8085"), false, id);
  }

  @Test
  void theIdRoundTripsAndIsOptional() {
    ForwardRequest with = request("abc-123");
    assertEquals(with, ForwardRequest.CODEC.decode(ForwardRequest.CODEC.encode(with)));
    ForwardRequest without = request(null);
    byte[] bytes = ForwardRequest.CODEC.encode(without);
    assertFalse(new String(bytes, StandardCharsets.UTF_8).contains("request-id"));
    assertNull(ForwardRequest.CODEC.decode(bytes).requestId());
  }

  @Test
  void anOverlongIdIsRefused() {
    byte[] bytes = ForwardRequest.CODEC.encode(
        request("x".repeat(KvMessages.REQUEST_ID_CHARS_MAX + 1)));
    assertThrows(KvException.class, () -> ForwardRequest.CODEC.decode(bytes));
  }
}
