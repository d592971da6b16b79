package ringkv.node.storage;

import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The one checksum of stored records: CRC32C of the record's key bytes followed by its payload,
 * stored as 4 big-endian bytes after the payload. Covering the key makes a record read under
 * another key fail like a damaged one. Stateless; thread-safe.
 */
final class Checksums {
  static final int BYTES = 4;

  private Checksums() {}

  static int crc(byte[] keyBytes, byte[] bytes, int length) {
    CRC32C crc = new CRC32C();
    crc.update(keyBytes, 0, keyBytes.length);
    crc.update(bytes, 0, length);
    return (int) crc.getValue();
  }

  static void write(int crc, byte[] out, int p) {
    out[p] = (byte) (crc >>> 24);
    out[p + 1] = (byte) (crc >>> 16);
    out[p + 2] = (byte) (crc >>> 8);
    out[p + 3] = (byte) crc;
  }

  static int read(byte[] bytes, int p) {
    return (bytes[p] & 0xFF) << 24 | (bytes[p + 1] & 0xFF) << 16 | (bytes[p + 2] & 0xFF) << 8
        | (bytes[p + 3] & 0xFF);
  }

  /** Whether the last {@value #BYTES} bytes of {@code record} are the checksum of the rest. */
  static boolean matches(byte[] keyBytes, byte[] record) {
    int end = record.length - BYTES;
    return end >= 0 && read(record, end) == crc(keyBytes, record, end);
  }

  /** {@code payload} followed by its checksum. */
  static byte[] seal(byte[] keyBytes, byte[] payload) {
    byte[] out = Arrays.copyOf(payload, payload.length + BYTES);
    write(crc(keyBytes, payload, payload.length), out, payload.length);
    return out;
  }

  /** The payload of a sealed {@code record}, or null if its checksum does not match. */
  static byte[] unseal(byte[] keyBytes, byte[] record) {
    return matches(keyBytes, record) ? Arrays.copyOf(record, record.length - BYTES) : null;
  }
}
