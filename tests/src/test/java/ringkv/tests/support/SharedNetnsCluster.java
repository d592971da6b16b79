package ringkv.tests.support;

import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

/**
 * One {@link NetnsCluster} that a test class's tests share: started on first use rather than in
 * a {@code @BeforeAll}, so that where namespaces are unavailable each test shows as skipped with
 * the reason; healed after each test; closed after the class. Register it in a static
 * {@code @RegisterExtension} field.
 */
public final class SharedNetnsCluster
    implements BeforeEachCallback, AfterEachCallback, AfterAllCallback {
  private final Function<String, NetnsCluster.Builder> builder;
  private NetnsCluster cluster;
  /** Why the cluster cannot run here, once a start was aborted: every test skips with it. */
  private String unavailable;

  /** {@code builder} makes the cluster's builder from the test class's simple name. */
  public SharedNetnsCluster(Function<String, NetnsCluster.Builder> builder) {
    this.builder = builder;
  }

  /** The running cluster (the extension started it before the test). */
  public NetnsCluster cluster() {
    return cluster;
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    Assumptions.assumeTrue(unavailable == null, unavailable);
    if (cluster == null) {
      try {
        cluster = builder.apply(context.getRequiredTestClass().getSimpleName()).start();
      } catch (TestAbortedException e) {
        unavailable = e.getMessage();
        throw e;
      }
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (cluster != null) {
      cluster.heal();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (cluster != null) {
      cluster.close();
    }
  }
}
