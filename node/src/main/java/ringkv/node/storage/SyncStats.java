package ringkv.node.storage;

/**
 * What the write-ahead log syncer has done since the store opened (for metrics and tests).
 *
 * @param mode the durability mode
 * @param writes writes made (puts, removes, metadata)
 * @param syncedThrough how many of them the last completed sync covered
 * @param syncs syncs completed
 * @param syncMicrosTotal time spent in those syncs
 * @param waitersPerSyncMax the most acknowledgements one sync released (group commit at work)
 * @param failed whether a sync failed (the store then refuses to acknowledge writes)
 */
public record SyncStats(DurabilityMode mode, long writes, long syncedThrough, long syncs,
    long syncMicrosTotal, long waitersPerSyncMax, boolean failed) {}
