package ringkv.client;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.socket.SocketChannel;

/**
 * Netty's native epoll transport, when the application has it on its class path
 * ({@code io.netty:netty-transport-native-epoll}, Linux; the bench has it): fewer system calls
 * and less garbage per request than the JDK's selector. The client depends on its classes
 * optionally, so this class is the only one that names them, and it is loaded only after the
 * check that they are there.
 *
 * <p>Stateless; thread-safe.
 */
final class NativeTransport {
  private NativeTransport() {}

  /** Whether epoll can be used here: its classes and its native library load. */
  static boolean available() {
    try {
      Class.forName("io.netty.channel.epoll.Epoll", false, NativeTransport.class.getClassLoader());
      return Epoll.available();
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  static IoHandlerFactory ioHandlerFactory() {
    return Epoll.ioHandlerFactory();
  }

  static Class<? extends SocketChannel> channelClass() {
    return Epoll.channelClass();
  }

  /** Names the epoll classes; loaded only once they are known to be present. */
  private static final class Epoll {
    static boolean available() {
      return io.netty.channel.epoll.Epoll.isAvailable();
    }

    static IoHandlerFactory ioHandlerFactory() {
      return io.netty.channel.epoll.EpollIoHandler.newFactory();
    }

    static Class<? extends SocketChannel> channelClass() {
      return io.netty.channel.epoll.EpollSocketChannel.class;
    }
  }
}
