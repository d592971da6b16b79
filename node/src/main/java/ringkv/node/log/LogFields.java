package ringkv.node.log;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * The node-wide fields of every JSON log line ({@code LOG_FORMAT=json}): this node's address and
 * the epoch of the configuration it has installed. They are properties of logback's context, not
 * MDC entries: the MDC is per thread, and a node logs from its event loop, Vert.x's threads and
 * the JVM's, which all share these two values. {@link JsonLayout} reads them.
 */
public final class LogFields {
  public static final String NODE = "ringkv.node";
  public static final String EPOCH = "ringkv.epoch";

  private LogFields() {}

  public static void node(String address) {
    put(NODE, address);
  }

  public static void epoch(long epoch) {
    put(EPOCH, Long.toString(epoch));
  }

  private static void put(String name, String value) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (factory instanceof LoggerContext context) {
      context.putProperty(name, value);
    }
  }
}
