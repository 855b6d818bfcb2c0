// Liveness. The head pings every worker from a background thread over connections of its own (so pings are never
// stuck behind a 16 MiB activation message and never wait for the head's compute); each worker's Endpoint I/O
// thread answers at once. From the pongs the head knows the RTT to every worker, and that a worker is gone — process
// killed, machine off, network cut — when none came for `timeout`, naming it. A worker knows that its head is gone
// the same way: no ping of its session for `timeout` (HeadWatch), after which it returns to waiting for a head.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/endpoint.h"
#include "cluster/transport.h"

namespace prima::cluster {

struct HeartbeatOptions {
  Millis interval{500};  // between pings
  Millis timeout{3000};  // silence after which a peer counts as gone
};

struct PeerHealth {
  std::string name;
  std::string address;
  bool alive = true;
  double silent_s = 0;       // since the last pong (or since watching began)
  double last_rtt_ms = -1;   // -1 = no pong yet
  double min_rtt_ms = -1;
  double median_rtt_ms = -1; // over the last 64 pongs
  uint64_t pings = 0;
  uint64_t pongs = 0;
  std::string problem;       // why the connection is not up, or an Error the peer sent, "" if none
};

class HeartbeatMonitor {
 public:
  explicit HeartbeatMonitor(uint64_t session, HeartbeatOptions hb = {}, TransportOptions opt = {});
  ~HeartbeatMonitor();
  HeartbeatMonitor(const HeartbeatMonitor&) = delete;
  HeartbeatMonitor& operator=(const HeartbeatMonitor&) = delete;

  // Starts pinging `address`; the silence clock starts now. `name` ("worker w2") goes into errors.
  void watch(std::string name, std::string address);
  void unwatch(const std::string& name);

  // OK while every watched peer answered within the timeout; else Status::Code::closed naming the first that did
  // not: "worker w2 at 10.0.0.12:9000 is gone: no heartbeat reply for 3.1 s (last RTT 6.2 ms)".
  Status check() const;
  std::vector<PeerHealth> health() const;
  std::optional<PeerHealth> health(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Worker side: is the head of `session` still pinging this endpoint?
class HeadWatch {
 public:
  HeadWatch(const Endpoint& ep, uint64_t session, std::string head_desc, Millis timeout);
  // Status::Code::closed "head h1 at 10.0.0.1 is gone: no heartbeat for 3.0 s" once silent for the timeout.
  Status check() const;
  bool gone() const { return !check().is_ok(); }

 private:
  const Endpoint* ep_;
  uint64_t session_;
  std::string desc_;
  Millis timeout_;
  int64_t since_ns_;
};

}  // namespace prima::cluster
