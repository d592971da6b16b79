package ringkv.tests.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Headless Chromium (Debian's {@code chromium} package, which {@code .ci/run} installs) run once
 * per page load: {@link #dumpDom} prints the DOM after the page's scripts ran, {@link #screenshot}
 * saves a PNG. Each run gets a fresh profile directory, the flags that keep Chromium off the
 * network (it would otherwise call Google's services, which this machine refuses), and a
 * deadline: on the deadline, or if anything fails, the browser and every process it started are
 * killed, and the profile is deleted. {@code --virtual-time-budget} lets the page's timers and
 * fetches run (virtual time stops while a fetch is pending) before the DOM or picture is taken.
 *
 * <p>Stateless; thread-safe.
 */
public final class Chromium {
  /** How long one page load may take, Chromium's start included, on a busy 2-core machine. */
  public static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);
  /** Virtual time the page gets before the DOM or picture is taken (timers and fetches run). */
  public static final int VIRTUAL_TIME_BUDGET_MS = 5_000;
  private static final List<String> FLAGS = List.of("--headless", "--no-sandbox",
      "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-extensions",
      "--disable-default-apps", "--hide-scrollbars", "--mute-audio");

  private final String executable;
  private final Path logDir;

  private Chromium(String executable, Path logDir) {
    this.executable = executable;
    this.logDir = logDir;
  }

  /**
   * The machine's Chromium; aborts the calling test (a JUnit assumption, so it is reported as
   * skipped with the reason) when there is none. {@code logDir} receives Chromium's stderr.
   */
  public static Chromium assumeInstalled(String tests, Path logDir) {
    Optional<String> found = Commands.which("chromium")
        .or(() -> Commands.which("chromium-browser"));
    Assumptions.assumeTrue(found.isPresent(), tests + " need headless Chromium, and no "
        + "chromium is on the PATH (Debian: apt-get install chromium; .ci/run installs it)");
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Chromium(found.get(), logDir);
  }

  /** The DOM of {@code url} after its scripts ran, as Chromium serialises it. */
  public String dumpDom(String url, String name) {
    Path out = logDir.resolve(name + ".html");
    run(List.of("--dump-dom", "--virtual-time-budget=" + VIRTUAL_TIME_BUDGET_MS, url), out,
        name);
    try {
      return Files.readString(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Saves a picture of {@code url} (viewport {@code width}×{@code height}) to {@code png}. */
  public void screenshot(String url, Path png, int width, int height, String name) {
    try {
      Files.createDirectories(png.toAbsolutePath().getParent());
      Files.deleteIfExists(png);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    run(List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height,
        "--virtual-time-budget=" + VIRTUAL_TIME_BUDGET_MS, url), logDir.resolve(name + ".out"),
        name);
    if (!Files.isRegularFile(png)) {
      throw new AssertionError("Chromium wrote no screenshot to " + png + "; see "
          + logDir.resolve(name + ".log"));
    }
  }

  /** Runs Chromium once with {@code args}: stdout to {@code out}, stderr to a log. */
  private void run(List<String> args, Path out, String name) {
    Path profile = null;
    Process p = null;
    Path log = logDir.resolve(name + ".log");
    try {
      profile = Files.createTempDirectory("ringkv-chromium-");
      List<String> command = new ArrayList<>();
      command.add(executable);
      command.addAll(FLAGS);
      command.add("--user-data-dir=" + profile);
      command.addAll(args);
      p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(log.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      if (!p.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("Chromium did not finish " + args + " within " + RUN_TIMEOUT
            + "; see " + log);
      }
      if (p.exitValue() != 0) {
        throw new AssertionError("Chromium exited with " + p.exitValue() + " for " + args
            + "; see " + log);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + executable, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while Chromium ran", e);
    } finally {
      stop(p, profile);
      Commands.deleteTree(profile);
    }
  }

  /**
   * Kills the browser if it still runs, with every process it started: its descendants, and any
   * process still using this run's profile directory (a helper that outlived its parent and was
   * re-parented is no descendant any more; the directory's name is unique to this run).
   */
  private static void stop(Process p, Path profile) {
    List<ProcessHandle> left = new ArrayList<>();
    if (p != null) {
      p.descendants().forEach(left::add);
      left.add(p.toHandle());
    }
    if (profile != null) {
      String marker = "--user-data-dir=" + profile;
      ProcessHandle.allProcesses()
          .filter(h -> h.info().arguments().map(a -> List.of(a).contains(marker)).orElse(false))
          .forEach(left::add);
    }
    for (ProcessHandle h : left) {
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
    for (ProcessHandle h : left) {
      Commands.awaitExit(h, Duration.ofSeconds(10));
    }
  }
}
