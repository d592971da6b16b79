package ringkv.node.storage;

/** Stored bytes don't decode to an entry: a damaged or foreign record. Names the key. */
public final class CorruptEntryException extends StorageException {

  public CorruptEntryException(String message) {
    super(message);
  }

  public CorruptEntryException(String message, Throwable cause) {
    super(message, cause);
  }
}
