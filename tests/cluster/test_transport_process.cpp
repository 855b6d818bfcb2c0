// Transport across processes (cluster_test_peer children on loopback): a ring of three processes, a worker killed
// mid-stream (the head names it within seconds), a head killed (its worker returns to waiting and serves a new head).
#include <gtest/gtest.h>

#include <thread>

#include "child.h"
#include "cluster/connection.h"
#include "cluster/handshake.h"
#include "cluster/heartbeat.h"
#include "core/clock.h"
#include "samples.h"

using namespace prima;
using namespace prima::cluster;
using namespace prima::cluster::testing;

namespace {

using std::chrono::milliseconds;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Starts a worker on a free loopback port; returns its address ("" on failure).
std::string start_worker(Child& w) {
  auto l = w.wait_for("listening ", milliseconds(5000));
  return l ? l->substr(10) : "";
}

std::vector<std::string> worker_args(const std::string& name, int head_timeout_ms = 1500) {
  return {PRIMA_CLUSTER_PEER, "worker", "--listen", "127.0.0.1:0", "--name", name, "--head-timeout-ms",
          std::to_string(head_timeout_ms)};
}

Hello head_hello(uint64_t session) {
  Hello h;
  h.role = Role::head;
  h.device_name = "test-head";
  h.session = session;
  h.model.size = 1000;  // what cluster_test_peer uses by default
  h.model.digest = {1, 2, 3, 4};
  return h;
}

}  // namespace

TEST(TransportProcess, HeadAndTwoWorkersFormARing) {
  Child w1(worker_args("w1")), w2(worker_args("w2"));
  const std::string a1 = start_worker(w1), a2 = start_worker(w2);
  ASSERT_FALSE(a1.empty()) << w1.transcript();
  ASSERT_FALSE(a2.empty()) << w2.transcript();
  Child head({PRIMA_CLUSTER_PEER, "head", "--workers", a1 + "," + a2, "--listen", "127.0.0.1:0", "--n-embd", "2048",
              "--tokens", "16", "--rounds", "10", "--measure-ms", "300"});
  auto done = head.wait_for("done", milliseconds(15000));
  ASSERT_TRUE(done.has_value()) << "head:\n" << head.transcript() << "w1:\n" << w1.transcript();
  EXPECT_EQ(head.wait_exit(milliseconds(3000)), 0);
  const std::string t = head.transcript();
  EXPECT_TRUE(has(t, "ring formed, head at 127.0.0.1:")) << t;
  EXPECT_TRUE(has(t, "ring ok rounds 10")) << t;
  EXPECT_TRUE(has(t, "rtt worker w1")) << t;
  EXPECT_TRUE(w1.wait_for("config rank 0 next " + a2, milliseconds(1000)).has_value()) << w1.transcript();
  EXPECT_TRUE(w2.wait_for("config rank 1 next 127.0.0.1:", milliseconds(1000)).has_value()) << w2.transcript();
}

TEST(TransportProcess, AWorkerKilledMidStreamIsNamedWithinSeconds) {
  Child w(worker_args("w1"));
  const std::string addr = start_worker(w);
  ASSERT_FALSE(addr.empty()) << w.transcript();
  TransportOptions o;
  o.send_timeout = milliseconds(500);
  auto c = Connection::open(addr, "w1", o);
  ASSERT_TRUE(c.is_ok());
  ASSERT_TRUE(handshake_with_worker(*c, head_hello(11), milliseconds(3000)).is_ok());
  HeartbeatMonitor mon(11, {milliseconds(100), milliseconds(1000)}, o);
  mon.watch("worker w1", addr);

  // Stream 1 MiB micro-batches; the worker echoes each back (it has no next hop yet).
  auto s = sample_activations(64, 4096, WireType::f32);
  std::vector<float> out(s.data.size());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c->send(s.a).is_ok());
    auto in = c->recv(milliseconds(3000));
    ASSERT_TRUE(in.is_ok()) << in.status().message();
    in->msg.as<Activations>()->to_f32(out);
    ASSERT_EQ(out, s.data);
  }
  EXPECT_TRUE(mon.check().is_ok()) << mon.check().message();
  ASSERT_TRUE(c->send(s.a).is_ok());
  w.kill_now();  // mid-stream: one message in flight

  Stopwatch sw;
  while (mon.check().is_ok() && sw.elapsed_s() < 5) std::this_thread::sleep_for(milliseconds(20));
  const Status dead = mon.check();
  EXPECT_EQ(dead.code(), Status::Code::closed);
  EXPECT_TRUE(has(dead.message(), "worker w1 at " + addr + " is gone")) << dead.message();
  EXPECT_LT(sw.elapsed_s(), 2.0);
  // The data path says so too, within its send timeout.
  Status s2 = Status::ok();
  for (int i = 0; i < 100 && s2.is_ok(); ++i) s2 = c->send(s.a);
  EXPECT_FALSE(s2.is_ok());
  EXPECT_TRUE(has(s2.message(), "w1 at " + addr)) << s2.message();
  auto r = c->recv(milliseconds(200));
  EXPECT_FALSE(r.is_ok());
}

TEST(TransportProcess, AWorkerReturnsToWaitingWhenItsHeadDies) {
  Child w(worker_args("w1", 800));
  const std::string addr = start_worker(w);
  ASSERT_FALSE(addr.empty()) << w.transcript();
  ASSERT_TRUE(w.wait_for("waiting", milliseconds(2000)).has_value());

  // Head A is a process: it forms a one-worker ring, then is killed while holding the session.
  {
    Child head({PRIMA_CLUSTER_PEER, "head", "--name", "h1", "--workers", addr, "--rounds", "2", "--measure-ms", "60000"});
    ASSERT_TRUE(head.wait_for("ring ok", milliseconds(10000)).has_value()) << head.transcript() << w.transcript();
    ASSERT_TRUE(w.wait_for("session ", milliseconds(1000)).has_value()) << w.transcript();
    head.kill_now();
  }
  Stopwatch sw;
  auto gone = w.wait_for("head gone", milliseconds(5000));
  ASSERT_TRUE(gone.has_value()) << w.transcript();
  EXPECT_LT(sw.elapsed_s(), 2.5);
  EXPECT_TRUE(has(*gone, "head h1 at 127.0.0.1 is gone: no heartbeat for")) << *gone;
  ASSERT_TRUE(w.wait_for("waiting", milliseconds(1000)).has_value()) << w.transcript();

  // Head B (this process) is served.
  auto c = Connection::open(addr, "w1");
  ASSERT_TRUE(c.is_ok());
  auto h = handshake_with_worker(*c, head_hello(22), milliseconds(3000));
  ASSERT_TRUE(h.is_ok()) << h.status().message() << w.transcript();
  EXPECT_TRUE(w.wait_for("session 0000000000000016", milliseconds(2000)).has_value()) << w.transcript();
  ASSERT_TRUE(c->send(Stop{"done"}).is_ok());
  EXPECT_TRUE(w.wait_for("stopped", milliseconds(2000)).has_value()) << w.transcript();
  EXPECT_TRUE(w.wait_for("waiting", milliseconds(1000)).has_value()) << w.transcript();
}

TEST(TransportProcess, AModelMismatchIsAnErrorOnBothSides) {
  auto args = worker_args("w2");
  args.insert(args.end(), {"--model-size", "2000"});
  Child w(args);
  const std::string addr = start_worker(w);
  ASSERT_FALSE(addr.empty()) << w.transcript();
  auto c = Connection::open(addr, "w2");
  ASSERT_TRUE(c.is_ok());
  auto h = handshake_with_worker(*c, head_hello(33), milliseconds(3000));
  ASSERT_FALSE(h.is_ok());
  EXPECT_EQ(h.status().message(), "worker w2 at " + addr + " has a different model file: 2000 bytes there, 1000 here");
  auto refused = w.wait_for("refused: ", milliseconds(2000));
  ASSERT_TRUE(refused.has_value()) << w.transcript();
  EXPECT_EQ(*refused, "refused: head test-head at 127.0.0.1 has a different model file: 1000 bytes there, 2000 here");
}
