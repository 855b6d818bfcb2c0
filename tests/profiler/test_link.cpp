// The link helper on loopback: an Endpoint in this process answers the pings (its I/O thread) and a thread drains
// the bulk messages, as the next device's receive loop would.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "cluster/connection.h"
#include "cluster/endpoint.h"
#include "core/clock.h"
#include "profiler/link.h"

namespace prima::profiler {
namespace {

using cluster::Millis;

struct Peer {
  cluster::Endpoint ep;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> probes{0}, others{0};
  std::thread drain;

  explicit Peer(cluster::Endpoint e) : ep(std::move(e)) {
    drain = std::thread([this] {
      while (!stop.load()) {
        auto in = ep.recv(Millis(50));
        if (!in) continue;
        if (is_link_probe(in->msg))
          probes.fetch_add(1);
        else
          others.fetch_add(1);
      }
    });
  }
  ~Peer() {
    stop.store(true);
    drain.join();
  }
};

TEST(Link, LoopbackRttAndBandwidth) {
  auto ep = cluster::Endpoint::listen("127.0.0.1:0", "next");
  ASSERT_TRUE(ep) << ep.status().message();
  Peer peer(std::move(*ep));
  auto conn = cluster::Connection::open("127.0.0.1:" + std::to_string(peer.ep.port()), "next");
  ASSERT_TRUE(conn) << conn.status().message();

  LinkOptions o;
  o.seconds = 1.5;
  o.round_seconds = 0.05;
  o.max_round_bytes = 16u << 20;
  Stopwatch sw;
  auto m = measure_link(*conn, o);
  ASSERT_TRUE(m) << m.status().message();
  EXPECT_LT(sw.elapsed_s(), o.seconds + 1.0);  // bounded: at most one round past the deadline

  EXPECT_EQ(m->rtt.n, o.pings);
  EXPECT_GT(m->rtt.median, 0);
  EXPECT_LT(m->rtt.median, 0.05);  // loopback: well under a millisecond unless the machine is very busy
  ASSERT_GE(m->bandwidth.n, 1);
  EXPECT_GT(m->bandwidth.median, 50e6);  // loopback moves hundreds of MB/s at least
  EXPECT_GT(m->bulk_bytes, m->round_bytes);
  const scheduler::LinkProfile p = m->profile();
  EXPECT_DOUBLE_EQ(p.rtt, m->rtt.median);
  EXPECT_DOUBLE_EQ(p.bandwidth, m->bandwidth.median);

  // The receiving side saw only probes (pings are answered by its I/O thread, never queued).
  const int64_t until = now_ns() + 2'000'000'000;
  while (peer.probes.load() == 0 && now_ns() < until) std::this_thread::sleep_for(Millis(10));
  EXPECT_GT(peer.probes.load(), 0u);
  EXPECT_EQ(peer.others.load(), 0u);
  EXPECT_GE(peer.ep.pings_answered(), static_cast<uint64_t>(o.pings));
}

TEST(Link, NobodyListeningFailsInBoundedTime) {
  // A port nobody listens on: bind an endpoint, note its port, close it.
  uint16_t port = 0;
  {
    auto ep = cluster::Endpoint::listen("127.0.0.1:0");
    ASSERT_TRUE(ep);
    port = ep->port();
  }
  auto conn = cluster::Connection::open("127.0.0.1:" + std::to_string(port), "gone");
  ASSERT_TRUE(conn);
  LinkOptions o;
  o.seconds = 0.3;
  Stopwatch sw;
  auto m = measure_link(*conn, o);
  EXPECT_FALSE(m);
  EXPECT_LT(sw.elapsed_s(), 1.5);
  EXPECT_NE(m.status().message().find("gone"), std::string::npos) << m.status().message();
}

TEST(Link, ProbeRecognition) {
  cluster::Message m;
  cluster::Activations a;
  a.step_id = kLinkProbeStep;
  m.body = a;
  EXPECT_TRUE(is_link_probe(m));
  a.step_id = 7;
  m.body = a;
  EXPECT_FALSE(is_link_probe(m));
  m.body = cluster::Heartbeat{};
  EXPECT_FALSE(is_link_probe(m));
}

}  // namespace
}  // namespace prima::profiler
