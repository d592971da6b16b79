package ringkv.node.storage;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What a node waits for before it acknowledges a write: {@link #whenDurable()} completes once
 * every write the store returned from before the call is as durable as the node's
 * {@code DURABILITY} promises. The node calls it after applying a client's write (then answers)
 * and after applying a replicated batch (then acknowledges it to the sender, which may drop its
 * copy).
 *
 * <p>Implemented by {@link RocksDbStore}; {@link #IMMEDIATE} for a node without
 * {@code DATA_DIR}, whose writes are as durable as they get once they are in memory.
 */
public interface Durability {
  /** Nothing to wait for (data in memory). */
  Durability IMMEDIATE = () -> CompletableFuture.completedStage(null);

  /**
   * Completes (on some storage thread) once the writes made before this call are durable;
   * fails with a {@link StorageException} if the disk could not make them so. Never blocks.
   */
  CompletionStage<Void> whenDurable();
}
