package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/*
 * Goal: the comparison sends every Redis command to the master that owns its key's slot, so
 * the slot function must be Redis's and the CLUSTER SLOTS reply must be read right.
 *
 * Method: slots checked against what redis-server 7.0 answers to CLUSTER KEYSLOT (hash tags
 * included) and the CRC16/XMODEM check value; a hand-written CLUSTER SLOTS reply, as Resp.read
 * returns it.
 */
class ClusterSlotsTest {
  @Test
  void crc16IsXmodem() {
    byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0x31C3, ClusterSlots.crc16(check, 0, check.length));
  }

  @Test
  void slotsAreThoseRedisAnswersToClusterKeyslot() {
    assertEquals(11058, ClusterSlots.slotOf("somekey"));
    assertEquals(12182, ClusterSlots.slotOf("foo"));
    assertEquals(5061, ClusterSlots.slotOf("bar"));
    assertEquals(3979, ClusterSlots.slotOf("user0"));
    assertEquals(8106, ClusterSlots.slotOf("user1"));
    assertEquals(9103, ClusterSlots.slotOf("user2999"));
    assertEquals(0, ClusterSlots.slotOf(""));
  }

  @Test
  void hashTagsHashOnlyTheirText() {
    assertEquals(2515, ClusterSlots.slotOf("foo{hash_tag}"));
    assertEquals(ClusterSlots.slotOf("hash_tag"), ClusterSlots.slotOf("bar{hash_tag}"));
    assertEquals(3443, ClusterSlots.slotOf("{user1000}.following"));
    // An empty tag hashes the whole key; "{{bar}}" tags "{bar".
    assertEquals(8363, ClusterSlots.slotOf("foo{}{bar}"));
    assertEquals(4015, ClusterSlots.slotOf("foo{{bar}}zap"));
  }

  @Test
  void clusterSlotsReplyMapsEverySlotToItsMaster() {
    Object reply = List.of(
        List.of(0L, 5460L, List.of("127.0.0.1", 7001L, "id1"), List.of("127.0.0.1", 7004L,
            "id4")),
        List.of(5461L, 10922L, List.of("127.0.0.1", 7002L, "id2"), List.of("127.0.0.1", 7005L,
            "id5")),
        List.of(10923L, 16383L, List.of("127.0.0.1", 7003L, "id3"), List.of("127.0.0.1",
            7006L, "id6")));
    ClusterSlots slots = ClusterSlots.fromReply(reply);
    assertEquals(List.of("127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"),
        slots.masters());
    assertEquals("127.0.0.1:7003", slots.masterOf("foo")); // slot 12182
    assertEquals("127.0.0.1:7001", slots.masterOf("user0")); // slot 3979
    assertEquals("127.0.0.1:7001", slots.masterOf("bar")); // slot 5061
    assertEquals("127.0.0.1:7002", slots.masterOf("user1")); // slot 8106
    assertEquals(List.of("127.0.0.1:7004", "127.0.0.1:7005", "127.0.0.1:7006"),
        ClusterSlots.replicas(reply));
  }

  @Test
  void aSlotWithoutMasterOrABadReplyIsRefused() {
    Object partial = List.of(List.of(0L, 16000L, List.of("127.0.0.1", 7001L, "id1")));
    assertThrows(IllegalArgumentException.class, () -> ClusterSlots.fromReply(partial));
    assertThrows(IllegalArgumentException.class, () -> ClusterSlots.fromReply("OK"));
    assertThrows(IllegalArgumentException.class,
        () -> ClusterSlots.fromReply(List.of(List.of(0L, 16384L, List.of("h", 1L)))));
  }
}
