// Endpoint: the one listening port of a device (a ZMQ ROUTER bound to --listen, default port 9000). A worker gets
// control from its head and activations from its ring predecessor on it; the head gets the last hop back on its own.
//
// A background I/O thread owns the socket, so the device stays responsive while it computes:
//  - it answers heartbeat pings at once (the head measures RTT and liveness from them, heartbeat.h) and notes when
//    each session last pinged (last_ping_ns: how a worker learns that its head went away);
//  - it decodes every message; one that does not decode is answered with an Error naming the problem (an
//    unsupported protocol version gets ErrorCode::version with both versions) and recv() reports it;
//  - it queues decoded messages for recv() up to TransportOptions::recv_backlog_bytes, then stops reading so that
//    TCP pushes back on the senders.
// recv() and send() may be called from different threads (or the same one).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/transport.h"

namespace prima::cluster {

class Endpoint {
 public:
  // Binds `address` ("0.0.0.0:9000"; port 0 = any free port). `name` (this device) appears in log lines.
  static Result<Endpoint> listen(std::string_view address, std::string name = "", TransportOptions opt = {});

  Endpoint(Endpoint&&) noexcept;
  Endpoint& operator=(Endpoint&&) noexcept;
  ~Endpoint();

  // The next message from any peer. Status::Code::timeout when none came in time; Status::Code::protocol (naming
  // the sender's IP) for a message that did not decode — the sender has already been told.
  Result<Incoming> recv(Millis timeout);

  // Sends to a peer by routing identity (Incoming::peer). Fails at once when that peer is not connected.
  Status send(const std::string& peer, const Body& body, uint16_t flags = 0);
  Status reply_error(const Incoming& to, ErrorCode code, std::string text);

  // Steady-clock time (core/clock.h now_ns) of the last ping of `session`, answered by the I/O thread.
  std::optional<int64_t> last_ping_ns(uint64_t session) const;
  // ... and of the last message of any kind from a routing identity.
  std::optional<int64_t> last_heard_ns(const std::string& peer) const;
  uint64_t pings_answered() const;

  const std::string& address() const;  // as bound, with the real port: "0.0.0.0:41234"
  uint16_t port() const;

 private:
  struct Impl;
  explicit Endpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace prima::cluster
