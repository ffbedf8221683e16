package io.edgeslm.testkit.internal.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Loopback port helpers. */
public final class Ports {
  private Ports() {}

  /**
   * A port that was free on 127.0.0.1 a moment ago. Another process may still take it before the
   * caller binds; callers that start a server retry on a bind failure.
   */
  public static int freeLoopbackPort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("Could not reserve a loopback port", e);
    }
  }

  /** True if something accepts TCP connections on {@code host:port} within {@code timeoutMs}. */
  public static boolean accepts(String host, int port, int timeoutMs) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), timeoutMs);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
