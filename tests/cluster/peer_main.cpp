// cluster_test_peer: a stand-in worker or head for the cross-process and homelab tests, built only on the cluster
// module. It prints one line per event on stdout (flushed), which the tests wait for.
//
//   cluster_test_peer worker --listen ADDR [--name w1] [--model-size N] [--head-timeout-ms 1500]
//       Serves one head at a time: handshake, Config (connects to next_hop), KvOp (Ack), Activations (forwarded to
//       next_hop, or echoed back to the sender before any Config), Stop; returns to waiting when the head is gone.
//   cluster_test_peer head --workers A,B,... [--listen ADDR] [--n-embd 4096] [--tokens 8] [--rounds 20]
//                          [--measure-ms 1500]
//       Handshakes with each worker, forms the ring workers... -> head, sends `rounds` activations round it,
//       checks they come back intact, then reports the median heartbeat RTT per worker.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster/address.h"
#include "cluster/connection.h"
#include "cluster/endpoint.h"
#include "cluster/handshake.h"
#include "cluster/heartbeat.h"
#include "core/clock.h"

using namespace prima;
using namespace prima::cluster;

namespace {

struct Args {
  std::string mode;
  std::string listen = "127.0.0.1:0";
  std::string name = "w1";
  std::string workers;
  uint64_t model_size = 1000;
  int head_timeout_ms = 1500;
  uint32_t n_embd = 4096;
  uint32_t tokens = 8;
  int rounds = 20;
  int measure_ms = 1500;
};

void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

[[noreturn]] void die(const std::string& why) {
  say("error " + why);
  std::exit(1);
}

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) die("usage: cluster_test_peer worker|head [options]");
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--listen") a.listen = v;
    else if (k == "--name") a.name = v;
    else if (k == "--workers") a.workers = v;
    else if (k == "--model-size") a.model_size = std::stoull(v);
    else if (k == "--head-timeout-ms") a.head_timeout_ms = std::stoi(v);
    else if (k == "--n-embd") a.n_embd = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--tokens") a.tokens = static_cast<uint32_t>(std::stoul(v));
    else if (k == "--rounds") a.rounds = std::stoi(v);
    else if (k == "--measure-ms") a.measure_ms = std::stoi(v);
    else die("unknown option " + k);
  }
  return a;
}

Hello my_hello(const Args& a, Role role, uint16_t port) {
  Hello h;
  h.role = role;
  h.device_name = a.name;
  h.software_version = "cluster_test_peer";
  h.listen_port = port;
  h.model.size = a.model_size;
  h.model.digest = {1, 2, 3, 4};
  h.facts = basic_device_facts();
  return h;
}

// One head's session on a worker; returns when the head stops or goes away.
void serve(Endpoint& ep, const Args& a, const HeadSession& head) {
  HeadWatch watch(ep, head.hello.session, head.describe(), Millis(a.head_timeout_ms));
  std::optional<Connection> next;
  while (true) {
    if (Status s = watch.check(); !s) {
      say("head gone: " + s.message());
      return;
    }
    auto in = ep.recv(Millis(50));
    if (!in) {
      if (in.status().code() != Status::Code::timeout) say("bad message: " + in.status().message());
      continue;
    }
    const Message& m = in->msg;
    if (in->peer != head.peer && m.as<Hello>()) {
      (void)refuse_busy(ep, *in, head, a.name);
      say("refused a second head");
    } else if (const auto* c = m.as<Config>()) {
      auto conn = Connection::open(c->next_hop, "next hop " + c->ring[(c->rank + 1) % c->world_size()].name);
      if (!conn) {
        (void)ep.reply_error(*in, ErrorCode::invalid, conn.status().message());
        continue;
      }
      next.emplace(std::move(conn).value());
      say("config rank " + std::to_string(c->rank) + " next " + c->next_hop);
      (void)ep.send(in->peer, Ack{m.seq});
    } else if (m.as<KvOp>()) {
      (void)ep.send(in->peer, Ack{m.seq});
    } else if (const auto* act = m.as<Activations>()) {
      Activations fwd = *act;  // wire view: re-sent as it is, no conversion
      Status s = next ? next->send(fwd) : ep.send(in->peer, fwd);
      if (!s) say("forward failed: " + s.message());
    } else if (m.as<Stop>()) {
      say("stopped");
      return;
    }
  }
}

int run_worker(const Args& a) {
  auto ep = Endpoint::listen(a.listen, a.name);
  if (!ep) die(ep.status().message());
  say("listening " + ep->address());
  const Hello ours = my_hello(a, Role::worker, ep->port());
  while (true) {
    say("waiting");
    while (true) {
      auto in = ep->recv(Millis(100));
      if (!in) {
        if (in.status().code() != Status::Code::timeout) say("bad message: " + in.status().message());
        continue;
      }
      if (!in->msg.as<Hello>()) continue;  // leftovers of an old session
      auto head = accept_head(*ep, *in, ours);
      if (!head) {
        say("refused: " + head.status().message());
        continue;
      }
      say(fmt::format("session {:016x} from {}", head->hello.session, head->ip));
      serve(*ep, a, *head);
      break;
    }
  }
}

int run_head(const Args& a) {
  std::vector<std::string> addrs;
  for (size_t p = 0; p <= a.workers.size();) {
    const size_t q = std::min(a.workers.find(',', p), a.workers.size());
    if (q > p) addrs.push_back(a.workers.substr(p, q - p));
    p = q + 1;
  }
  if (addrs.empty()) die("--workers is empty");
  auto ep = Endpoint::listen(a.listen, "head");
  if (!ep) die(ep.status().message());
  std::random_device rd;
  Hello ours = my_hello(a, Role::head, ep->port());
  ours.session = (uint64_t{rd()} << 32) | rd();

  std::vector<Connection> conns;
  std::vector<Hello> replies;
  for (size_t i = 0; i < addrs.size(); ++i) {
    auto c = Connection::open(addrs[i], fmt::format("w{}", i + 1));
    if (!c) die(c.status().message());
    auto h = handshake_with_worker(*c, ours, Millis(5000));
    if (!h) die(h.status().message());
    say("handshake " + c->describe() + " sees head at " + h->observed_ip);
    conns.push_back(std::move(c).value());
    replies.push_back(*h);
  }
  HeartbeatMonitor mon(ours.session, {Millis(100), Millis(3000)});
  for (auto& c : conns) mon.watch("worker " + c.name(), c.address());

  // Ring: w1 -> w2 -> ... -> head. The last worker reaches the head at the IP it saw us connect from.
  const size_t n = conns.size();
  const std::string head_addr = return_address(replies.back(), ep->port());
  for (size_t i = 0; i < n; ++i) {
    Config c;
    for (size_t j = 0; j < n; ++j) c.ring.push_back({conns[j].name(), conns[j].address(), 1});
    c.ring.push_back({"head", head_addr, 1});
    c.rank = static_cast<uint32_t>(i);
    c.next_hop = i + 1 < n ? conns[i + 1].address() : head_addr;
    c.n_ctx = 512;
    c.n_batch = c.n_ubatch = 64;
    if (Status s = conns[i].send(c); !s) die(s.message());
    auto ack = conns[i].recv(Millis(5000));
    if (!ack || !ack->msg.as<Ack>()) die(conns[i].describe() + ": no Ack for Config");
  }
  say("ring formed, head at " + head_addr);

  std::vector<float> data(size_t{a.tokens} * a.n_embd);
  std::vector<float> back(data.size());
  std::vector<double> ms;
  for (int r = 0; r < a.rounds; ++r) {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>((i * 7 + static_cast<size_t>(r)) % 1000);
    Activations act;
    act.step_id = static_cast<uint64_t>(r);
    act.n_tokens = a.tokens;
    act.n_embd = a.n_embd;
    for (uint32_t t = 0; t < a.tokens; ++t) {
      act.pos.push_back(static_cast<int32_t>(t));
      act.seq_id.push_back(0);
      act.output.push_back(t + 1 == a.tokens);
    }
    act.values = data;
    Stopwatch sw;
    if (Status s = conns[0].send(act); !s) die(s.message());
    auto in = ep->recv(Millis(5000));
    if (!in) die("ring round " + std::to_string(r) + ": " + in.status().message());
    const auto* got = in->msg.as<Activations>();
    if (!got || got->step_id != act.step_id) die("ring round " + std::to_string(r) + ": wrong message " + describe(in->msg));
    got->to_f32(back);
    if (back != data) die("ring round " + std::to_string(r) + ": data changed on the way");
    ms.push_back(sw.elapsed_ms());
  }
  std::sort(ms.begin(), ms.end());
  say(fmt::format("ring ok rounds {} median_ms {:.2f}", a.rounds, ms[ms.size() / 2]));

  std::this_thread::sleep_for(Millis(a.measure_ms));
  for (const auto& h : mon.health())
    say(fmt::format("rtt {} median_ms {:.3f} min_ms {:.3f} pongs {}", h.name, h.median_rtt_ms, h.min_rtt_ms, h.pongs));
  if (Status s = mon.check(); !s) die(s.message());
  for (auto& c : conns) (void)c.send(Stop{"test done"});
  say("done");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  if (a.mode == "worker") return run_worker(a);
  if (a.mode == "head") return run_head(a);
  die("unknown mode " + a.mode);
}
