#include "cluster/zmq_util.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <tuple>
#include <vector>

namespace prima::cluster::detail {

zmq::context_t& context() {
  static std::mutex mu;
  static zmq::context_t* ctx = nullptr;
  static pid_t owner = 0;
  std::lock_guard<std::mutex> lock(mu);
  if (ctx == nullptr || owner != getpid()) {
    ctx = new zmq::context_t(1);  // leaked on purpose: zmq_ctx_term would wait for every open socket at exit
    owner = getpid();
  }
  return *ctx;
}

std::string inproc_name(const char* what) {
  static std::atomic<uint64_t> n{0};
  return fmt::format("inproc://prima-{}-{}-{}", what, getpid(), n.fetch_add(1));
}

void tune_socket(zmq::socket_t& s, const TransportOptions& opt, bool ipv6) {
  s.set(zmq::sockopt::linger, static_cast<int>(opt.linger.count()));
  s.set(zmq::sockopt::heartbeat_ivl, static_cast<int>(opt.zmtp_heartbeat.count()));
  s.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(opt.zmtp_timeout.count()));
  s.set(zmq::sockopt::heartbeat_ttl, static_cast<int>(opt.zmtp_timeout.count()));
  s.set(zmq::sockopt::handshake_ivl, static_cast<int>(opt.handshake_timeout.count()));
  s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kHeaderSize) + kMaxPayload);
  s.set(zmq::sockopt::sndhwm, opt.send_hwm);
  s.set(zmq::sockopt::rcvhwm, opt.recv_hwm);
  if (ipv6) s.set(zmq::sockopt::ipv6, 1);
}

namespace {

struct FramePool {
  std::mutex mu;
  std::vector<std::pair<size_t, uint8_t*>> free;  // (capacity, buffer)
  size_t free_bytes = 0;
};

FramePool& frame_pool() {
  static auto* pool = new FramePool();  // leaked: ZMQ may hand buffers back while the process exits
  return *pool;
}

void give_back(void* data, void* hint) {
  FramePool& pool = frame_pool();
  const size_t cap = reinterpret_cast<size_t>(hint);
  std::lock_guard<std::mutex> lock(pool.mu);
  if (pool.free_bytes + cap > kPoolKeepBytes) {
    delete[] static_cast<uint8_t*>(data);
    return;
  }
  pool.free.emplace_back(cap, static_cast<uint8_t*>(data));
  pool.free_bytes += cap;
}

}  // namespace

zmq::message_t pooled_message(size_t size) {
  FramePool& pool = frame_pool();
  uint8_t* buf = nullptr;
  size_t cap = 0;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    size_t best = pool.free.size();
    for (size_t i = 0; i < pool.free.size(); ++i)
      if (pool.free[i].first >= size && (best == pool.free.size() || pool.free[i].first < pool.free[best].first))
        best = i;
    if (best < pool.free.size()) {
      std::tie(cap, buf) = pool.free[best];
      pool.free.erase(pool.free.begin() + static_cast<long>(best));
      pool.free_bytes -= cap;
    }
  }
  if (buf == nullptr) {
    cap = (size + kPooledFrameMin - 1) / kPooledFrameMin * kPooledFrameMin;  // whole MiBs: reusable across shapes
    buf = new uint8_t[cap];
  }
  return zmq::message_t(buf, size, give_back, reinterpret_cast<void*>(cap));
}

zmq::message_t make_frame(const Body& body, uint64_t seq, uint16_t flags) {
  Message m;
  m.seq = seq;
  m.flags = flags;
  if (const auto* a = std::get_if<Activations>(&body)) {
    // Shallow copy of the metadata only; the data is written once, straight into the frame.
    m.body = *a;
    const size_t size = encoded_size(m);
    zmq::message_t frame = size >= kPooledFrameMin ? pooled_message(size) : zmq::message_t(size);
    encode_into(m, {static_cast<uint8_t*>(frame.data()), frame.size()});
    return frame;
  }
  m.body = body;
  const auto bytes = encode(m);
  return zmq::message_t(bytes.data(), bytes.size());
}

bool recv_single(zmq::socket_t& s, zmq::message_t& out, bool* was_multipart) {
  if (!s.recv(out, zmq::recv_flags::dontwait)) return false;
  bool multi = false;
  while (out.more()) {
    zmq::message_t extra;
    (void)s.recv(extra, zmq::recv_flags::none);  // the rest of a multipart message is already here
    multi = true;
    if (!extra.more()) break;
  }
  if (was_multipart) *was_multipart = multi;
  return true;
}

std::string peer_ip_of(zmq::message_t& frame) {
  const char* ip = zmq_msg_gets(frame.handle(), "Peer-Address");
  return ip ? std::string(ip) : std::string();
}

Result<Incoming> to_incoming(zmq::message_t&& frame, std::string peer, std::string peer_ip) {
  auto holder = std::make_shared<zmq::message_t>(std::move(frame));
  auto decoded = decode({static_cast<const uint8_t*>(holder->data()), holder->size()});
  if (!decoded) return decoded.status();
  Incoming in;
  in.peer = std::move(peer);
  in.peer_ip = std::move(peer_ip);
  in.msg = std::move(decoded).value();
  in.frame = std::move(holder);
  return in;
}

std::string errno_text(int err) { return zmq_strerror(err); }

Monitor::Monitor(zmq::socket_t& watched) : watched_(&watched), pair_(context(), zmq::socket_type::pair) {
  const std::string name = inproc_name("mon");
  const int events = ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED |
                     ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
  if (zmq_socket_monitor(watched.handle(), name.c_str(), events) != 0) throw zmq::error_t();
  pair_.set(zmq::sockopt::linger, 0);
  pair_.connect(name);
}

Monitor::~Monitor() {
  zmq_socket_monitor(watched_->handle(), nullptr, 0);
  pair_.close();
}

void Monitor::drain() {
  while (true) {
    zmq::message_t ev, addr;
    if (!pair_.recv(ev, zmq::recv_flags::dontwait)) return;
    if (ev.more()) (void)pair_.recv(addr, zmq::recv_flags::none);
    if (ev.size() < 6) continue;
    uint16_t event;
    uint32_t value;
    std::memcpy(&event, ev.data(), 2);
    std::memcpy(&value, static_cast<const char*>(ev.data()) + 2, 4);
    switch (event) {
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: up_ = ever_up_ = true; problem_.clear(); break;
      case ZMQ_EVENT_DISCONNECTED:
        // Keep a specific reason (authentication, protocol) over the generic close that follows it.
        if (up_) problem_ = "the connection was lost";
        else if (problem_.empty()) problem_ = "the peer closed the connection during the handshake";
        up_ = false;
        break;
      case ZMQ_EVENT_CONNECT_RETRIED: up_ = false; if (problem_.empty()) problem_ = "connection refused or host unreachable (is a prima worker listening there?)"; break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        if (problem_.empty() || ever_up_) problem_ = fmt::format("handshake failed ({}): the peer dropped us; with a cluster key, are the keys the same?",
                                                        errno_text(int(value)));
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: problem_ = "handshake failed: not a prima peer, or only one side has a cluster key"; break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: problem_ = "authentication failed (different cluster key?)"; break;
      default: break;
    }
  }
}

std::string Monitor::state_text() {
  drain();
  if (up_) return "connected";
  if (ever_up_) return "connection lost";
  return problem_.empty() ? "not connected" : "not connected: " + problem_;
}

}  // namespace prima::cluster::detail
