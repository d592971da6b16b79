package ringkv.node.storage;

/**
 * What the background scrub has done since the store opened (for metrics and tests).
 *
 * @param passes complete passes over the store
 * @param records records verified
 * @param bytes bytes verified (keys and records)
 * @param quarantined records the scrub found damaged and quarantined
 * @param readErrors pages RocksDB itself could not read (its block checksums failed): the
 *     records there could not be verified one by one
 */
public record ScrubStats(long passes, long records, long bytes, long quarantined,
    long readErrors) {}
