#include "profiler/link.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/clock.h"

namespace prima::profiler {
namespace {

using cluster::Connection;
using cluster::Millis;

constexpr uint32_t kProbeEmbd = 1024;  // f32 values per token of a bulk message: 4 KiB
constexpr size_t kFirstRound = 256u << 10;

double seconds_left(int64_t deadline_ns) { return static_cast<double>(deadline_ns - now_ns()) * 1e-9; }

Millis ms_left(int64_t deadline_ns) {
  return Millis(std::max<int64_t>(1, (deadline_ns - now_ns() + 999999) / 1000000));
}

// Sends one ping and waits for its pong; returns the round-trip time in seconds.
Result<double> ping(Connection& c, uint64_t session, int64_t deadline_ns) {
  const auto t = static_cast<uint64_t>(now_ns());
  if (Status s = c.send(cluster::Heartbeat{session, t, 0, false}); !s) return s;
  for (;;) {
    if (now_ns() >= deadline_ns)
      return Status::error(Status::Code::timeout, "{}: no heartbeat reply in time", c.describe());
    auto in = c.recv(ms_left(deadline_ns));
    if (!in) return in.status();
    if (const auto* hb = in->msg.as<cluster::Heartbeat>(); hb && hb->is_reply && hb->t_echo_ns == t)
      return static_cast<double>(static_cast<uint64_t>(now_ns()) - t) * 1e-9;
    if (const auto* e = in->msg.as<cluster::ErrorMsg>())
      return Status::error(Status::Code::protocol, "{} answered with an error ({}): {}", c.describe(),
                           cluster::error_code_name(e->code), e->text);
    // Anything else (the pong of an earlier ping that timed out, a stray reply) is not ours: skip it.
  }
}

// The bulk messages of one round, built once per size.
class Bulk {
 public:
  explicit Bulk(size_t max_message_bytes)
      : tokens_max_(static_cast<uint32_t>(std::max<size_t>(1, max_message_bytes / (4 * kProbeEmbd)))),
        zeros_(static_cast<size_t>(tokens_max_) * kProbeEmbd, 0.0f) {}

  // Sends about `bytes` bytes of data; returns the bytes put on the wire (headers included).
  Result<uint64_t> send(Connection& c, size_t bytes) {
    uint64_t wire = 0;
    size_t left = bytes;
    while (left > 0) {
      const auto tokens = static_cast<uint32_t>(
          std::clamp<size_t>(left / (4 * kProbeEmbd), 1, static_cast<size_t>(tokens_max_)));
      cluster::Activations a;
      a.step_id = kLinkProbeStep;
      a.dtype = cluster::WireType::f32;
      a.n_tokens = tokens;
      a.n_embd = kProbeEmbd;
      a.pos.assign(tokens, 0);
      a.seq_id.assign(tokens, 0);
      a.output.assign(tokens, 0);
      a.values = std::span<const float>(zeros_.data(), static_cast<size_t>(tokens) * kProbeEmbd);
      const size_t size = cluster::encoded_size(cluster::Message{0, cluster::kVersionMinor, 0, a});
      if (Status s = c.send(a); !s) return s;
      wire += size;
      const size_t data = static_cast<size_t>(tokens) * 4 * kProbeEmbd;
      left = left > data ? left - data : 0;
    }
    return wire;
  }

 private:
  uint32_t tokens_max_;
  std::vector<float> zeros_;
};

}  // namespace

bool is_link_probe(const cluster::Message& msg) {
  const auto* a = msg.as<cluster::Activations>();
  return a != nullptr && a->step_id == kLinkProbeStep;
}

Result<LinkMeasurement> measure_link(Connection& next, const LinkOptions& o) {
  Stopwatch sw;
  const int64_t deadline = now_ns() + static_cast<int64_t>(std::max(0.05, o.seconds) * 1e9);
  LinkMeasurement m;
  if (Status s = next.wait_connected(ms_left(deadline)); !s) return s;

  // RTT: one warm-up ping (connection set-up, first-packet costs), then the samples.
  std::vector<double> rtts;
  for (int i = 0; i <= std::max(1, o.pings); ++i) {
    auto r = ping(next, o.session, deadline);
    if (!r) {
      if (rtts.size() >= 3 && r.status().code() == Status::Code::timeout) {
        m.notes.push_back(fmt::format("only {} of {} pings answered in time", rtts.size(), o.pings));
        break;
      }
      return r.status();
    }
    if (i > 0) rtts.push_back(*r);
  }
  m.rtt = estimate(rtts);
  const double rtt = m.rtt.median;

  // Bandwidth: grow the round until it takes long enough to dwarf the RTT, then repeat it.
  const double target = std::max(o.round_seconds, 4 * rtt);
  const size_t max_round = std::max(o.max_round_bytes, kFirstRound);
  Bulk bulk(o.max_message_bytes);
  size_t round = kFirstRound;
  std::vector<double> rates;
  bool final_size = false;
  double last_rate = 0;  // bytes/s of the previous round, to predict the next one's time
  while (static_cast<int>(rates.size()) < std::max(1, o.rounds)) {
    const double predicted = last_rate > 0 ? static_cast<double>(round) / last_rate + rtt : 0;
    if (seconds_left(deadline) < predicted * 1.5 + rtt) break;
    const int64_t t0 = now_ns();
    auto sent = bulk.send(next, round);
    if (!sent) return sent.status();
    m.bulk_bytes += *sent;
    auto pong = ping(next, o.session, deadline);
    if (!pong) {
      if (pong.status().code() != Status::Code::timeout) return pong.status();
      m.notes.push_back(fmt::format("a bandwidth round of {} bytes did not finish in time", *sent));
      break;
    }
    const double elapsed = static_cast<double>(now_ns() - t0) * 1e-9;
    const double transfer = elapsed - rtt;
    if (transfer > 0) last_rate = static_cast<double>(*sent) / transfer;
    const bool long_enough = elapsed >= target || round >= max_round;
    if (!final_size && long_enough) final_size = true;
    if (final_size) {
      if (transfer > 0.5 * elapsed) {
        rates.push_back(static_cast<double>(*sent) / transfer);
        m.round_bytes = *sent;
      }
      continue;
    }
    // Not there yet: aim for the target with some margin, at least doubling, at most 8x.
    const double grow = elapsed > 0 ? std::clamp(target / elapsed * 1.3, 2.0, 8.0) : 8.0;
    round = std::min(max_round, static_cast<size_t>(static_cast<double>(round) * grow));
  }
  m.bandwidth = estimate(rates);
  if (m.bandwidth.n == 0) m.notes.push_back("bandwidth not measured: no round completed within the time bound");
  if (m.rtt.noisy(kNoisyLink))
    m.notes.push_back(fmt::format("noisy RTT: {:.2f}..{:.2f} ms", m.rtt.min * 1e3, m.rtt.max * 1e3));
  if (m.bandwidth.noisy(kNoisyLink))
    m.notes.push_back(fmt::format("noisy bandwidth: {:.1f}..{:.1f} MB/s", m.bandwidth.min / 1e6, m.bandwidth.max / 1e6));
  m.seconds = sw.elapsed_s();
  return m;
}

}  // namespace prima::profiler
