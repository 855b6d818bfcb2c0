// What the ZeroMQ transport (Endpoint, Connection, HeartbeatMonitor) shares: timeouts and limits, and the shape of a
// received message. docs/protocol.md ("Transport") explains the socket options chosen and why.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "cluster/protocol.h"

namespace prima::cluster {

using Millis = std::chrono::milliseconds;

struct TransportOptions {
  Millis send_timeout{5000};       // a message that cannot be queued for the network in this time fails
  Millis connect_timeout{2000};    // one TCP connect attempt (ZMQ_CONNECT_TIMEOUT); ZMQ keeps retrying
  Millis handshake_timeout{5000};  // ZMTP greeting/handshake (ZMQ_HANDSHAKE_IVL)
  Millis zmtp_heartbeat{2000};     // ZMTP keepalive (ZMQ_HEARTBEAT_IVL): reaps half-open TCP connections
  Millis zmtp_timeout{60000};      // ... after this much silence (ZMQ_HEARTBEAT_TIMEOUT and _TTL). Must exceed the
                                   // time one frame takes on the slowest link (16 MiB at 5 Mbit/s: 27 s): a reset
                                   // mid-frame drops the queued frames silently. Fast liveness is the application
                                   // heartbeat's job (heartbeat.h), on a connection of its own.
  Millis linger{1000};             // how long unsent messages may outlive a closed socket (never forever)
  int send_hwm = 64;               // messages queued per peer before a send waits (activations: 16 MiB each)
  int recv_hwm = 64;
  size_t recv_backlog_bytes = 512u << 20;  // Endpoint: received but not yet taken by recv(); then TCP pushes back
  std::string cluster_key;         // optional: Z85 CURVE secret shared by the cluster (security.h); "" = none
};

// One received message. For Activations, msg's `wire` points into `frame`, which this object keeps alive.
struct Incoming {
  std::string peer;     // Endpoint: the sender's routing identity (give it to Endpoint::send); Connection: ""
  std::string peer_ip;  // the sender's IP as ZMQ saw the connection ("Peer-Address"), "" if unknown
  Message msg;
  std::shared_ptr<const void> frame;
};

}  // namespace prima::cluster
