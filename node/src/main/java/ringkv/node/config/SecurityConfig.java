package ringkv.node.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import ringkv.node.config.NodeConfig.BadConfigException;

/**
 * The secrets and TLS files of a node, read once at start: {@code CLUSTER_SECRET} (peer
 * authentication), {@code CLUSTER_SECRET_PREVIOUS} (also accepted, during a rotation),
 * {@code ADMIN_TOKEN} (routes that change the cluster), {@code CLIENT_TOKEN} (key-value routes),
 * each from its variable or from the file its {@code _FILE} variable names — never from a flag,
 * which {@code ps} shows to every user of the machine; and {@code TLS_CERT}, {@code TLS_KEY},
 * {@code TLS_CA}, {@code TLS_CLIENT_AUTH}.
 *
 * <p>Its string form says which secrets are set, never their values; nothing else of this class
 * hands them out but the accessors the authenticators use.
 */
public final class SecurityConfig {
  /** Fewer bytes than this make a secret or token a password, not a key. */
  public static final int SECRET_BYTES_MIN = 16;
  /** Variables read here (each secret also as NAME_FILE); none of them exists as a flag. */
  static final List<String> SECRETS =
      List.of("CLUSTER_SECRET", "CLUSTER_SECRET_PREVIOUS", "ADMIN_TOKEN", "CLIENT_TOKEN");
  static final List<String> TLS = List.of("TLS_CERT", "TLS_KEY", "TLS_CA", "TLS_CLIENT_AUTH");

  /** Whether peers must present a certificate signed by {@code TLS_CA}. */
  public enum ClientAuth { NONE, REQUIRED }

  private final byte[] clusterSecret;
  private final byte[] clusterSecretPrevious;
  private final byte[] adminToken;
  private final byte[] clientToken;
  private final Path tlsCert;
  private final Path tlsKey;
  private final Path tlsCa;
  private final ClientAuth clientAuth;

  private SecurityConfig(byte[] clusterSecret, byte[] clusterSecretPrevious, byte[] adminToken,
      byte[] clientToken, Path tlsCert, Path tlsKey, Path tlsCa, ClientAuth clientAuth) {
    this.clusterSecret = clusterSecret;
    this.clusterSecretPrevious = clusterSecretPrevious;
    this.adminToken = adminToken;
    this.clientToken = clientToken;
    this.tlsCert = tlsCert;
    this.tlsKey = tlsKey;
    this.tlsCa = tlsCa;
    this.clientAuth = clientAuth;
  }

  /** Nothing set: an open cluster over plain HTTP. */
  public static final SecurityConfig OPEN =
      new SecurityConfig(null, null, null, null, null, null, null, ClientAuth.NONE);

  static SecurityConfig parse(Map<String, String> s) {
    byte[] cluster = secret(s, "CLUSTER_SECRET");
    byte[] previous = secret(s, "CLUSTER_SECRET_PREVIOUS");
    byte[] admin = secret(s, "ADMIN_TOKEN");
    byte[] client = secret(s, "CLIENT_TOKEN");
    if (cluster == null && previous != null) {
      throw new BadConfigException("CLUSTER_SECRET_PREVIOUS needs CLUSTER_SECRET");
    }
    if (cluster == null && (admin != null || client != null)) {
      // Without peer authentication anyone can forge the internal requests these routes send.
      throw new BadConfigException((admin != null ? "ADMIN_TOKEN" : "CLIENT_TOKEN")
          + " needs CLUSTER_SECRET: without it the internal routes, open to anyone, do what the"
          + " token guards");
    }
    Path cert = file(s, "TLS_CERT");
    Path key = file(s, "TLS_KEY");
    Path ca = file(s, "TLS_CA");
    if ((cert == null) != (key == null)) {
      throw new BadConfigException("TLS_CERT and TLS_KEY go together");
    }
    if (cert == null && ca != null) {
      throw new BadConfigException("TLS_CA needs TLS_CERT and TLS_KEY (this node's own)");
    }
    ClientAuth auth = clientAuth(s.get("TLS_CLIENT_AUTH"));
    if (auth == ClientAuth.REQUIRED && ca == null) {
      throw new BadConfigException("TLS_CLIENT_AUTH=required needs TLS_CA");
    }
    return new SecurityConfig(cluster, previous, admin, client, cert, key, ca, auth);
  }

  private static byte[] secret(Map<String, String> s, String name) {
    String inline = s.get(name);
    String path = s.get(name + "_FILE");
    if (inline != null && !inline.isBlank() && path != null && !path.isBlank()) {
      throw new BadConfigException(name + " and " + name + "_FILE are both set");
    }
    String text = inline;
    if (path != null && !path.isBlank()) {
      try {
        text = Files.readString(Path.of(path.trim()), StandardCharsets.UTF_8);
      } catch (IOException | RuntimeException e) {
        throw new BadConfigException(name + "_FILE: cannot read " + path.trim() + " ("
            + e.getClass().getSimpleName() + ")");
      }
    }
    if (text == null || text.isBlank()) {
      return null;
    }
    byte[] bytes = text.strip().getBytes(StandardCharsets.UTF_8);
    if (bytes.length < SECRET_BYTES_MIN) {
      throw new BadConfigException(name + " is shorter than " + SECRET_BYTES_MIN
          + " bytes (e.g. head -c 32 /dev/urandom | base64)");
    }
    return bytes;
  }

  private static Path file(Map<String, String> s, String name) {
    String raw = s.get(name);
    if (raw == null || raw.isBlank()) {
      return null;
    }
    Path path = Path.of(raw.trim());
    if (!Files.isReadable(path)) {
      throw new BadConfigException(name + ": cannot read " + path);
    }
    return path;
  }

  private static ClientAuth clientAuth(String raw) {
    if (raw == null || raw.isBlank()) {
      return ClientAuth.NONE;
    }
    return switch (raw.trim().toLowerCase(Locale.ROOT)) {
      case "none" -> ClientAuth.NONE;
      case "required" -> ClientAuth.REQUIRED;
      default -> throw new BadConfigException("TLS_CLIENT_AUTH=\"" + raw
          + "\" is neither none nor required");
    };
  }

  /** Whether peers authenticate each other ({@code CLUSTER_SECRET} set). */
  public boolean peersAuthenticated() {
    return clusterSecret != null;
  }

  /** The secret this node signs with; empty in an open cluster. */
  public Optional<byte[]> clusterSecret() {
    return Optional.ofNullable(clusterSecret).map(byte[]::clone);
  }

  /** The secret also accepted during a rotation. */
  public Optional<byte[]> clusterSecretPrevious() {
    return Optional.ofNullable(clusterSecretPrevious).map(byte[]::clone);
  }

  public Optional<byte[]> adminToken() {
    return Optional.ofNullable(adminToken).map(byte[]::clone);
  }

  public Optional<byte[]> clientToken() {
    return Optional.ofNullable(clientToken).map(byte[]::clone);
  }

  /** Whether this node serves HTTPS (and calls its peers over HTTPS). */
  public boolean tls() {
    return tlsCert != null;
  }

  public Optional<Path> tlsCert() {
    return Optional.ofNullable(tlsCert);
  }

  public Optional<Path> tlsKey() {
    return Optional.ofNullable(tlsKey);
  }

  public Optional<Path> tlsCa() {
    return Optional.ofNullable(tlsCa);
  }

  public ClientAuth clientAuth() {
    return clientAuth;
  }

  /** Whether nothing protects this node: no peer authentication and no TLS. */
  public boolean open() {
    return clusterSecret == null;
  }

  /** What is set, for the start line: never a secret's value. */
  @Override
  public String toString() {
    return "CLUSTER_SECRET=" + set(clusterSecret)
        + " CLUSTER_SECRET_PREVIOUS=" + set(clusterSecretPrevious)
        + " ADMIN_TOKEN=" + set(adminToken) + " CLIENT_TOKEN=" + set(clientToken)
        + " TLS=" + (tlsCert == null ? "off" : "on")
        + " TLS_CA=" + (tlsCert == null ? "-" : tlsCa == null ? "(system)" : tlsCa)
        + " TLS_CLIENT_AUTH=" + clientAuth.name().toLowerCase(Locale.ROOT);
  }

  private static String set(byte[] secret) {
    return secret == null ? "(unset)" : "(set)";
  }
}
