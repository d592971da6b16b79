package ringkv.client;

/**
 * The options of a client, checked by {@link RingKvClient.Builder}; every duration in
 * milliseconds. Immutable.
 */
record ClientOptions(String seed, RingKvClient.Routing routing, int inFlightMax,
    long inFlightWaitMs, long connectTimeoutMs, long requestTimeoutMs, long operationTimeoutMs,
    long retryDelayMsMin, long retryDelayMsMax, long ringRefreshIntervalMs, int ioThreads,
    int connectionsPerNodeMax, int pipelineDepthMax, boolean nativeTransport) {

  /** The options of the transport under the client. */
  HttpTransport.Options transport() {
    return new HttpTransport.Options(ioThreads, connectionsPerNodeMax, pipelineDepthMax,
        connectTimeoutMs, nativeTransport);
  }

  /** How long a blocking call waits for its operation at most. */
  long blockingWaitMs() {
    return operationTimeoutMs + requestTimeoutMs;
  }
}
