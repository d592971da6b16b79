package ringkv.node.peer;

import java.util.Objects;

/**
 * One exchange of the peer protocol: where it is served ({@code POST path}), the codec of the
 * request and of the answer, and the largest request body the receiver reads. Routes are defined
 * once, in {@link PeerProtocol}; the sender calls them through {@link PeerClient} and the
 * receiver mounts them, so path and codecs cannot drift apart.
 */
public record PeerRoute<Q, A>(String path, Codec<Q> request, Codec<A> answer,
    long bodyBytesMax) {
  public PeerRoute {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(answer, "answer");
    if (!path.startsWith(PeerProtocol.PREFIX) || bodyBytesMax < 1) {
      throw new IllegalArgumentException("bad route " + path);
    }
  }
}
