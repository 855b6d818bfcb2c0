#include "cluster/connection.h"

#include <thread>

#include "cluster/address.h"
#include "cluster/security.h"
#include "cluster/zmq_util.h"
#include "core/clock.h"

namespace prima::cluster {

struct Connection::Impl {
  std::string name;
  std::string address;
  TransportOptions opt;
  zmq::socket_t sock;
  std::unique_ptr<detail::Monitor> mon;
  uint64_t seq = 0;

  std::string describe() const { return fmt::format("{} at {}", name, address); }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() {
  if (!impl_) return;
  impl_->mon.reset();
  impl_->sock.close();
}

Result<Connection> Connection::open(std::string_view address, std::string peer_name, TransportOptions opt) {
  auto hp = parse_address(address);
  if (!hp) return hp.status();
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(peer_name);
  impl->address = hp->str();
  impl->opt = opt;
  try {
    impl->sock = zmq::socket_t(detail::context(), zmq::socket_type::dealer);
    detail::tune_socket(impl->sock, opt, hp->ipv6);
    impl->sock.set(zmq::sockopt::immediate, 1);
    impl->sock.set(zmq::sockopt::reconnect_ivl, 100);
    impl->sock.set(zmq::sockopt::reconnect_ivl_max, 1000);
    impl->sock.set(zmq::sockopt::connect_timeout, static_cast<int>(opt.connect_timeout.count()));
    impl->sock.set(zmq::sockopt::sndtimeo, static_cast<int>(opt.send_timeout.count()));
    if (Status s = apply_client_security(impl->sock, opt.cluster_key); !s) return s;
    impl->mon = std::make_unique<detail::Monitor>(impl->sock);
    impl->sock.connect(hp->zmq_endpoint());
  } catch (const zmq::error_t& e) {
    return Status::error(Status::Code::io, "cannot connect to {} at {}: {}", impl->name, impl->address, e.what());
  }
  return Connection(std::move(impl));
}

Status Connection::send(const Body& body, uint16_t flags) {
  Impl& c = *impl_;
  const MsgType type = type_of(body);
  try {
    zmq::message_t frame = detail::make_frame(body, c.seq + 1, flags);
    if (!c.sock.send(frame, zmq::send_flags::none)) {
      const std::string state = c.mon->state_text();
      const bool up = c.mon->up();
      return Status::error(Status::Code::timeout, "{}: could not send {} within {} ms: {}", c.describe(),
                           msg_type_name(type), c.opt.send_timeout.count(),
                           up ? "the peer is not reading (send queue full)" : state);
    }
  } catch (const zmq::error_t& e) {
    return Status::error(Status::Code::io, "{}: sending {} failed: {}", c.describe(), msg_type_name(type), e.what());
  }
  ++c.seq;
  return Status::ok();
}

Result<Incoming> Connection::recv(Millis timeout) {
  Impl& c = *impl_;
  try {
    zmq::pollitem_t item{c.sock.handle(), 0, ZMQ_POLLIN, 0};
    const int64_t deadline = now_ns() + timeout.count() * 1000000;
    while (true) {
      const int64_t left_ms = std::max<int64_t>(0, (deadline - now_ns() + 999999) / 1000000);
      zmq::poll(&item, 1, Millis(left_ms));
      zmq::message_t frame;
      bool multipart = false;
      if ((item.revents & ZMQ_POLLIN) && detail::recv_single(c.sock, frame, &multipart)) {
        if (multipart)
          return Status::error(Status::Code::protocol, "{}: sent a multipart message (not prima protocol)", c.describe());
        const std::string ip = detail::peer_ip_of(frame);
        auto in = detail::to_incoming(std::move(frame), "", ip);
        if (!in) return Status::error(Status::Code::protocol, "{}: {}", c.describe(), in.status().message());
        return in;
      }
      if (now_ns() >= deadline)
        return Status::error(Status::Code::timeout, "{}: nothing received within {} ms ({})", c.describe(),
                             timeout.count(), c.mon->state_text());
    }
  } catch (const zmq::error_t& e) {
    return Status::error(Status::Code::io, "{}: receive failed: {}", c.describe(), e.what());
  }
}

Status Connection::wait_connected(Millis timeout) {
  const int64_t deadline = now_ns() + timeout.count() * 1000000;
  while (!connected()) {
    if (now_ns() >= deadline)
      return Status::error(Status::Code::timeout, "{}: not reachable within {} ms ({})", describe(), timeout.count(),
                           impl_->mon->state_text());
    std::this_thread::sleep_for(Millis(5));
  }
  return Status::ok();
}

bool Connection::connected() {
  impl_->mon->drain();
  return impl_->mon->up();
}

uint64_t Connection::last_seq() const { return impl_->seq; }
const std::string& Connection::address() const { return impl_->address; }
const std::string& Connection::name() const { return impl_->name; }
std::string Connection::describe() const { return impl_->describe(); }

}  // namespace prima::cluster
