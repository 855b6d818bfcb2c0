#include "cluster/heartbeat.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

#include "cluster/address.h"
#include "cluster/security.h"
#include "cluster/zmq_util.h"
#include "core/clock.h"

namespace prima::cluster {

namespace {

constexpr size_t kRttWindow = 64;

struct Peer {
  std::string name;
  std::string address;
  std::unique_ptr<zmq::socket_t> sock;
  std::unique_ptr<detail::Monitor> mon;
  int64_t watched_ns = 0;
  int64_t last_pong_ns = 0;  // 0 = none yet
  int64_t next_ping_ns = 0;
  std::deque<double> rtts_ms;
  double min_rtt_ms = -1;
  uint64_t pings = 0;
  uint64_t pongs = 0;
  uint64_t seq = 0;
  std::string problem;
  bool removed = false;  // unwatched: closed by the thread, never while it polls the socket
};

}  // namespace

struct HeartbeatMonitor::Impl {
  uint64_t session;
  HeartbeatOptions hb;
  TransportOptions opt;
  std::atomic<bool> stop{false};
  std::thread thread;

  mutable std::mutex mu;  // peers (the thread works on them under the lock; every step is short)
  // A list, not a vector: erasing a peer must not move the others. A moved-into Peer would drop its old socket
  // before its old monitor (members are assigned in order), and the monitor's destructor needs the socket.
  std::list<Peer> peers;

  void run();
  void open(Peer& p);
  void ping(Peer& p, int64_t now);
  void take_replies(Peer& p, int64_t now);
  PeerHealth health_of(const Peer& p, int64_t now) const;
};

void HeartbeatMonitor::Impl::open(Peer& p) {
  auto hp = parse_address(p.address);
  if (!hp) {
    p.problem = hp.status().message();
    return;
  }
  try {
    p.sock = std::make_unique<zmq::socket_t>(detail::context(), zmq::socket_type::dealer);
    TransportOptions o = opt;
    o.linger = Millis(0);
    detail::tune_socket(*p.sock, o, hp->ipv6);
    p.sock->set(zmq::sockopt::immediate, 1);
    p.sock->set(zmq::sockopt::sndhwm, 4);  // pings queued behind a dead link are worthless
    p.sock->set(zmq::sockopt::reconnect_ivl, 100);
    p.sock->set(zmq::sockopt::reconnect_ivl_max, 500);
    p.sock->set(zmq::sockopt::connect_timeout, static_cast<int>(opt.connect_timeout.count()));
    if (Status s = apply_client_security(*p.sock, opt.cluster_key); !s) {
      p.problem = s.message();
      p.sock.reset();
      return;
    }
    p.mon = std::make_unique<detail::Monitor>(*p.sock);
    p.sock->connect(hp->zmq_endpoint());
  } catch (const zmq::error_t& e) {
    p.problem = e.what();
    p.mon.reset();
    p.sock.reset();
  }
}

void HeartbeatMonitor::Impl::ping(Peer& p, int64_t now) {
  if (!p.sock || now < p.next_ping_ns) return;
  p.next_ping_ns = now + hb.interval.count() * 1000000;
  Heartbeat h{session, static_cast<uint64_t>(now), 0, false};
  try {
    auto frame = detail::make_frame(h, ++p.seq, 0);
    if (p.sock->send(frame, zmq::send_flags::dontwait)) ++p.pings;
  } catch (const zmq::error_t&) {
  }
}

void HeartbeatMonitor::Impl::take_replies(Peer& p, int64_t now) {
  while (p.sock) {
    zmq::message_t frame;
    if (!detail::recv_single(*p.sock, frame, nullptr)) return;
    auto in = detail::to_incoming(std::move(frame), "", "");
    if (!in) {
      p.problem = in.status().message();
      continue;
    }
    if (const auto* e = in->msg.as<ErrorMsg>()) {
      p.problem = fmt::format("it answered with an error: {}", e->text);
      continue;
    }
    const auto* h = in->msg.as<Heartbeat>();
    if (!h || !h->is_reply || h->session != session || h->t_echo_ns == 0) continue;
    const double rtt = static_cast<double>(now - static_cast<int64_t>(h->t_echo_ns)) * 1e-6;
    p.last_pong_ns = now;
    ++p.pongs;
    p.rtts_ms.push_back(rtt);
    if (p.rtts_ms.size() > kRttWindow) p.rtts_ms.pop_front();
    p.min_rtt_ms = p.min_rtt_ms < 0 ? rtt : std::min(p.min_rtt_ms, rtt);
    p.problem.clear();
  }
}

void HeartbeatMonitor::Impl::run() {
  std::vector<zmq::pollitem_t> items;
  while (!stop.load()) {
    const int64_t now = now_ns();
    int64_t next = now + 50 * 1000000;  // wake at least this often to see new peers and `stop`
    items.clear();
    {
      std::lock_guard<std::mutex> lock(mu);
      std::erase_if(peers, [](const Peer& p) { return p.removed; });
      for (Peer& p : peers) {
        if (!p.sock && p.problem.empty()) open(p);
        ping(p, now);
        if (!p.sock) continue;
        next = std::min(next, p.next_ping_ns);
        items.push_back({p.sock->handle(), 0, ZMQ_POLLIN, 0});
      }
    }
    const auto wait = Millis(std::max<int64_t>(1, (next - now) / 1000000));
    try {
      if (items.empty()) {
        std::this_thread::sleep_for(wait);
        continue;
      }
      zmq::poll(items.data(), items.size(), wait);
    } catch (const zmq::error_t&) {
      std::this_thread::sleep_for(wait);
      continue;
    }
    std::lock_guard<std::mutex> lock(mu);
    const int64_t t = now_ns();
    for (Peer& p : peers)
      if (!p.removed) take_replies(p, t);  // peers may have changed since the poll: read them all
  }
}

PeerHealth HeartbeatMonitor::Impl::health_of(const Peer& p, int64_t now) const {
  PeerHealth h;
  h.name = p.name;
  h.address = p.address;
  const int64_t since = p.last_pong_ns ? p.last_pong_ns : p.watched_ns;
  h.silent_s = static_cast<double>(now - since) * 1e-9;
  h.alive = h.silent_s * 1000.0 < static_cast<double>(hb.timeout.count());
  h.pings = p.pings;
  h.pongs = p.pongs;
  h.min_rtt_ms = p.min_rtt_ms;
  if (!p.rtts_ms.empty()) {
    h.last_rtt_ms = p.rtts_ms.back();
    std::vector<double> v(p.rtts_ms.begin(), p.rtts_ms.end());
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    h.median_rtt_ms = v[v.size() / 2];
  }
  h.problem = p.problem;
  if (h.problem.empty() && p.mon && !h.alive) {
    const std::string state = p.mon->state_text();
    if (state != "connected") h.problem = state;
  }
  return h;
}

HeartbeatMonitor::HeartbeatMonitor(uint64_t session, HeartbeatOptions hb, TransportOptions opt)
    : impl_(std::make_unique<Impl>()) {
  impl_->session = session;
  impl_->hb = hb;
  impl_->opt = opt;
  Impl* p = impl_.get();
  impl_->thread = std::thread([p] { p->run(); });
}

HeartbeatMonitor::~HeartbeatMonitor() {
  impl_->stop.store(true);
  impl_->thread.join();
  impl_->peers.clear();  // monitors before their sockets (member order in Peer)
}

void HeartbeatMonitor::watch(std::string name, std::string address) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Peer p;
  p.name = std::move(name);
  p.address = std::move(address);
  p.watched_ns = now_ns();
  impl_->peers.push_back(std::move(p));
}

void HeartbeatMonitor::unwatch(const std::string& name) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (Peer& p : impl_->peers)
    if (p.name == name) p.removed = true;
}

Status HeartbeatMonitor::check() const {
  for (const PeerHealth& h : health()) {
    if (h.alive) continue;
    std::string rtt = h.last_rtt_ms >= 0 ? fmt::format("last RTT {:.1f} ms", h.last_rtt_ms) : "it never answered";
    if (!h.problem.empty()) rtt += "; " + h.problem;
    return Status::error(Status::Code::closed, "{} at {} is gone: no heartbeat reply for {:.1f} s ({})", h.name,
                         h.address, h.silent_s, rtt);
  }
  return Status::ok();
}

std::vector<PeerHealth> HeartbeatMonitor::health() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const int64_t now = now_ns();
  std::vector<PeerHealth> out;
  for (const Peer& p : impl_->peers)
    if (!p.removed) out.push_back(impl_->health_of(p, now));
  return out;
}

std::optional<PeerHealth> HeartbeatMonitor::health(const std::string& name) const {
  for (auto& h : health())
    if (h.name == name) return h;
  return std::nullopt;
}

HeadWatch::HeadWatch(const Endpoint& ep, uint64_t session, std::string head_desc, Millis timeout)
    : ep_(&ep), session_(session), desc_(std::move(head_desc)), timeout_(timeout), since_ns_(now_ns()) {}

Status HeadWatch::check() const {
  const int64_t last = std::max(since_ns_, ep_->last_ping_ns(session_).value_or(0));
  const int64_t silent = now_ns() - last;
  if (silent < timeout_.count() * 1000000) return Status::ok();
  return Status::error(Status::Code::closed, "{} is gone: no heartbeat for {:.1f} s", desc_,
                       static_cast<double>(silent) * 1e-9);
}

}  // namespace prima::cluster
