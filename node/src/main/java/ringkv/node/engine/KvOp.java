package ringkv.node.engine;

/** The three key-value operations, named by their HTTP methods. */
public enum KvOp {
  GET,
  PUT,
  DELETE
}
