package ringkv.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import ringkv.node.config.NodeConfig;
import ringkv.node.api.HealthRoutes;
import ringkv.ring.NodeAddress;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/*
 * Goal: the Kubernetes manifests (deploy/kubernetes/) are valid and agree with the node and the
 * image, without a cluster (none runs here or in CI).
 *
 * Method: each manifest is read strictly into the fabric8 Kubernetes model (8.0.0), chosen by
 * its apiVersion and kind: duplicate keys, scalars of the wrong type and trailing documents
 * fail. The model keeps fields it does not know in "additionalProperties" maps (fabric8's
 * Serialization does the same and adds a module that also parks mistyped values there), so the
 * test walks every object read and fails on any such field; a mutated manifest (a misspelt
 * field, a wrong type) shows the check bites. Then what must agree is checked: the headless
 * Service is the StatefulSet's serviceName with clusterIP None; selectors match the pod labels;
 * probes use the node's health paths (HealthRoutes) on the container's port, the one in
 * SOCKET_ADDRESS; the pod's environment, expanded as the kubelet does for every ordinal, is
 * accepted by the node's own parser (NodeConfig) and names every replica in VIEW; DATA_DIR is
 * the data volume's mount; the user is the Dockerfile's; the secrets come from the example
 * Secret's keys; kustomization.yaml lists every manifest. The compose files' health checks are
 * the Dockerfile's command.
 */
class KubernetesManifestsTest {
  private static final Path DIR = Path.of("kubernetes");
  private static final Path REPOSITORY = Path.of("..");
  private static final String KUSTOMIZATION = "kustomization.yaml";
  private static final String EXAMPLE_SECRET = "secret.example.yaml";
  private static final String NAMESPACE = "ns-under-test";

  private static final YAMLMapper YAML = YAMLMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .build();

  /** The kinds the manifests may hold, by "apiVersion kind". */
  private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
      "apps/v1 StatefulSet", StatefulSet.class,
      "v1 Service", Service.class,
      "policy/v1 PodDisruptionBudget", PodDisruptionBudget.class,
      "v1 Secret", Secret.class);

  // ------------------------------------------------------------------------------ reading

  @Test
  void everyManifestBindsStrictlyToTheKubernetesModel() throws IOException {
    List<Path> files = manifests();
    assertTrue(files.size() >= 5, "manifests: " + files);
    for (Path file : files) {
      HasMetadata resource = read(file);
      assertNotNull(resource.getMetadata().getName(), file + " has no name");
    }
  }

  @Test
  void theStrictReadingRejectsMisspeltFieldsAndWrongTypes() throws IOException {
    ObjectNode good = (ObjectNode) YAML.readTree(Files.readString(DIR.resolve("statefulset.yaml")));

    ObjectNode misspelt = good.deepCopy();
    ObjectNode httpGet = (ObjectNode) misspelt.at("/spec/template/spec/containers/0/livenessProbe")
        .get("httpGet");
    httpGet.put("pth", "/health/live");
    AssertionError unknown = assertThrows(AssertionError.class,
        () -> assertNoUnknownFields(YAML.treeToValue(misspelt, StatefulSet.class), "sts"));
    assertTrue(unknown.getMessage().contains("livenessProbe.httpGet.pth"), unknown.getMessage());

    ObjectNode mistyped = good.deepCopy();
    ((ObjectNode) mistyped.get("spec")).put("replicas", "six");
    assertThrows(JacksonException.class, () -> YAML.treeToValue(mistyped, StatefulSet.class));

    String duplicated = Files.readString(DIR.resolve("service-client.yaml"))
        .replace("  type: ClusterIP\n", "  type: ClusterIP\n  type: NodePort\n");
    assertThrows(JacksonException.class, () -> YAML.readValue(duplicated, Service.class));
  }

  @Test
  void kustomizationListsEveryManifestButTheExampleSecret() throws IOException {
    JsonNode k = YAML.readTree(Files.readString(DIR.resolve(KUSTOMIZATION)));
    assertEquals("kustomize.config.k8s.io/v1beta1", k.path("apiVersion").asString());
    assertEquals("Kustomization", k.path("kind").asString());
    assertEquals(new TreeSet<>(List.of("apiVersion", "kind", "resources", "images")),
        new TreeSet<>(k.propertyNames()), "fields of " + KUSTOMIZATION);
    Set<String> listed = new TreeSet<>();
    k.path("resources").forEach(r -> listed.add(r.asString()));
    Set<String> expected = manifests().stream().map(p -> p.getFileName().toString())
        .filter(n -> !n.equals(EXAMPLE_SECRET)).collect(Collectors.toCollection(TreeSet::new));
    assertEquals(expected, listed);
    String image = statefulSet().getSpec().getTemplate().getSpec().getContainers().get(0)
        .getImage();
    assertEquals(image.split(":")[0], k.at("/images/0/name").asString(),
        "the kustomization's image entry names the StatefulSet's image");
  }

  // ------------------------------------------------------------------------------ wiring

  @Test
  void servicesStatefulSetAndBudgetSelectTheSamePods() throws IOException {
    StatefulSet sts = statefulSet();
    Map<String, String> podLabels = sts.getSpec().getTemplate().getMetadata().getLabels();
    assertSelects(sts.getSpec().getSelector().getMatchLabels(), podLabels, "StatefulSet");
    assertEquals("Parallel", sts.getSpec().getPodManagementPolicy());

    Service headless = (Service) read(DIR.resolve("service-headless.yaml"));
    assertEquals(sts.getSpec().getServiceName(), headless.getMetadata().getName());
    assertEquals("None", headless.getSpec().getClusterIP());
    assertEquals(Boolean.TRUE, headless.getSpec().getPublishNotReadyAddresses(),
        "peers must resolve each other's names before they are ready");
    assertSelects(headless.getSpec().getSelector(), podLabels, "headless Service");

    Service client = (Service) read(DIR.resolve("service-client.yaml"));
    assertSelects(client.getSpec().getSelector(), podLabels, "client Service");

    PodDisruptionBudget pdb = (PodDisruptionBudget) read(DIR.resolve("poddisruptionbudget.yaml"));
    assertEquals(new IntOrString(1), pdb.getSpec().getMaxUnavailable());
    assertSelects(pdb.getSpec().getSelector().getMatchLabels(), podLabels, "PodDisruptionBudget");

    int port = nodePort(sts);
    for (Service s : List.of(headless, client)) {
      for (ServicePort p : s.getSpec().getPorts()) {
        assertEquals(port, resolvePort(container(sts), p.getTargetPort()),
            s.getMetadata().getName() + " targets the node's port");
      }
    }
  }

  @Test
  void probesUseTheNodesHealthRoutesOnItsPort() throws IOException {
    StatefulSet sts = statefulSet();
    Container c = container(sts);
    int port = nodePort(sts);
    Map<String, Probe> probes = new LinkedHashMap<>();
    probes.put(HealthRoutes.LIVE_PATH, c.getLivenessProbe());
    probes.put(HealthRoutes.READY_PATH, c.getReadinessProbe());
    probes.put(HealthRoutes.LIVE_PATH + " (startup)", c.getStartupProbe());
    probes.forEach((path, probe) -> {
      assertNotNull(probe, path + " probe missing");
      assertNotNull(probe.getHttpGet(), path + " probe is not an HTTP GET");
      assertEquals(path.split(" ")[0], probe.getHttpGet().getPath());
      assertEquals(port, resolvePort(c, probe.getHttpGet().getPort()), path + " probe port");
      assertTrue(probe.getHttpGet().getHttpHeaders() == null
          || probe.getHttpGet().getHttpHeaders().isEmpty(), "health needs no token");
    });
  }

  @Test
  void everyPodsEnvironmentIsAValidNodeConfigurationNamingEveryReplica() throws IOException {
    StatefulSet sts = statefulSet();
    int replicas = sts.getSpec().getReplicas();
    String domain = sts.getSpec().getServiceName() + "." + NAMESPACE + ".svc.cluster.local";
    int port = nodePort(sts);
    Set<NodeAddress> everyReplica = IntStream.range(0, replicas)
        .mapToObj(i -> new NodeAddress(podName(sts, i) + "." + domain, port))
        .collect(Collectors.toCollection(TreeSet::new));
    for (int i = 0; i < replicas; i++) {
      NodeConfig config = NodeConfig.parse(podEnvironment(sts, i), new String[0]);
      assertEquals(new NodeAddress(podName(sts, i) + "." + domain, port), config.address());
      assertEquals(everyReplica, new TreeSet<>(config.view()), "VIEW of pod " + i);
      assertTrue(config.inView());
      int shards = config.shardCount().orElseThrow();
      assertTrue(replicas / shards >= 2 && replicas % shards == 0,
          replicas + " replicas in " + shards + " shards: at least 2 replicas per shard");
      assertEquals(dataMount(sts).getMountPath(), config.dataDir().orElseThrow().toString(),
          "DATA_DIR is the data volume");
    }
    assertTrue(sts.getSpec().getVolumeClaimTemplates().stream()
        .anyMatch(t -> t.getMetadata().getName().equals(dataMount(sts).getName())),
        "the data mount comes from a volumeClaimTemplate");
  }

  @Test
  void podsRunAsTheImagesUserWithAWritableTmp() throws IOException {
    Matcher user = Pattern.compile("(?m)^USER (\\d+):(\\d+)\\s*$")
        .matcher(Files.readString(REPOSITORY.resolve("Dockerfile")));
    assertTrue(user.find(), "no USER uid:gid in the Dockerfile");
    StatefulSet sts = statefulSet();
    PodSpec pod = sts.getSpec().getTemplate().getSpec();
    PodSecurityContext security = pod.getSecurityContext();
    assertEquals(Long.valueOf(user.group(1)), security.getRunAsUser());
    assertEquals(Long.valueOf(user.group(2)), security.getRunAsGroup());
    assertEquals(Long.valueOf(user.group(2)), security.getFsGroup(), "the volume's group");
    assertEquals(Boolean.TRUE, security.getRunAsNonRoot());
    Container c = container(sts);
    assertEquals(Boolean.FALSE, c.getSecurityContext().getAllowPrivilegeEscalation());
    if (Boolean.TRUE.equals(c.getSecurityContext().getReadOnlyRootFilesystem())) {
      String tmp = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp"))
          .map(VolumeMount::getName).findFirst().orElseThrow(
              () -> new AssertionError("read-only root without a /tmp volume (RocksDB, Vert.x)"));
      assertTrue(pod.getVolumes().stream()
          .anyMatch(v -> v.getName().equals(tmp) && v.getEmptyDir() != null));
    }
    assertNotNull(c.getResources().getRequests().get("memory"));
    assertNotNull(c.getResources().getLimits().get("memory"));
  }

  @Test
  void secretsComeFromTheSecretsKeysAndAreRequired() throws IOException {
    Secret secret = (Secret) read(DIR.resolve(EXAMPLE_SECRET));
    Container c = container(statefulSet());
    for (String variable : List.of("CLUSTER_SECRET", "ADMIN_TOKEN")) {
      EnvVar e = c.getEnv().stream().filter(v -> v.getName().equals(variable)).findFirst()
          .orElseThrow(() -> new AssertionError(variable + " is not set"));
      SecretKeySelector ref = e.getValueFrom().getSecretKeyRef();
      assertEquals(secret.getMetadata().getName(), ref.getName(), variable);
      assertTrue(secret.getStringData().containsKey(ref.getKey()), variable + " key " + ref);
      assertEquals(Boolean.FALSE, ref.getOptional(),
          variable + ": never open for want of a Secret");
    }
  }

  @Test
  void composeHealthChecksRunTheImagesCommand() throws IOException {
    Matcher cmd = Pattern.compile("(?m)^\\s*CMD (\\[.*\\])\\s*$")
        .matcher(Files.readString(REPOSITORY.resolve("Dockerfile")));
    assertTrue(cmd.find(), "no HEALTHCHECK CMD in the Dockerfile");
    List<String> image = new ArrayList<>(List.of(YAML.readValue(cmd.group(1), String[].class)));
    assertTrue(image.get(2).contains(HealthRoutes.READY_PATH), image.toString());
    image.add(0, "CMD");
    List<Path> composeFiles;
    try (Stream<Path> files = Files.list(REPOSITORY)) {
      composeFiles = files.filter(f -> f.getFileName().toString().matches("docker-compose.*\\.yml"))
          .sorted().toList();
    }
    assertFalse(composeFiles.isEmpty());
    for (Path f : composeFiles) {
      Map<?, ?> compose = (Map<?, ?>) new Load(LoadSettings.builder().build())
          .loadFromString(Files.readString(f));
      Map<?, ?> healthcheck = (Map<?, ?>) ((Map<?, ?>) compose.get("x-node")).get("healthcheck");
      assertNotNull(healthcheck, f + " x-node has no healthcheck");
      List<String> test = ((List<?>) healthcheck.get("test")).stream()
          .map(o -> ((String) o).replace("$$", "$")).toList(); // compose's escape of "$"
      assertEquals(image, test, f.toString());
    }
  }

  // ------------------------------------------------------------------------------ helpers

  private static List<Path> manifests() throws IOException {
    try (Stream<Path> files = Files.list(DIR)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".yaml"))
          .filter(f -> !f.getFileName().toString().equals(KUSTOMIZATION)).sorted().toList();
    }
  }

  /** Reads one manifest into the model class of its apiVersion and kind, strictly. */
  private static HasMetadata read(Path file) throws IOException {
    String text = Files.readString(file);
    JsonNode tree = YAML.readTree(text);
    String kind = tree.path("apiVersion").asString() + " " + tree.path("kind").asString();
    Class<? extends HasMetadata> type = KINDS.get(kind);
    assertNotNull(type, file + ": unexpected kind \"" + kind + "\"");
    HasMetadata resource = YAML.readValue(text, type);
    assertNoUnknownFields(resource, file.getFileName().toString());
    return resource;
  }

  private static StatefulSet statefulSet() throws IOException {
    return (StatefulSet) read(DIR.resolve("statefulset.yaml"));
  }

  private static Container container(StatefulSet sts) {
    List<Container> containers = sts.getSpec().getTemplate().getSpec().getContainers();
    assertEquals(1, containers.size());
    return containers.get(0);
  }

  /** The node's port: the one in SOCKET_ADDRESS, which must be the container's port. */
  private static int nodePort(StatefulSet sts) {
    Map<String, String> env = podEnvironment(sts, 0);
    int port = NodeAddress.parse(env.get("SOCKET_ADDRESS")).port();
    List<ContainerPort> ports = container(sts).getPorts();
    assertTrue(ports.stream().anyMatch(p -> p.getContainerPort() == port),
        "SOCKET_ADDRESS port " + port + " is not a container port: " + ports);
    return port;
  }

  /** A probe's or Service's port, by number or by the container port's name. */
  private static int resolvePort(Container c, IntOrString port) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return c.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName()))
        .map(ContainerPort::getContainerPort).findFirst()
        .orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal()));
  }

  private static VolumeMount dataMount(StatefulSet sts) {
    String dataDir = podEnvironment(sts, 0).get("DATA_DIR");
    assertNotNull(dataDir, "DATA_DIR is not set");
    return container(sts).getVolumeMounts().stream()
        .filter(m -> m.getMountPath().equals(dataDir)).findFirst()
        .orElseThrow(() -> new AssertionError("no volume mounted at DATA_DIR " + dataDir));
  }

  private static String podName(StatefulSet sts, int ordinal) {
    return sts.getMetadata().getName() + "-" + ordinal;
  }

  /**
   * The environment pod {@code ordinal} gets, as the kubelet computes it: values in order, each
   * {@code $(NAME)} replaced by an earlier variable's value ({@code $$} is a literal {@code $}),
   * the pod's name and namespace from the downward API; a secret gets a placeholder as long as
   * the example Secret's values (optional ones are left out).
   */
  private static Map<String, String> podEnvironment(StatefulSet sts, int ordinal) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar v : container(sts).getEnv()) {
      if (v.getValueFrom() == null) {
        env.put(v.getName(), expand(v.getValue(), env));
      } else if (v.getValueFrom().getFieldRef() != null) {
        String field = v.getValueFrom().getFieldRef().getFieldPath();
        env.put(v.getName(), switch (field) {
          case "metadata.name" -> podName(sts, ordinal);
          case "metadata.namespace" -> NAMESPACE;
          default -> throw new AssertionError("unexpected field " + field);
        });
      } else {
        SecretKeySelector ref = v.getValueFrom().getSecretKeyRef();
        assertNotNull(ref, v.getName());
        if (!Boolean.TRUE.equals(ref.getOptional())) {
          env.put(v.getName(), "placeholder-of-" + ref.getKey());
        }
      }
    }
    env.forEach((k, value) -> assertFalse(value.contains("$("), k + " unexpanded: " + value));
    return env;
  }

  private static String expand(String value, Map<String, String> earlier) {
    Matcher m = Pattern.compile("\\$\\$|\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)").matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement = m.group(1) == null ? "$" : earlier.getOrDefault(m.group(1), m.group());
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static void assertSelects(Map<String, String> selector, Map<String, String> labels,
      String what) {
    assertTrue(selector != null && !selector.isEmpty(), what + " selects nothing");
    selector.forEach((k, v) -> assertEquals(v, labels.get(k), what + " selector " + k));
  }

  /**
   * Fails naming every field the model did not know: the model's objects collect them in
   * {@code additionalProperties}, at any depth.
   */
  static void assertNoUnknownFields(Object resource, String name) {
    List<String> unknown = new ArrayList<>();
    collectUnknown(resource, name, unknown, new IdentityHashMap<>());
    assertTrue(unknown.isEmpty(), "fields unknown to the Kubernetes model: " + unknown);
  }

  private static void collectUnknown(Object o, String path, List<String> unknown,
      Map<Object, Boolean> seen) {
    if (o == null || seen.put(o, Boolean.TRUE) != null) {
      return;
    }
    if (o instanceof Map<?, ?> map) {
      map.forEach((k, v) -> collectUnknown(v, path + "." + k, unknown, seen));
      return;
    }
    if (o instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        collectUnknown(item, path + "[" + i++ + "]", unknown, seen);
      }
      return;
    }
    if (!o.getClass().getPackageName().startsWith("io.fabric8.")) {
      return; // a scalar
    }
    for (Class<?> c = o.getClass(); c != null && c.getPackageName().startsWith("io.fabric8.");
        c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        Object value = value(f, o);
        if (f.getName().equals("additionalProperties") && value instanceof Map<?, ?> extra) {
          extra.keySet().forEach(k -> unknown.add(path + "." + k));
        } else {
          collectUnknown(value, path + "." + f.getName(), unknown, seen);
        }
      }
    }
  }

  private static Object value(Field f, Object o) {
    try {
      f.setAccessible(true);
      return f.get(o);
    } catch (IllegalAccessException e) {
      throw new AssertionError("cannot read " + f, e);
    }
  }
}
