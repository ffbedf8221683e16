package io.edgeslm.agent.internal.mqtt;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * Socket factories that turn Nagle's algorithm off ({@code TCP_NODELAY}) on every socket they
 * create. Paho leaves it on; with MQTT's small packets (a streamed answer part, then another before
 * the first was acknowledged at the TCP level) Nagle's coalescing meets the peer's delayed ACK and
 * adds tens of milliseconds per message, which the question-to-first-token benchmark showed (about
 * 80 ms both ways on loopback).
 */
final class NoDelaySocketFactories {

  private NoDelaySocketFactories() {}

  /** Wraps {@code delegate} (null: the platform default for plain TCP). */
  static SocketFactory wrap(SocketFactory delegate) {
    if (delegate instanceof SSLSocketFactory ssl) {
      return new Ssl(ssl);
    }
    return new Plain(delegate == null ? SocketFactory.getDefault() : delegate);
  }

  private static Socket noDelay(Socket s) throws IOException {
    s.setTcpNoDelay(true);
    return s;
  }

  private static final class Plain extends SocketFactory {
    private final SocketFactory d;

    Plain(SocketFactory d) {
      this.d = d;
    }

    @Override
    public Socket createSocket() throws IOException {
      return noDelay(d.createSocket());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return noDelay(d.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress local, int localPort)
        throws IOException {
      return noDelay(d.createSocket(host, port, local, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return noDelay(d.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress local, int localPort)
        throws IOException {
      return noDelay(d.createSocket(address, port, local, localPort));
    }
  }

  private static final class Ssl extends SSLSocketFactory {
    private final SSLSocketFactory d;

    Ssl(SSLSocketFactory d) {
      this.d = d;
    }

    @Override
    public String[] getDefaultCipherSuites() {
      return d.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return d.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket() throws IOException {
      return noDelay(d.createSocket());
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose)
        throws IOException {
      return noDelay(d.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return noDelay(d.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress local, int localPort)
        throws IOException {
      return noDelay(d.createSocket(host, port, local, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return noDelay(d.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress local, int localPort)
        throws IOException {
      return noDelay(d.createSocket(address, port, local, localPort));
    }
  }
}
