package ringkv.client;

/**
 * The options of a client, checked by {@link RingKvClient.Builder}; every duration in
 * milliseconds; {@code token} the bearer token (null: none), {@code tls} null for plain HTTP.
 * Its {@link #toString()} leaves the token out. Immutable.
 */
record ClientOptions(String seed, RingKvClient.Routing routing, int inFlightMax,
    long inFlightWaitMs, long connectTimeoutMs, long requestTimeoutMs, long operationTimeoutMs,
    long retryDelayMsMin, long retryDelayMsMax, long ringRefreshIntervalMs, int ioThreads,
    int connectionsPerNodeMax, int pipelineDepthMax, boolean nativeTransport, String token,
    ClientTls tls) {

  /** The options of the transport under the client. */
  HttpTransport.Options transport() {
    return new HttpTransport.Options(ioThreads, connectionsPerNodeMax, pipelineDepthMax,
        connectTimeoutMs, nativeTransport, tls);
  }

  /** How every request is encoded (with the token's header when there is one). */
  RequestEncoder encoder() {
    return RequestEncoder.withToken(token);
  }

  /** How long a blocking call waits for its operation at most. */
  long blockingWaitMs() {
    return operationTimeoutMs + requestTimeoutMs;
  }

  @Override
  public String toString() {
    return "ClientOptions[seed=" + seed + ", routing=" + routing + ", inFlightMax=" + inFlightMax
        + ", inFlightWaitMs=" + inFlightWaitMs + ", connectTimeoutMs=" + connectTimeoutMs
        + ", requestTimeoutMs=" + requestTimeoutMs + ", operationTimeoutMs="
        + operationTimeoutMs + ", retryDelayMs=" + retryDelayMsMin + ".." + retryDelayMsMax
        + ", ringRefreshIntervalMs=" + ringRefreshIntervalMs + ", ioThreads=" + ioThreads
        + ", connectionsPerNodeMax=" + connectionsPerNodeMax + ", pipelineDepthMax="
        + pipelineDepthMax + ", nativeTransport=" + nativeTransport + ", token="
        + (token == null ? "none" : "(set)") + ", tls=" + (tls == null ? "off" : tls) + "]";
  }
}
