// Transport on loopback, several endpoints in one process: exchange, rings, large messages, bounded timeouts,
// version refusal over the wire, heartbeats, handshakes, authentication.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <zmq.hpp>

#include "cluster/address.h"
#include "cluster/connection.h"
#include "cluster/endpoint.h"
#include "cluster/handshake.h"
#include "cluster/heartbeat.h"
#include "cluster/security.h"
#include "core/bytes.h"
#include "core/clock.h"
#include "core/fp16.h"
#include "samples.h"

using namespace prima;
using namespace prima::cluster;
using namespace prima::cluster::testing;

namespace {

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TransportOptions fast() {
  TransportOptions o;
  o.send_timeout = Millis(500);
  o.linger = Millis(0);
  return o;
}

Endpoint listen_local(TransportOptions o = fast()) {
  auto ep = Endpoint::listen("127.0.0.1:0", "test", o);
  EXPECT_TRUE(ep.is_ok()) << ep.status().message();
  return std::move(ep).value();
}

Connection connect_to(const Endpoint& ep, const std::string& name = "w1", TransportOptions o = fast()) {
  auto c = Connection::open(ep.address(), name, o);
  EXPECT_TRUE(c.is_ok()) << c.status().message();
  return std::move(c).value();
}

// A port with nothing listening (bound then closed).
uint16_t dead_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

Hello hello_of(Role role, const char* name, uint64_t model_size, uint64_t session = 0) {
  Hello h = sample_hello();
  h.role = role;
  h.device_name = name;
  h.model.size = model_size;
  h.session = session;
  h.observed_ip.clear();
  return h;
}

}  // namespace

TEST(Address, ParsesWhatUsersType) {
  auto a = parse_address("10.203.0.12:9000");
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->host, "10.203.0.12");
  EXPECT_EQ(a->port, 9000);
  EXPECT_EQ(a->zmq_endpoint(), "tcp://10.203.0.12:9000");
  EXPECT_EQ(parse_address("laptop.local")->port, kDefaultPort);
  EXPECT_EQ(parse_address("9100")->host, "0.0.0.0");
  EXPECT_EQ(parse_address("9100")->port, 9100);
  EXPECT_EQ(parse_address(":9100")->host, "0.0.0.0");
  EXPECT_EQ(parse_address("*:0")->zmq_endpoint(), "tcp://0.0.0.0:*");
  auto v6 = parse_address("[::1]:9000");
  ASSERT_TRUE(v6.is_ok());
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->str(), "[::1]:9000");
  for (const char* bad : {"host:port", "a:b:c", "[::1", "host:70000", "ho st:1", "[]:1", "host:"})
    EXPECT_FALSE(parse_address(bad).is_ok()) << bad;
  EXPECT_TRUE(has(parse_address("host:70000").status().message(), "'host:70000' is not an address"));
}

TEST(Transport, EndpointAndConnectionExchange) {
  Endpoint ep = listen_local();
  EXPECT_NE(ep.port(), 0);
  Connection c = connect_to(ep);
  ASSERT_TRUE(c.send(sample_hello()).is_ok());
  auto in = ep.recv(Millis(2000));
  ASSERT_TRUE(in.is_ok()) << in.status().message();
  EXPECT_EQ(in->msg.type(), MsgType::hello);
  EXPECT_EQ(in->msg.seq, 1u);
  EXPECT_EQ(in->peer_ip, "127.0.0.1");
  EXPECT_FALSE(in->peer.empty());
  ASSERT_TRUE(ep.send(in->peer, Ack{in->msg.seq}).is_ok());
  auto reply = c.recv(Millis(2000));
  ASSERT_TRUE(reply.is_ok()) << reply.status().message();
  ASSERT_NE(reply->msg.as<Ack>(), nullptr);
  EXPECT_EQ(reply->msg.as<Ack>()->acked_seq, 1u);
  EXPECT_TRUE(ep.last_heard_ns(in->peer).has_value());
  // Sequence numbers grow per link.
  ASSERT_TRUE(c.send(Stop{"x"}).is_ok());
  EXPECT_EQ(ep.recv(Millis(2000))->msg.seq, 2u);
  EXPECT_EQ(c.last_seq(), 2u);
}

TEST(Transport, ActivationsGoRoundARingOfThreeEndpoints) {
  // a -> b -> c -> a, each hop forwarding the received view as it is.
  std::vector<Endpoint> eps;
  for (int i = 0; i < 3; ++i) eps.push_back(listen_local());
  std::vector<Connection> next;
  for (int i = 0; i < 3; ++i) next.push_back(connect_to(eps[(i + 1) % 3], "d" + std::to_string((i + 1) % 3)));
  auto s = sample_activations(7, 256, WireType::f16);
  ASSERT_TRUE(next[0].send(s.a).is_ok());
  for (int hop = 1; hop <= 2; ++hop) {
    auto in = eps[hop].recv(Millis(2000));
    ASSERT_TRUE(in.is_ok()) << in.status().message();
    ASSERT_TRUE(next[hop].send(*in->msg.as<Activations>()).is_ok());
  }
  auto back = eps[0].recv(Millis(2000));
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  const auto* a = back->msg.as<Activations>();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->pos, s.a.pos);
  std::vector<float> out(s.data.size());
  a->to_f32(out);
  for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], fp16_to_f32(f32_to_fp16(s.data[i])));
}

TEST(Transport, LargeActivationsCrossIntact) {
  // A 512-token micro-batch of a 70B model (n_embd 8192, f32): 16 MiB in one frame.
  Endpoint ep = listen_local();
  TransportOptions o = fast();
  o.send_timeout = Millis(5000);
  Connection c = connect_to(ep, "w1", o);
  auto s = sample_activations(512, 8192, WireType::f32);
  Stopwatch sw;
  constexpr int kRounds = 4;
  for (int r = 0; r < kRounds; ++r) ASSERT_TRUE(c.send(s.a).is_ok());
  std::vector<float> out(s.data.size());
  for (int r = 0; r < kRounds; ++r) {
    auto in = ep.recv(Millis(10000));
    ASSERT_TRUE(in.is_ok()) << in.status().message();
    const auto* a = in->msg.as<Activations>();
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(a->wire.size(), 16u << 20);
    a->to_f32(out);
    ASSERT_EQ(out, s.data);
  }
  const double s_total = sw.elapsed_s();
  std::printf("loopback: %d x 16 MiB in %.3f s = %.2f GB/s\n", kRounds, s_total, kRounds * 16.0 * 1.048576e-3 / s_total);
}

TEST(Transport, SendToNobodyTimesOutNamingThePeer) {
  auto c = Connection::open(fmt::format("127.0.0.1:{}", dead_port()), "w7", fast());
  ASSERT_TRUE(c.is_ok());
  Stopwatch sw;
  Status s = c->send(Ack{1});
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Status::Code::timeout);
  EXPECT_TRUE(has(s.message(), "w7 at 127.0.0.1:")) << s.message();
  EXPECT_TRUE(has(s.message(), "not connected")) << s.message();
  EXPECT_LT(sw.elapsed_ms(), 1500);
  auto r = c->recv(Millis(200));
  EXPECT_EQ(r.status().code(), Status::Code::timeout);
  EXPECT_TRUE(has(r.status().message(), "w7")) << r.status().message();
  EXPECT_FALSE(c->wait_connected(Millis(100)).is_ok());
}

TEST(Transport, PeerThatNeverAnswersTimesOut) {
  // A TCP listener that accepts and never speaks: the ZMTP handshake never completes.
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(ls, 4), 0);
  socklen_t len = sizeof a;
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &len);
  auto c = Connection::open(fmt::format("127.0.0.1:{}", ntohs(a.sin_port)), "w9", fast());
  ASSERT_TRUE(c.is_ok());
  Stopwatch sw;
  auto h = handshake_with_worker(*c, hello_of(Role::head, "head", 1, 7), Millis(800));
  EXPECT_FALSE(h.is_ok());
  EXPECT_LT(sw.elapsed_ms(), 2000);
  EXPECT_TRUE(has(h.status().message(), "w9 at 127.0.0.1")) << h.status().message();
  close(ls);
}

TEST(Transport, RecvTimeoutsAreBounded) {
  Endpoint ep = listen_local();
  Stopwatch sw;
  auto r = ep.recv(Millis(150));
  EXPECT_EQ(r.status().code(), Status::Code::timeout);
  EXPECT_GE(sw.elapsed_ms(), 140);
  EXPECT_LT(sw.elapsed_ms(), 1000);
}

TEST(Transport, EndpointRefusesAnotherMajorVersionAndTellsTheSender) {
  Endpoint ep = listen_local();
  // A peer from the future, speaking version 2 over a raw ZMQ socket.
  zmq::context_t ctx(1);
  zmq::socket_t raw(ctx, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.connect("tcp://" + ep.address());
  ByteWriter w;
  w.write<uint32_t>(kMagic);
  w.write<uint16_t>(2);
  w.write<uint16_t>(1);
  w.write<uint16_t>(static_cast<uint16_t>(MsgType::hello));
  w.write<uint16_t>(0);
  w.write<uint32_t>(0);
  w.write<uint64_t>(42);
  auto b = w.take();
  raw.send(zmq::buffer(b), zmq::send_flags::none);

  auto in = ep.recv(Millis(2000));
  ASSERT_FALSE(in.is_ok());
  EXPECT_EQ(in.status().code(), Status::Code::protocol);
  EXPECT_TRUE(has(in.status().message(), "message from 127.0.0.1")) << in.status().message();
  const std::string ours = fmt::format("{}.{}", kVersionMajor, kVersionMinor);
  EXPECT_TRUE(has(in.status().message(), "protocol version 2.1 is not supported: this build speaks version " + ours))
      << in.status().message();

  raw.set(zmq::sockopt::rcvtimeo, 2000);
  zmq::message_t reply;
  ASSERT_TRUE(raw.recv(reply, zmq::recv_flags::none));
  auto d = decode({static_cast<const uint8_t*>(reply.data()), reply.size()});
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  const auto* e = d->as<ErrorMsg>();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code, ErrorCode::version);
  EXPECT_EQ(e->in_reply_to, 42u);
  EXPECT_TRUE(has(e->text, "2.1") && has(e->text, ours)) << e->text;

  // Garbage gets a protocol Error, and the endpoint keeps serving.
  raw.send(zmq::str_buffer("GET / HTTP/1.0\r\n\r\n"), zmq::send_flags::none);
  auto g = ep.recv(Millis(2000));
  ASSERT_FALSE(g.is_ok());
  EXPECT_TRUE(has(g.status().message(), "not a prima message")) << g.status().message();
  Connection c = connect_to(ep);
  ASSERT_TRUE(c.send(Ack{1}).is_ok());
  EXPECT_TRUE(ep.recv(Millis(2000)).is_ok());
}

TEST(Transport, SendToAPeerThatLeftFailsAtOnce) {
  Endpoint ep = listen_local();
  std::string peer;
  {
    Connection c = connect_to(ep);
    ASSERT_TRUE(c.send(Ack{1}).is_ok());
    auto in = ep.recv(Millis(2000));
    ASSERT_TRUE(in.is_ok());
    peer = in->peer;
  }
  Status s = ep.send("no such peer", Ack{1});
  EXPECT_EQ(s.code(), Status::Code::closed);
  EXPECT_TRUE(has(s.message(), "no longer connected")) << s.message();
  // The departed peer: ZMQ notices the closed TCP connection within moments.
  Stopwatch sw;
  while (ep.send(peer, Ack{2}).is_ok() && sw.elapsed_ms() < 2000) std::this_thread::sleep_for(Millis(10));
  Status gone = ep.send(peer, Ack{3});
  EXPECT_EQ(gone.code(), Status::Code::closed) << gone.message();
  EXPECT_TRUE(has(gone.message(), "127.0.0.1")) << gone.message();
}

TEST(Transport, ListeningTwiceOnAPortIsAClearError) {
  Endpoint ep = listen_local();
  auto again = Endpoint::listen(ep.address());
  ASSERT_FALSE(again.is_ok());
  EXPECT_TRUE(has(again.status().message(), "cannot listen on " + ep.address())) << again.status().message();
  EXPECT_TRUE(has(again.status().message(), "another prima worker")) << again.status().message();
  EXPECT_FALSE(Endpoint::listen("not an address:x").is_ok());
}

TEST(Heartbeat, MonitorMeasuresRttAndNamesAPeerThatDied) {
  auto ep = std::make_unique<Endpoint>(listen_local());
  HeartbeatMonitor mon(77, {Millis(50), Millis(600)}, fast());
  mon.watch("worker w1", ep->address());
  std::this_thread::sleep_for(Millis(400));
  EXPECT_TRUE(mon.check().is_ok()) << mon.check().message();
  auto h = mon.health("worker w1");
  ASSERT_TRUE(h.has_value());
  EXPECT_GE(h->pongs, 3u);
  EXPECT_GT(h->median_rtt_ms, 0.0);
  EXPECT_LT(h->median_rtt_ms, 50.0);
  EXPECT_TRUE(ep->last_ping_ns(77).has_value());
  EXPECT_GE(ep->pings_answered(), 3u);

  ep.reset();  // the worker disappears
  Stopwatch sw;
  while (mon.check().is_ok() && sw.elapsed_ms() < 3000) std::this_thread::sleep_for(Millis(20));
  const Status s = mon.check();
  EXPECT_EQ(s.code(), Status::Code::closed);
  EXPECT_TRUE(has(s.message(), "worker w1 at 127.0.0.1:")) << s.message();
  EXPECT_TRUE(has(s.message(), "no heartbeat reply")) << s.message();
  EXPECT_LT(sw.elapsed_ms(), 1200);
  mon.unwatch("worker w1");
  EXPECT_TRUE(mon.check().is_ok());
  EXPECT_TRUE(mon.health().empty());
}

TEST(Heartbeat, UnwatchingAPeerBeforeOthersKeepsTheRestWatched) {
  // Regression: erasing a peer that is not the last used to move the others, destroying a socket before its
  // monitor (a crash in the monitor's thread). Recovery from a lost worker unwatches whichever one was lost.
  std::vector<std::unique_ptr<Endpoint>> eps;
  HeartbeatMonitor mon(78, {Millis(50), Millis(600)}, fast());
  for (int i = 0; i < 3; ++i) {
    eps.push_back(std::make_unique<Endpoint>(listen_local()));
    mon.watch(fmt::format("worker w{}", i + 1), eps.back()->address());
  }
  std::this_thread::sleep_for(Millis(250));
  mon.unwatch("worker w1");
  mon.unwatch("worker w2");
  std::this_thread::sleep_for(Millis(250));
  EXPECT_TRUE(mon.check().is_ok()) << mon.check().message();
  ASSERT_EQ(mon.health().size(), 1u);
  const auto h = mon.health("worker w3");
  ASSERT_TRUE(h.has_value());
  const uint64_t pongs = h->pongs;
  std::this_thread::sleep_for(Millis(200));
  EXPECT_GT(mon.health("worker w3")->pongs, pongs) << "w3 is still pinged";
}

TEST(Heartbeat, APeerThatNeverExistedIsReported) {
  HeartbeatMonitor mon(1, {Millis(50), Millis(300)}, fast());
  mon.watch("worker w5", fmt::format("127.0.0.1:{}", dead_port()));
  std::this_thread::sleep_for(Millis(450));
  const Status s = mon.check();
  EXPECT_EQ(s.code(), Status::Code::closed);
  EXPECT_TRUE(has(s.message(), "worker w5")) << s.message();
  EXPECT_TRUE(has(s.message(), "never answered")) << s.message();
}

TEST(Heartbeat, WorkerSeesItsHeadGo) {
  Endpoint ep = listen_local();
  auto mon = std::make_unique<HeartbeatMonitor>(5, HeartbeatOptions{Millis(50), Millis(600)}, fast());
  mon->watch("worker w1", ep.address());
  HeadWatch watch(ep, 5, "head h", Millis(400));
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(Millis(60));
    EXPECT_TRUE(watch.check().is_ok()) << watch.check().message();
  }
  mon.reset();  // the head goes away
  Stopwatch sw;
  while (!watch.gone() && sw.elapsed_ms() < 2000) std::this_thread::sleep_for(Millis(10));
  EXPECT_TRUE(watch.gone());
  EXPECT_LT(sw.elapsed_ms(), 700);
  EXPECT_TRUE(has(watch.check().message(), "head h is gone")) << watch.check().message();
  // Another session's pings do not count for this one.
  HeadWatch other(ep, 6, "head h2", Millis(100));
  std::this_thread::sleep_for(Millis(150));
  EXPECT_TRUE(other.gone());
}

TEST(Handshake, PureChecksNameTheOtherSide) {
  const Hello head = hello_of(Role::head, "head", 1000);
  Hello w = hello_of(Role::worker, "w2", 1000);
  EXPECT_TRUE(check_peer_hello(head, w, "worker w2 at 10.203.0.12:9000").is_ok());
  w.model.size = 999;
  Status s = check_peer_hello(head, w, "worker w2 at 10.203.0.12:9000");
  EXPECT_EQ(s.code(), Status::Code::mismatch);
  EXPECT_EQ(s.message(), "worker w2 at 10.203.0.12:9000 has a different model file: 999 bytes there, 1000 here");
  w.model.size = 1000;
  w.model.digest[0] ^= 1;
  s = check_peer_hello(head, w, "worker w2");
  EXPECT_TRUE(has(s.message(), "same size (1000 bytes) but hash dfadbeef")) << s.message();
  w = hello_of(Role::worker, "w2", 1000);
  w.version_major = 2;
  w.version_minor = 0;
  EXPECT_TRUE(has(check_peer_hello(head, w, "worker w2").message(),
                  fmt::format("speaks protocol 2.0, this device speaks {}.{}", kVersionMajor, kVersionMinor)));
  EXPECT_TRUE(has(check_peer_hello(head, head, "x").message(), "is also a head"));
}

TEST(Handshake, OverTheWireBothSidesAgreeOrBothRefuse) {
  Endpoint worker_ep = listen_local();
  for (uint64_t worker_size : {1000ull, 2000ull}) {
    std::thread worker([&] {
      auto in = worker_ep.recv(Millis(3000));
      ASSERT_TRUE(in.is_ok()) << in.status().message();
      auto s = accept_head(worker_ep, *in, hello_of(Role::worker, "w1", worker_size));
      if (worker_size == 1000) {
        ASSERT_TRUE(s.is_ok()) << s.status().message();
        EXPECT_EQ(s->ip, "127.0.0.1");
        EXPECT_EQ(s->describe(), "head head at 127.0.0.1");
      } else {
        ASSERT_FALSE(s.is_ok());
        EXPECT_EQ(s.status().message(), "head head at 127.0.0.1 has a different model file: 1000 bytes there, 2000 here");
      }
    });
    Connection c = connect_to(worker_ep, "w1");
    auto h = handshake_with_worker(c, hello_of(Role::head, "head", 1000, 0xabc), Millis(3000));
    worker.join();
    if (worker_size == 1000) {
      ASSERT_TRUE(h.is_ok()) << h.status().message();
      EXPECT_EQ(h->session, 0xabcu);
      EXPECT_EQ(h->observed_ip, "127.0.0.1");
      EXPECT_EQ(return_address(*h, 9100), "127.0.0.1:9100");
    } else {
      ASSERT_FALSE(h.is_ok());
      EXPECT_EQ(h.status().message(),
                "worker w1 at " + worker_ep.address() + " has a different model file: 2000 bytes there, 1000 here");
    }
  }
}

TEST(Handshake, ABusyWorkerRefusesASecondHead) {
  Endpoint ep = listen_local();
  std::thread worker([&] {
    auto first = ep.recv(Millis(3000));
    ASSERT_TRUE(first.is_ok());
    auto session = accept_head(ep, *first, hello_of(Role::worker, "w1", 1000));
    ASSERT_TRUE(session.is_ok());
    auto second = ep.recv(Millis(3000));
    ASSERT_TRUE(second.is_ok());
    EXPECT_TRUE(refuse_busy(ep, *second, *session, "w1").is_ok());
  });
  Connection a = connect_to(ep, "w1");
  ASSERT_TRUE(handshake_with_worker(a, hello_of(Role::head, "h1", 1000, 1), Millis(3000)).is_ok());
  Connection b = connect_to(ep, "w1");
  auto refused = handshake_with_worker(b, hello_of(Role::head, "h2", 1000, 2), Millis(3000));
  worker.join();
  ASSERT_FALSE(refused.is_ok());
  EXPECT_TRUE(has(refused.status().message(), "refused the handshake (busy): worker w1 is serving head h1 at 127.0.0.1"))
      << refused.status().message();
}

TEST(Security, ASharedKeyAdmitsTheClusterAndKeepsOthersOut) {
  if (!curve_available()) GTEST_SKIP() << "libzmq without CURVE";
  TransportOptions keyed = fast();
  keyed.cluster_key = generate_cluster_key();
  EXPECT_TRUE(check_cluster_key(keyed.cluster_key).is_ok());
  EXPECT_FALSE(check_cluster_key("short").is_ok());
  Endpoint ep = listen_local(keyed);

  Connection good = connect_to(ep, "w1", keyed);
  ASSERT_TRUE(good.send(Ack{1}).is_ok());
  auto in = ep.recv(Millis(2000));
  ASSERT_TRUE(in.is_ok()) << in.status().message();
  ASSERT_TRUE(ep.send(in->peer, Ack{2}).is_ok());
  EXPECT_TRUE(good.recv(Millis(2000)).is_ok());

  TransportOptions other = fast();
  other.cluster_key = generate_cluster_key();
  Connection wrong = connect_to(ep, "w1", other);
  Status s = wrong.send(Ack{1});
  EXPECT_FALSE(s.is_ok());
  EXPECT_TRUE(has(s.message(), "cluster key")) << s.message();
  Connection none = connect_to(ep, "w1", fast());
  s = none.send(Ack{1});
  EXPECT_FALSE(s.is_ok());
  EXPECT_TRUE(has(s.message(), "cluster key")) << s.message();
  EXPECT_EQ(ep.recv(Millis(200)).status().code(), Status::Code::timeout);
}
