package ringkv.tests.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Process plumbing the cluster harnesses share ({@link NetnsCluster}, {@link ContainerEngine},
 * {@link ContainerCluster} and the container tests): running a short command with a deadline and
 * capturing its output, waiting for a process to exit, finding tools and the node jar, skipping a
 * test (JUnit assumption) when this machine lacks root or a tool, and closing a half-built
 * harness when its setup fails. Stateless; thread-safe.
 */
public final class Commands {
  /** Where tools are looked for after the {@code PATH}. */
  private static final List<String> SEARCH_PATH =
      List.of("/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");
  /** Prefix of the temporary files that hold a command's output ({@code <prefix><jvm pid>-}). */
  static final String OUTPUT_FILE_PREFIX = "ringkv-cmd-";

  private Commands() {}

  /** Result of a command: exit code (-1: did not finish) and its merged output. */
  public record Result(int code, String output) {
    public boolean ok() {
      return code == 0;
    }

    /** This result; throws an {@link AssertionError} naming {@code what} unless it exited 0. */
    public Result checked(String what) {
      if (code != 0) {
        throw new AssertionError(what + " failed (" + code + "): " + output);
      }
      return this;
    }

    /** The output's non-blank lines, stripped. */
    public List<String> lines() {
      return output.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
  }

  /** Setup that may fail with an {@link IOException}. */
  @FunctionalInterface
  public interface Setup {
    void run() throws IOException;
  }

  /**
   * Runs {@code setup}; if it throws, runs {@code close} first (so that nothing the setup started
   * outlives the failure) and rethrows, an {@link IOException} as {@link UncheckedIOException}.
   * {@code close} must not throw.
   */
  public static void closeOnFailure(Runnable close, Setup setup) {
    try {
      setup.run();
    } catch (IOException e) {
      close.run();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      close.run();
      throw e;
    }
  }

  /** Runs a command with no input (see {@link #runWithEnv}). */
  public static Result run(Duration timeout, String... command) {
    return runWithEnv(timeout, Map.of(), command);
  }

  /** Runs a command with no input, the environment of this JVM plus {@code env}. */
  public static Result runWithEnv(Duration timeout, Map<String, String> env,
      String... command) {
    return run(timeout, ProcessBuilder.Redirect.from(new java.io.File("/dev/null")), null, env,
        command);
  }

  /** Runs a command with its standard input read from the file {@code input}. */
  public static Result runWithInputFile(Duration timeout, Path input, String... command) {
    return run(timeout, ProcessBuilder.Redirect.from(input.toFile()), null, Map.of(), command);
  }

  /** Runs a command with {@code input} written to its standard input. */
  public static Result runWithInput(Duration timeout, String input, String... command) {
    return run(timeout, ProcessBuilder.Redirect.PIPE, input, Map.of(), command);
  }

  /**
   * Runs a command with a deadline: its output (stdout and stderr merged) goes to a temporary
   * file, so a child that keeps the output open (a daemon a script starts) cannot block the
   * read. On the deadline the command and its descendants are killed and the result is -1.
   */
  private static Result run(Duration timeout, ProcessBuilder.Redirect input, String text,
      Map<String, String> env, String... command) {
    Path out = null;
    try {
      out = Files.createTempFile(OUTPUT_FILE_PREFIX + ProcessHandle.current().pid() + "-",
          ".out");
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(out.toFile()).redirectInput(input);
      pb.environment().putAll(env);
      Process p = pb.start();
      if (input == ProcessBuilder.Redirect.PIPE) {
        try (var in = p.getOutputStream()) {
          in.write(text.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        awaitExit(p.toHandle(), Duration.ofSeconds(10));
        return new Result(-1, String.join(" ", command) + " took over " + timeout + ":\n"
            + Files.readString(out, StandardCharsets.UTF_8));
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Result(-1, String.join(" ", command) + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, String.join(" ", command) + ": interrupted");
    } finally {
      deleteQuietly(out);
    }
  }

  /** Waits up to {@code timeout} for a killed process to exit; says so on stderr if it does not. */
  public static void awaitExit(ProcessHandle p, Duration timeout) {
    try {
      p.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      System.err.println("process " + p.pid() + " survived SIGKILL for " + timeout);
    }
  }

  /** Deletes a file if it exists; a failure is only reported (stderr). */
  public static void deleteQuietly(Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      System.err.println("cannot delete " + file + ": " + e);
    }
  }

  /**
   * Deletes {@code dir} and everything below it, deepest first; a missing (or null) directory is
   * nothing to do, and a failure is only reported (stderr): cleanup must not fail a test.
   */
  public static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(Commands::deleteQuietly);
    } catch (IOException e) {
      System.err.println("cannot delete " + dir + ": " + e);
    }
  }

  /**
   * Entries of {@code dir} whose name matches {@code pattern}, the pattern's first group being
   * the pid of a JVM that no longer runs: what a killed test JVM left behind.
   */
  public static List<Path> leftoversOfDeadJvms(Path dir, Pattern pattern) {
    List<Path> dead = new ArrayList<>();
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path p : entries.toList()) {
        if (ofDeadJvm(pattern.matcher(p.getFileName().toString()))) {
          dead.add(p);
        }
      }
    } catch (IOException e) {
      System.err.println("cannot list " + dir + ": " + e);
    }
    return dead;
  }

  /** Whether {@code m} matches and its first group is the pid of no running process. */
  static boolean ofDeadJvm(Matcher m) {
    return m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty();
  }

  /** The absolute path of {@code tool}: on the {@code PATH}, else in the usual directories. */
  public static Optional<String> which(String tool) {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(":")));
    }
    dirs.addAll(SEARCH_PATH);
    return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Paths.get(d, tool))
        .filter(Files::isExecutable).map(Path::toString).findFirst();
  }

  /**
   * Aborts the calling test unless it runs as root: "{@code <tests>} need root ({@code why})".
   */
  static void assumeRoot(String tests, String why) {
    boolean root = false;
    try {
      root = ((Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      Assumptions.abort("cannot tell the user id (" + e + "); " + tests + " need root");
    }
    Assumptions.assumeTrue(root, tests + " need root (" + why + ")");
  }

  /**
   * The absolute path of each tool in {@code required}, by name; aborts the calling test, naming
   * the missing ones and how to install them ({@code install}), when any is not found.
   */
  static Map<String, String> assumeTools(String tests, String install,
      Collection<String> required) {
    List<String> missing = new ArrayList<>();
    Map<String, String> found = new LinkedHashMap<>();
    for (String tool : required) {
      which(tool).ifPresentOrElse(p -> found.put(tool, p), () -> missing.add(tool));
    }
    Assumptions.assumeTrue(missing.isEmpty(), tests + " need " + missing + " on the PATH ("
        + install + ")");
    return found;
  }

  /** The node jar {@code mvn package} built (system property {@code kvs.jar}). */
  public static Path requireJar() {
    String property = System.getProperty("kvs.jar");
    if (property == null) {
      throw new IllegalStateException("system property kvs.jar is not set (surefire sets it to"
          + " node/target/kvs-node.jar); run mvn -B package first");
    }
    Path path = Paths.get(property).toAbsolutePath().normalize();
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException("node jar " + path + " does not exist: run mvn -B package"
          + " first (or mvn -B verify from the repository root)");
    }
    return path;
  }

  /** The repository's root directory (where the node jar's module lies). */
  public static Path repository() {
    return requireJar().getParent().getParent().getParent();
  }
}
