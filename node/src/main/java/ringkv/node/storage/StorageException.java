package ringkv.node.storage;

/**
 * The durable store failed: the disk or RocksDB reported an error, or the data directory holds
 * something this build can't read. The node can't serve without its store, so callers let it
 * propagate (a 500 for the request; at start, a one-line error and exit).
 */
public class StorageException extends RuntimeException {

  public StorageException(String message) {
    super(message);
  }

  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }
}
