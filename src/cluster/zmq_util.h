// ZeroMQ plumbing shared by the transport classes (internal to the module): the process-wide context, socket
// options, frames <-> messages, and a socket monitor that says why a connection is not up.
#pragma once

#include <zmq.hpp>

#include <optional>
#include <string>

#include "cluster/transport.h"

namespace prima::cluster::detail {

// One context per process, never terminated (so exit cannot hang on a forgotten socket). A forked child gets a
// fresh one: a ZMQ context must not be used across fork.
zmq::context_t& context();

// A unique "inproc://prima-<what>-<n>" name.
std::string inproc_name(const char* what);

// Options every TCP socket gets: linger, ZMTP heartbeats, handshake timeout, message size limit, HWMs.
void tune_socket(zmq::socket_t& s, const TransportOptions& opt, bool ipv6);

// Encodes straight into a ZMQ message (activations: no intermediate buffer). Frames of 1 MiB and more use buffers
// from a process-wide pool: ZMQ hands each back when it has written it to the socket, so a device sending 16 MiB
// micro-batches reuses the same few buffers instead of faulting in fresh pages for every message.
zmq::message_t make_frame(const Body& body, uint64_t seq, uint16_t flags);

inline constexpr size_t kPooledFrameMin = 1u << 20;
inline constexpr size_t kPoolKeepBytes = 256u << 20;  // free buffers kept for reuse, at most
zmq::message_t pooled_message(size_t size);

// Receives one message's frames; extra frames of a multipart message are drained and dropped.
// Returns false when nothing was waiting (EAGAIN).
bool recv_single(zmq::socket_t& s, zmq::message_t& out, bool* was_multipart);

// The IP ZMQ recorded for the connection a frame came in on ("" when unknown).
std::string peer_ip_of(zmq::message_t& frame);

// Decodes a received frame, keeping it alive for Activations views.
Result<Incoming> to_incoming(zmq::message_t&& frame, std::string peer, std::string peer_ip);

std::string errno_text(int err);

// Watches a socket's connection events (ZMQ socket monitor over inproc), read on demand by the owning thread.
class Monitor {
 public:
  explicit Monitor(zmq::socket_t& watched);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  void drain();                    // reads the events that arrived
  bool up() const { return up_; }  // handshake done and not disconnected since
  bool ever_up() const { return ever_up_; }
  const std::string& problem() const { return problem_; }  // the last failure seen, "" if none
  // For an error message: "connected", "connection lost", "not connected (…)".
  std::string state_text();

 private:
  zmq::socket_t* watched_;
  zmq::socket_t pair_;
  bool up_ = false;
  bool ever_up_ = false;
  std::string problem_;
};

}  // namespace prima::cluster::detail
