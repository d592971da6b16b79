package ringkv.node.error;

/**
 * Every operating error a client can see, with its HTTP status and the exact {@code "error"}
 * string of the spec. Dialect-specific statuses (a causal wait that times out is 503 in the shard
 * dialect and 400 in the view-change dialect) are decided by the dialect, not here.
 */
public enum ErrorCode {
  KEY_TOO_LONG(400, "Key is too long"),
  KEY_MISSING(400, "Key is missing"),
  VALUE_MISSING(400, "Value is missing"),
  BAD_METADATA(400, "Invalid causal metadata"),
  BAD_JSON(400, "Invalid JSON"),
  BAD_REQUEST(400, "Bad request"),
  UNKNOWN_SHARD(404, "Shard ID does not exist"),
  NOT_IN_SHARD(404, "Node is not a member of any shard"),
  ROUTE_NOT_FOUND(404, "Not found"),
  METHOD_NOT_ALLOWED(405, "Method not allowed"),
  /** A missing or wrong token, or a peer request without a valid signature. */
  UNAUTHENTICATED(401, "Unauthorized"),
  PAYLOAD_TOO_LARGE(413, "Request body is too large"),
  /** A causal dependency did not arrive in time; the dialect picks the status. */
  CAUSAL_TIMEOUT(503, "Unable to satisfy request"),
  UNAVAILABLE(503, "Unable to satisfy request"),
  OVERLOADED(503, "Too many requests in flight"),
  QUEUE_FULL(503, "Replication queue is full"),
  /** Fewer replicas than the client asked for ({@code RingKV-Acks}) held a write in time. */
  TOO_FEW_ACKS(503, "Not enough replicas acknowledged the write"),
  VIEW_CHANGE(500, "View change in progress"),
  /** 503 like every "try again later" answer of SPEC §2 (409 is not in the contract). */
  VIEW_CHANGE_CONFLICT(503, "Another view change is in progress"),
  VIEW_CHANGE_FAILED(503, "View change failed"),
  NOT_ENOUGH_NODES(400, "Not enough nodes"),
  /** A change that would leave a shard holding keys without members (unless forced). */
  WOULD_DROP_KEYS(400, "Change would drop keys"),
  ADDRESS_EXISTS(404, "Socket address already exists in the view"),
  ADDRESS_UNKNOWN(404, "Socket address does not exist in the view"),
  /**
   * A read of a key whose stored record is damaged here while no replica of its shard holds a
   * copy (issue 15): not "absent", the value is gone.
   */
  KEY_LOST(500, "Key is lost"),
  INTERNAL(500, "Internal error");

  private final int status;
  private final String error;

  ErrorCode(int status, String error) {
    this.status = status;
    this.error = error;
  }

  public int status() {
    return status;
  }

  public String error() {
    return error;
  }
}
