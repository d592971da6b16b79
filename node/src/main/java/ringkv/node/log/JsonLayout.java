package ringkv.node.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/**
 * One JSON object per log line ({@code LOG_FORMAT=json}), for log shippers:
 * {@code {"time":"2026-12-06T12:00:00.123Z","level":"INFO",
 * "logger":"ringkv.node.engine.ViewChanges","thread":"...","message":"event=... node=...",
 * "node":"127.0.0.1:8085","epoch":3,"request-id":"..."}} — {@code node} and {@code epoch}
 * from {@link LogFields}, {@code request-id} (and any other MDC entry) when set,
 * {@code exception} with the stack trace when there is one.
 * Messages keep their {@code key=value} pairs.
 */
public final class JsonLayout extends LayoutBase<ILoggingEvent> {
  private static final JsonFactory JSON = new JsonFactory();

  @Override
  public String doLayout(ILoggingEvent event) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("time", Instant.ofEpochMilli(event.getTimeStamp()).toString());
      g.writeStringField("level", event.getLevel().toString());
      g.writeStringField("logger", event.getLoggerName());
      g.writeStringField("thread", event.getThreadName());
      g.writeStringField("message", event.getFormattedMessage());
      String node = getContext() == null ? null : getContext().getProperty(LogFields.NODE);
      if (node != null) {
        g.writeStringField("node", node);
      }
      String epoch = getContext() == null ? null : getContext().getProperty(LogFields.EPOCH);
      if (epoch != null) {
        g.writeNumberField("epoch", Long.parseLong(epoch));
      }
      Map<String, String> mdc = event.getMDCPropertyMap();
      if (mdc != null) {
        for (Map.Entry<String, String> e : mdc.entrySet()) {
          g.writeStringField(e.getKey(), e.getValue());
        }
      }
      IThrowableProxy thrown = event.getThrowableProxy();
      if (thrown != null) {
        g.writeStringField("exception", ThrowableProxyUtil.asString(thrown));
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.append('\n').toString();
  }
}
