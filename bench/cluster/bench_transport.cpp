// Loopback transport and codec costs: what one ring hop adds on top of the network itself.
//   Codec/*         encode a micro-batch of hidden states into a frame (f32 copy or f16 conversion), decode to a view
//   HopLatency/*    one Activations message to an Endpoint and back (the echo re-sends the received view), RTT
//   Stream/*        one-way stream of micro-batches into an Endpoint, with to_f32 on the receiving side
// Shapes: n_embd 8192 (70B); 1 token = a decode step (32 KiB f32), 512 tokens = a prefill micro-batch (16 MiB).
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

#include "cluster/connection.h"
#include "cluster/endpoint.h"
#include "core/error.h"

using namespace prima;
using namespace prima::cluster;

namespace {

constexpr uint32_t kEmbd = 8192;

struct Batch {
  std::vector<float> data;
  Activations a;
  Batch(uint32_t n_tokens, WireType dtype) : data(size_t{n_tokens} * kEmbd) {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i % 251) * 0.01f;
    a.n_tokens = n_tokens;
    a.n_embd = kEmbd;
    a.dtype = dtype;
    a.pos.assign(n_tokens, 0);
    a.seq_id.assign(n_tokens, 0);
    a.output.assign(n_tokens, 0);
    a.values = data;
  }
};

WireType dtype_arg(int64_t v) { return v ? WireType::f16 : WireType::f32; }

void Codec_Encode(benchmark::State& state) {
  Batch b(static_cast<uint32_t>(state.range(0)), dtype_arg(state.range(1)));
  Message m;
  m.body = b.a;
  std::vector<uint8_t> frame(encoded_size(m));
  for (auto _ : state) {
    encode_into(m, frame);
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.data.size() * 4));
}
BENCHMARK(Codec_Encode)->Args({1, 0})->Args({512, 0})->Args({1, 1})->Args({512, 1});

void Codec_DecodeToF32(benchmark::State& state) {
  Batch b(static_cast<uint32_t>(state.range(0)), dtype_arg(state.range(1)));
  Message m;
  m.body = b.a;
  const auto frame = encode(m);
  std::vector<float> out(b.data.size());
  for (auto _ : state) {
    auto d = decode(frame);
    d->as<Activations>()->to_f32(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.data.size() * 4));
}
BENCHMARK(Codec_DecodeToF32)->Args({1, 0})->Args({512, 0})->Args({1, 1})->Args({512, 1});

// An Endpoint whose owner thread echoes every Activations message back to its sender.
struct Echo {
  Endpoint ep;
  std::atomic<bool> stop{false};
  std::thread t;
  explicit Echo(Endpoint e) : ep(std::move(e)) {
    t = std::thread([this] {
      while (!stop.load()) {
        auto in = ep.recv(Millis(50));
        if (in && in->msg.as<Activations>()) (void)ep.send(in->peer, *in->msg.as<Activations>());
      }
    });
  }
  ~Echo() {
    stop = true;
    t.join();
  }
};

void HopLatency(benchmark::State& state) {
  Echo echo(std::move(Endpoint::listen("127.0.0.1:0").value()));
  auto c = Connection::open(echo.ep.address(), "echo");
  Batch b(static_cast<uint32_t>(state.range(0)), WireType::f32);
  for (auto _ : state) {
    if (!c->send(b.a).is_ok()) state.SkipWithError("send");
    auto in = c->recv(Millis(10000));
    if (!in) state.SkipWithError(in.status().message().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.data.size() * 4 * 2));
}
BENCHMARK(HopLatency)->Arg(1)->Arg(16)->Arg(512)->UseRealTime()->Unit(benchmark::kMicrosecond);

void Stream(benchmark::State& state) {
  auto ep = Endpoint::listen("127.0.0.1:0");
  auto c = Connection::open(ep->address(), "sink");
  Batch b(static_cast<uint32_t>(state.range(0)), WireType::f32);
  std::vector<float> out(b.data.size());
  constexpr int kInFlight = 4;
  int64_t sent = 0, received = 0;
  for (auto _ : state) {
    while (sent - received < kInFlight) {
      if (!c->send(b.a).is_ok()) state.SkipWithError("send");
      ++sent;
    }
    auto in = ep->recv(Millis(10000));
    if (!in) state.SkipWithError(in.status().message().c_str());
    in->msg.as<Activations>()->to_f32(out);
    ++received;
  }
  while (received < sent && ep->recv(Millis(10000))) ++received;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.data.size() * 4));
}
BENCHMARK(Stream)->Arg(16)->Arg(512)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
