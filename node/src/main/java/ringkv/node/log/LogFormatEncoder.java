package ringkv.node.log;

import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Layout;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;

/**
 * The encoder of {@code logback.xml}: the text pattern it is given, or one JSON object per line
 * ({@link JsonLayout}) when its format is {@code json}. {@code Main} sets the format from
 * {@code LOG_FORMAT} (validated with the rest of the configuration) before anything logs.
 */
public final class LogFormatEncoder extends LayoutWrappingEncoder<ILoggingEvent> {
  /** The system property that carries {@code LOG_FORMAT} to {@code logback.xml}. */
  public static final String FORMAT_PROPERTY = "ringkv.log.format";

  private String format = "text";
  private String pattern;

  public void setFormat(String format) {
    this.format = format;
  }

  public void setPattern(String pattern) {
    this.pattern = pattern;
  }

  @Override
  public void start() {
    Layout<ILoggingEvent> layout;
    if ("json".equals(format)) {
      layout = new JsonLayout();
    } else {
      PatternLayout text = new PatternLayout();
      text.setPattern(pattern);
      layout = text;
    }
    layout.setContext(getContext());
    layout.start();
    setLayout(layout);
    super.start();
  }
}
