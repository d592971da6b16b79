package ringkv.bench;

/**
 * A measure window that wraps another: it takes its own samples just before the inner window
 * opens and just after it closes (so the inner window's work falls inside the samples), and
 * passes the inner window's progress through. Subclasses say what they sample.
 *
 * <p>Called from the runner's thread only (progress from the progress thread); not thread-safe.
 */
abstract class SampledWindow implements LoadRunner.MeasureWindow {
  private final LoadRunner.MeasureWindow inner;

  SampledWindow(LoadRunner.MeasureWindow inner) {
    this.inner = inner;
  }

  /** Samples taken as the phase starts, before the inner window opens. */
  abstract void sampleAtOpen();

  /** Samples taken as the phase ends, after the inner window closed. */
  abstract void sampleAtClose();

  @Override
  public final void open() {
    sampleAtOpen();
    inner.open();
  }

  @Override
  public final void close() {
    inner.close();
    sampleAtClose();
  }

  @Override
  public final String progress() {
    return inner.progress();
  }

  /** What a counter grew by between two samples, or -1 when either sample is unknown (-1). */
  static long delta(long start, long end) {
    return start < 0 || end < 0 ? -1 : end - start;
  }
}
