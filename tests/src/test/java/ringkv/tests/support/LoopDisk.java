package ringkv.tests.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import ringkv.tests.support.Commands.Result;

/**
 * A small ext4 file system in an image file, loop-mounted, whose power can be cut: the disk of
 * a simulated machine for power-loss tests.
 *
 * <p><b>What a power loss keeps.</b> The file system is mounted with {@code commit=60}: its
 * journal commits every 60 s, and its dirty pages (data and metadata) stay in the kernel's page
 * cache of the mounted file system until they expire (30 s), or until a process syncs them (an
 * fsync goes down through the loop device, which writes into the image file and flushes it).
 * {@link #powerCycle()} copies the <em>image file</em>: a copy reads the image through its own
 * page cache, which holds exactly what the loop device wrote, and nothing of the mounted file
 * system's pages that were never written back, nor of the loop device's own buffer cache (so the
 * copy is of the image, never of {@code /dev/loopN}). Neither {@code losetup --direct-io} nor
 * dropping caches is needed for that. The copy is then mounted in place of the original (the
 * journal replays), as after a reboot; the original, with its unwritten pages, is discarded.
 * The copy is taken after every process using the disk was killed, so nothing but the kernel's
 * own writeback (of pages that would have reached the disk anyway) can run during it.
 *
 * <p><b>Cleanup.</b> {@link #close()} unmounts, detaches and deletes everything, also after a
 * failure. Images live in {@code /var/tmp/ringkv-disk-<jvm pid>-<n>/}; a JVM that was killed
 * before its cleanup leaves one behind, and the next {@link #create} removes those of dead JVMs
 * (unmount, detach, delete).
 *
 * <p>Needs root, {@code losetup}, {@code mkfs.ext4} (e2fsprogs), {@code mount}; elsewhere
 * {@link #create} aborts the calling test with a JUnit assumption that says what is missing.
 * Not thread-safe.
 */
public final class LoopDisk implements AutoCloseable {
  private static final Path ROOT = Paths.get("/var/tmp");
  private static final Pattern OURS = Pattern.compile("ringkv-disk-(\\d+)-\\d+");
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
  private static final String TESTS = "power-loss tests";
  private static int created;

  private final Path dir;
  private final Path image;
  private final Path mountPoint;
  private final long bytes;
  private final Map<String, String> tools;
  private String loopDevice;
  private boolean mounted;
  private int powerCycles;

  private LoopDisk(Path dir, long bytes, Map<String, String> tools) {
    this.dir = dir;
    this.image = dir.resolve("disk.img");
    this.mountPoint = dir.resolve("mnt");
    this.bytes = bytes;
    this.tools = tools;
  }

  /**
   * A new, formatted and mounted disk of {@code bytes} (a sparse image); aborts the calling test
   * (assumption) where this machine cannot make one.
   */
  public static LoopDisk create(long bytes) {
    Commands.assumeRoot(TESTS, "losetup and mount");
    Map<String, String> tools = Commands.assumeTools(TESTS,
        "apt-get install e2fsprogs util-linux mount",
        List.of("losetup", "mkfs.ext4", "mount", "umount", "cp"));
    removeLeftoversOfDeadJvms(tools);
    Path dir = ROOT.resolve("ringkv-disk-" + ProcessHandle.current().pid() + "-" + created++);
    LoopDisk disk = new LoopDisk(dir, bytes, tools);
    Commands.closeOnFailure(disk::close, () -> {
      Files.createDirectories(disk.mountPoint);
      run("truncate", "-s", Long.toString(bytes), disk.image.toString());
      // Initialized now, so that no background thread writes to the disk later on.
      run(tools.get("mkfs.ext4"), "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0",
          disk.image.toString());
      disk.attachAndMount(true);
    });
    return disk;
  }

  private static Result run(String... command) {
    return Commands.run(COMMAND_TIMEOUT, command).checked(String.join(" ", command));
  }

  /** Attaches the image to a free loop device and mounts it; a first failure is environmental. */
  private void attachAndMount(boolean first) {
    Result attach = Commands.run(COMMAND_TIMEOUT, tools.get("losetup"), "--find", "--show",
        image.toString());
    if (first) {
      Assumptions.assumeTrue(attach.ok(), TESTS + " need loop devices: losetup --find failed: "
          + attach.output().strip());
    }
    loopDevice = attach.checked("losetup").lines().get(0);
    Result mount = Commands.run(COMMAND_TIMEOUT, tools.get("mount"), "-t", "ext4", "-o",
        "commit=60", loopDevice, mountPoint.toString());
    if (first && !mount.ok()) {
      detach();
      Assumptions.abort(TESTS + " need to mount ext4 on a loop device: " + mount.output().strip());
    }
    mount.checked("mount " + loopDevice);
    mounted = true;
  }

  /** Where the file system is mounted: put the nodes' DATA_DIR under it. */
  public Path mountPoint() {
    return mountPoint;
  }

  /**
   * Cuts the power: keeps only what reached the device (a copy of the image, see the class doc),
   * throws the rest away, and mounts that copy at the same place (its journal replays), as
   * after a reboot. Kill every process that uses the disk first (SIGKILL: nothing may sync).
   */
  public void powerCycle() {
    Path copy = dir.resolve("after-power-loss-" + ++powerCycles + ".img");
    run(tools.get("cp"), "--sparse=always", image.toString(), copy.toString());
    unmountAndDetach();
    try {
      Files.move(copy, image, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    attachAndMount(false);
  }

  private void unmountAndDetach() {
    if (mounted) {
      Result umount = Commands.run(COMMAND_TIMEOUT, tools.get("umount"), mountPoint.toString());
      if (!umount.ok()) { // still busy (a process we did not start?): detach it lazily
        Commands.run(COMMAND_TIMEOUT, tools.get("umount"), "-l", mountPoint.toString())
            .checked("umount -l " + mountPoint);
      }
      mounted = false;
    }
    detach();
  }

  private void detach() {
    if (loopDevice != null) {
      Commands.run(COMMAND_TIMEOUT, tools.get("losetup"), "-d", loopDevice)
          .checked("losetup -d " + loopDevice);
      loopDevice = null;
    }
  }

  /** Unmounts, detaches and deletes the disk. Idempotent. */
  @Override
  public void close() {
    try {
      unmountAndDetach();
    } finally {
      Commands.deleteTree(dir);
    }
  }

  /** Disks of test JVMs that died before their cleanup: unmounted, detached, deleted. */
  private static void removeLeftoversOfDeadJvms(Map<String, String> tools) {
    for (Path dir : Commands.leftoversOfDeadJvms(ROOT, OURS)) {
      Path mnt = dir.resolve("mnt");
      Commands.run(COMMAND_TIMEOUT, tools.get("umount"), "-l", mnt.toString());
      Result attached = Commands.run(COMMAND_TIMEOUT, tools.get("losetup"), "-j",
          dir.resolve("disk.img").toString());
      for (String line : attached.lines()) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          Commands.run(COMMAND_TIMEOUT, tools.get("losetup"), "-d", line.substring(0, colon));
        }
      }
      System.err.println("removed the power-loss disk " + dir + " of a test JVM that died");
      Commands.deleteTree(dir);
    }
  }

  @Override
  public String toString() {
    return "LoopDisk{" + image + " on " + loopDevice + " at " + mountPoint + " " + bytes
        + " bytes}";
  }
}
