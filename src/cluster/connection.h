// Connection: a ZMQ DEALER connected to one remote Endpoint (a worker's port, or the head's for the last hop).
// The head holds one per worker for control (and, to the first worker, activations); every device holds one to its
// next hop. Every call is bounded in time and returns a Status naming the peer ("worker w2 at 10.0.0.12:9000").
//
// Sends are queued only on an established connection (ZMQ_IMMEDIATE): when the peer is down or unreachable a send
// waits at most `send_timeout`, then fails saying whether the peer was never reached, was lost, or is not reading.
// ZMQ reconnects by itself (100 ms .. 1 s), so a restarted worker is reached again without a new Connection.
//
// Not thread-safe: one thread uses a Connection at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "cluster/transport.h"

namespace prima::cluster {

class Connection {
 public:
  // Starts connecting (returns at once; does not wait for the peer). `peer_name` goes into every error message.
  static Result<Connection> open(std::string_view address, std::string peer_name, TransportOptions opt = {});

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // Stamps the next sequence number and sends. Activations with `values` set are encoded straight into the frame.
  Status send(const Body& body, uint16_t flags = 0);
  // The next message from the peer (replies, Errors, pongs). Status::Code::timeout when none came in time.
  Result<Incoming> recv(Millis timeout);

  // Waits until the connection is established (at most `timeout`).
  Status wait_connected(Millis timeout);
  bool connected();

  uint64_t last_seq() const;               // seq of the last message sent
  const std::string& address() const;      // "10.0.0.12:9000"
  const std::string& name() const;         // "w2"
  std::string describe() const;            // "w2 at 10.0.0.12:9000"

 private:
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace prima::cluster
