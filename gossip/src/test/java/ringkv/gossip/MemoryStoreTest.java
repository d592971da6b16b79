package ringkv.gossip;

/*
 * Goal: MemoryStore keeps the Store contract (see StoreContract), in particular UTF-8 byte key
 * order, the same order as the node's RocksDbStore.
 * Method: runs the whole StoreContract suite against a fresh MemoryStore per test.
 */
class MemoryStoreTest extends StoreContract {

  @Override
  protected Store newStore() {
    return new MemoryStore();
  }
}
