package ringkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import ringkv.client.RingKvClient;
import ringkv.client.Session;

/*
 * Goal: the bench measures its own CPU around a measured phase: the whole JVM's, and the part
 * of it the client library's event loop threads used, which is at most the whole.
 *
 * Method: a window around work the test does itself: CPU burnt on the calling thread (a loop
 * whose result is used), and requests through a client to an in-process CeilingServer, whose
 * threads belong to the same JVM (so the JVM's figure includes them too).
 */
class ClientCpuWindowTest {
  @Test
  void measuresTheJvmAndTheClientsEventLoops() throws Exception {
    CeilingServer server = new CeilingServer(new InetSocketAddress("127.0.0.1", 0), 10);
    try (RingKvClient client = RingKvClient.builder("127.0.0.1:" + server.port()).build()) {
      int[] opened = new int[1];
      ClientCpuWindow window = new ClientCpuWindow(new LoadRunner.MeasureWindow() {
        @Override
        public void open() {
          opened[0]++;
        }

        @Override
        public void close() {
          opened[0]++;
        }
      });
      window.open();
      long sink = 0;
      for (int i = 0; i < 20_000_000; i++) {
        sink += Long.numberOfTrailingZeros(i * 31L + sink);
      }
      Session session = new Session();
      for (int i = 0; i < 500; i++) {
        client.getBlocking(session, "user" + i);
      }
      window.close();
      assertEquals(2, opened[0], "the inner window was opened and closed");
      ClientCpuWindow.Used used = window.used();
      assertTrue(used.processNanos() > 0, used + " " + sink);
      assertTrue(used.ioThreadNanos() > 0, "the event loop sent 500 requests: " + used);
      assertTrue(used.ioThreadNanos() <= used.processNanos(), used.toString());
      assertTrue(used.jitMs() >= 0 && used.gcMs() >= 0, used.toString());
    } finally {
      server.close();
    }
  }
}
