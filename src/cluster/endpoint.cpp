#include "cluster/endpoint.h"

#include <atomic>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "cluster/address.h"
#include "cluster/security.h"
#include "cluster/zmq_util.h"
#include "core/clock.h"
#include "core/log.h"

namespace prima::cluster {

namespace {

constexpr size_t kMaxTracked = 4096;  // peers / sessions remembered for last_heard / last_ping

struct Item {
  Incoming in;
  Status error;  // a message that did not decode
  size_t bytes = 0;
};

struct Seen {
  int64_t ns = 0;
  std::string ip;
};

template <class Map>
void forget_oldest_if_full(Map& m) {
  if (m.size() < kMaxTracked) return;
  auto oldest = m.begin();
  for (auto it = m.begin(); it != m.end(); ++it)
    if (it->second.ns < oldest->second.ns) oldest = it;
  m.erase(oldest);
}

}  // namespace

struct Endpoint::Impl {
  std::string name;
  std::string address;
  uint16_t port = 0;
  TransportOptions opt;

  zmq::socket_t router;  // I/O thread only, once it runs
  zmq::socket_t tx_io;   // I/O thread end of the command pipe
  zmq::socket_t tx_app;  // caller end, under tx_mu
  std::mutex tx_mu;
  std::thread io;
  std::atomic<uint64_t> seq{0};
  std::atomic<uint64_t> pings{0};

  mutable std::mutex mu;  // everything below
  std::condition_variable cv;
  std::deque<Item> queue;
  size_t queue_bytes = 0;
  std::unordered_map<uint64_t, Seen> last_ping;
  std::unordered_map<std::string, Seen> last_heard;

  void run();
  void on_frame(zmq::message_t&& peer, zmq::message_t&& frame, bool multipart);
  bool on_command();  // false = stop
  void send_now(const std::string& peer, zmq::message_t&& frame);
  std::string peer_text(const std::string& peer) const;
};

void Endpoint::Impl::run() {
  while (true) {
    bool throttled;
    {
      std::lock_guard<std::mutex> lock(mu);
      throttled = queue_bytes >= opt.recv_backlog_bytes;
    }
    zmq::pollitem_t items[2] = {{router.handle(), 0, static_cast<short>(throttled ? 0 : ZMQ_POLLIN), 0},
                                {tx_io.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, throttled ? Millis(10) : Millis(-1));
      if ((items[1].revents & ZMQ_POLLIN) && !on_command()) return;
      // Take what is waiting, a bounded number at a time so commands are not starved.
      for (int i = 0; i < 64 && (items[0].revents & ZMQ_POLLIN); ++i) {
        zmq::message_t peer, frame;
        if (!router.recv(peer, zmq::recv_flags::dontwait)) break;
        bool multipart = false;
        if (!peer.more() || !detail::recv_single(router, frame, &multipart)) continue;
        on_frame(std::move(peer), std::move(frame), multipart);
      }
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      log::error("endpoint {}: {}", address, e.what());
    }
  }
}

void Endpoint::Impl::on_frame(zmq::message_t&& peer_msg, zmq::message_t&& frame, bool multipart) {
  std::string peer = peer_msg.to_string();
  std::string ip = detail::peer_ip_of(frame);
  const int64_t now = now_ns();
  const auto header = decode_header({static_cast<const uint8_t*>(frame.data()), frame.size()});
  const size_t bytes = frame.size();
  Item item;
  auto in = detail::to_incoming(std::move(frame), peer, ip);
  if (multipart) in = Status::error(Status::Code::protocol, "sent a multipart message (not prima protocol)");
  {
    std::lock_guard<std::mutex> lock(mu);
    forget_oldest_if_full(last_heard);
    last_heard[peer] = {now, ip};
  }
  if (!in) {
    // Tell the sender what is wrong, in a message every protocol version can read.
    ErrorMsg e;
    e.code = header && header->magic == kMagic && header->major != kVersionMajor ? ErrorCode::version
                                                                                    : ErrorCode::protocol;
    e.in_reply_to = header ? header->seq : 0;
    e.text = in.status().message();
    send_now(peer, detail::make_frame(e, ++seq, 0));
    item.error = Status::error(Status::Code::protocol, "message from {}: {}", ip.empty() ? "a peer" : ip,
                               in.status().message());
  } else if (const auto* hb = in->msg.as<Heartbeat>(); hb && !hb->is_reply) {
    Heartbeat pong{hb->session, static_cast<uint64_t>(now_ns()), hb->t_send_ns, true};
    send_now(peer, detail::make_frame(pong, ++seq, 0));
    pings.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    forget_oldest_if_full(last_ping);
    last_ping[hb->session] = {now, ip};
    return;  // pings are the transport's business
  } else {
    item.in = std::move(in).value();
  }
  item.bytes = bytes;
  {
    std::lock_guard<std::mutex> lock(mu);
    queue_bytes += item.bytes;
    queue.push_back(std::move(item));
  }
  cv.notify_one();
}

void Endpoint::Impl::send_now(const std::string& peer, zmq::message_t&& frame) {
  // Replies from the I/O thread never wait: a peer that does not read loses them.
  try {
    if (router.send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait))
      (void)router.send(frame, zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
  }
}

bool Endpoint::Impl::on_command() {
  zmq::message_t peer, frame;
  (void)tx_io.recv(peer, zmq::recv_flags::none);
  if (!peer.more()) return false;  // one frame: stop
  (void)tx_io.recv(frame, zmq::recv_flags::none);
  int err = 0;
  try {
    if (!router.send(peer, zmq::send_flags::sndmore | zmq::send_flags::dontwait) ||
        !router.send(frame, zmq::send_flags::dontwait))
      err = EAGAIN;
  } catch (const zmq::error_t& e) {
    err = e.num();
  }
  tx_io.send(zmq::buffer(&err, sizeof err), zmq::send_flags::none);
  return true;
}

std::string Endpoint::Impl::peer_text(const std::string& peer) const {
  std::lock_guard<std::mutex> lock(mu);
  auto it = last_heard.find(peer);
  return it != last_heard.end() && !it->second.ip.empty() ? "peer at " + it->second.ip : "peer";
}

Endpoint::Endpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Endpoint::Endpoint(Endpoint&&) noexcept = default;
Endpoint& Endpoint::operator=(Endpoint&&) noexcept = default;

Endpoint::~Endpoint() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->tx_mu);
    try {
      impl_->tx_app.send(zmq::str_buffer("stop"), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
    }
  }
  if (impl_->io.joinable()) impl_->io.join();
  impl_->router.close();
  impl_->tx_io.close();
  impl_->tx_app.close();
}

Result<Endpoint> Endpoint::listen(std::string_view address, std::string name, TransportOptions opt) {
  auto hp = parse_address(address);
  if (!hp) return hp.status();
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->opt = opt;
  try {
    auto& ctx = detail::context();
    impl->router = zmq::socket_t(ctx, zmq::socket_type::router);
    detail::tune_socket(impl->router, opt, hp->ipv6);
    impl->router.set(zmq::sockopt::router_mandatory, 1);
    impl->router.set(zmq::sockopt::router_handover, 1);
    if (Status s = apply_server_security(impl->router, opt.cluster_key); !s) return s;
    try {
      impl->router.bind(hp->zmq_endpoint());
    } catch (const zmq::error_t& e) {
      return Status::error(Status::Code::io, "cannot listen on {}: {}{}", hp->str(), e.what(),
                           e.num() == EADDRINUSE ? " (is another prima worker running there?)" : "");
    }
    const std::string bound = strip_scheme(impl->router.get(zmq::sockopt::last_endpoint));
    auto bhp = parse_address(bound);
    impl->address = bhp ? bhp->str() : bound;
    impl->port = bhp ? bhp->port : hp->port;

    const std::string pipe = detail::inproc_name("ep");
    impl->tx_io = zmq::socket_t(ctx, zmq::socket_type::pair);
    impl->tx_app = zmq::socket_t(ctx, zmq::socket_type::pair);
    impl->tx_io.set(zmq::sockopt::linger, 0);
    impl->tx_app.set(zmq::sockopt::linger, 0);
    impl->tx_app.set(zmq::sockopt::rcvtimeo, 5000);  // the I/O thread answers in microseconds; never hang on it
    impl->tx_io.bind(pipe);
    impl->tx_app.connect(pipe);
  } catch (const zmq::error_t& e) {
    return Status::error(Status::Code::io, "cannot listen on {}: {}", hp->str(), e.what());
  }
  Impl* p = impl.get();
  impl->io = std::thread([p] { p->run(); });
  return Endpoint(std::move(impl));
}

Result<Incoming> Endpoint::recv(Millis timeout) {
  Impl& e = *impl_;
  std::unique_lock<std::mutex> lock(e.mu);
  if (!e.cv.wait_for(lock, timeout, [&] { return !e.queue.empty(); }))
    return Status::error(Status::Code::timeout, "nothing received on {} within {} ms", e.address, timeout.count());
  Item item = std::move(e.queue.front());
  e.queue.pop_front();
  e.queue_bytes -= item.bytes;
  lock.unlock();
  if (!item.error.is_ok()) return item.error;
  return std::move(item.in);
}

Status Endpoint::send(const std::string& peer, const Body& body, uint16_t flags) {
  Impl& e = *impl_;
  const MsgType type = type_of(body);
  int err = 0;
  {
    std::lock_guard<std::mutex> lock(e.tx_mu);
    try {
      zmq::message_t frame = detail::make_frame(body, ++e.seq, flags);
      e.tx_app.send(zmq::buffer(peer), zmq::send_flags::sndmore);
      e.tx_app.send(frame, zmq::send_flags::none);
      zmq::message_t reply;
      if (!e.tx_app.recv(reply, zmq::recv_flags::none) || reply.size() != sizeof err)
        return Status::error(Status::Code::internal, "{}: the endpoint's I/O thread does not answer", e.address);
      std::memcpy(&err, reply.data(), sizeof err);
    } catch (const zmq::error_t& ex) {
      return Status::error(Status::Code::io, "{}: sending {} failed: {}", e.address, msg_type_name(type), ex.what());
    }
  }
  if (err == 0) return Status::ok();
  if (err == EHOSTUNREACH)
    return Status::error(Status::Code::closed, "cannot send {} to {}: it is no longer connected", msg_type_name(type),
                         e.peer_text(peer));
  if (err == EAGAIN)
    return Status::error(Status::Code::timeout, "cannot send {} to {}: it is not reading (queue full)",
                         msg_type_name(type), e.peer_text(peer));
  return Status::error(Status::Code::io, "cannot send {} to {}: {}", msg_type_name(type), e.peer_text(peer),
                       detail::errno_text(err));
}

Status Endpoint::reply_error(const Incoming& to, ErrorCode code, std::string text) {
  return send(to.peer, ErrorMsg{code, to.msg.seq, std::move(text)});
}

std::optional<int64_t> Endpoint::last_ping_ns(uint64_t session) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->last_ping.find(session);
  if (it == impl_->last_ping.end()) return std::nullopt;
  return it->second.ns;
}

std::optional<int64_t> Endpoint::last_heard_ns(const std::string& peer) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->last_heard.find(peer);
  if (it == impl_->last_heard.end()) return std::nullopt;
  return it->second.ns;
}

uint64_t Endpoint::pings_answered() const { return impl_->pings.load(); }
const std::string& Endpoint::address() const { return impl_->address; }
uint16_t Endpoint::port() const { return impl_->port; }

}  // namespace prima::cluster
