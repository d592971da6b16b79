package ringkv.client;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The causal history of one logical client: the latest {@code causal-metadata}, merged across
 * every response the session's operations received. Pass the same session to every operation
 * whose effects must be causally ordered (read your writes, monotonic reads, writes follow
 * reads); independent sessions are independent clients.
 *
 * <p>Thread-safe: operations of one session may run concurrently; each response is merged
 * atomically (compare-and-set on an immutable {@link CausalMetadata}). Concurrent operations of
 * one session are not ordered with each other, only with those that completed before they
 * started.
 */
public final class Session {
  private final AtomicReference<CausalMetadata> metadata;

  /** A session with no history. */
  public Session() {
    this(CausalMetadata.EMPTY);
  }

  /** A session that continues from {@code metadata} (for example saved from another process). */
  public Session(CausalMetadata metadata) {
    this.metadata = new AtomicReference<>(Objects.requireNonNull(metadata, "metadata"));
  }

  /** The metadata to send with the next request. */
  public CausalMetadata metadata() {
    return metadata.get();
  }

  /** Merges metadata learned elsewhere into this session (per-key maximum). */
  public void merge(CausalMetadata other) {
    metadata.updateAndGet(current -> current.merge(other));
  }

  /**
   * Records the answer to a request that carried {@code sent}: see
   * {@link CausalMetadata#afterResponse}.
   */
  void onResponse(CausalMetadata sent, CausalMetadata received) {
    metadata.updateAndGet(current -> current.afterResponse(sent, received));
  }

  @Override
  public String toString() {
    return "Session" + metadata.get();
  }
}
