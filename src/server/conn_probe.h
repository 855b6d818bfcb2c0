// Notices that an HTTP client has gone away while its request is still being worked on.
//
// cpp-httplib (0.11, Debian 12) runs each connection on one thread of its pool and gives a handler the
// connection's addresses but not its socket; a client that disconnects while its completion is queued, its
// prompt is evaluated, or its non-streaming answer is generated would otherwise only be noticed at the first
// failed write. The probe finds the connection's socket among the process's descriptors by its local and peer
// address (unique among open TCP sockets) and asks poll() whether the peer has hung up (POLLRDHUP: it sent
// FIN or the connection was reset). Without /proc (or without the socket) closed() stays false and a failed
// write is the signal, as before.
#pragma once

#include <string>

namespace prima::server {

class ConnectionProbe {
 public:
  ConnectionProbe() = default;
  ConnectionProbe(const std::string& local_addr, int local_port, const std::string& remote_addr, int remote_port);

  bool found() const { return fd_ >= 0; }
  // True once the peer has closed or reset the connection. Never blocks.
  bool closed() const;
  // Stops reading from the connection: the response still goes out, then the server sees end-of-input and closes
  // it instead of waiting out the keep-alive timeout for a client whose request was unreadable.
  void shutdown_read() const;

 private:
  int fd_ = -1;
};

// Shuts down (both ways) every TCP connection accepted on local port `port` by this process: at server shutdown,
// so threads idling in keep-alive on them return at once. Returns how many were shut.
int shutdown_connections(int port);

}  // namespace prima::server
