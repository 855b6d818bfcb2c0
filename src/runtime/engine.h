// The seam between "what to compute" (generation, server, benchmarks) and "where it is computed" (one device,
// or a ring of devices). An Engine evaluates batches of tokens and returns the logits of the tokens that ask
// for them; the KV cache is addressed by sequence id. LocalEngine runs everything here; the ring's head
// implements the same interface over the network.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/hparams.h"

namespace prima::runtime {

struct TokenBatch {
  std::vector<int32_t> tokens;  // [n]
  std::vector<int32_t> pos;     // [n]
  std::vector<int32_t> seq;     // [n]
  std::vector<uint8_t> logits;  // [n]  1 = return this token's logits

  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
  void add(int32_t token, int32_t p, int32_t s, bool want_logits) {
    tokens.push_back(token);
    pos.push_back(p);
    seq.push_back(s);
    logits.push_back(want_logits ? 1 : 0);
  }
  void clear() {
    tokens.clear();
    pos.clear();
    seq.clear();
    logits.clear();
  }
  int32_t n_outputs() const {
    int32_t n = 0;
    for (auto l : logits) n += l;
    return n;
  }
};

// One device of the engine as a status page shows it: where it is, what it computes, how the last token's
// time on it split.
struct DeviceStatus {
  std::string name;     // "head", "w1", ...
  std::string address;  // "10.203.0.12:9000"; "" for this process
  bool alive = true;
  uint64_t memory_total = 0;      // bytes of RAM it plans with (cgroup-aware)
  uint64_t memory_available = 0;
  uint64_t memory_anon = 0;       // what the OS cannot reclaim because of us (KV cache, buffers)
  std::vector<std::pair<int32_t, int32_t>> windows;  // [il_begin, il_end) per cycle
  int32_t k = 1;                                     // cycles per token
  double last_compute_ms = 0;  // its share of the last token
  double last_network_ms = 0;
  double last_disk_ms = 0;     // waiting for weights to page in
};

// Time spent per token-step, by kind (summed over the steps of a run).
struct EngineTimings {
  double compute_ms = 0;   // forward of our windows + head
  double wait_ms = 0;      // waiting for the ring to come back
  double send_ms = 0;      // serialising and sending
  double pagein_ms = 0;    // first touch of weights not yet resident
  int64_t n_steps = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;

  virtual const model::HParams& hparams() const = 0;
  virtual int32_t n_ctx() const = 0;  // positions per sequence
  virtual int32_t n_seq() const = 0;  // sequence slots

  // Evaluates the batch; `logits` receives [n_outputs][n_vocab], in batch order of the tokens that ask.
  // Fails with a clear Status (context full, bad token, a device lost) and leaves the sequence usable up to the
  // positions evaluated before the failure.
  virtual Status decode(const TokenBatch& batch, std::vector<float>& logits) = 0;

  virtual Status kv_clear(int32_t seq) = 0;  // seq < 0: all
  virtual Status kv_truncate(int32_t seq, int32_t n_keep) = 0;
  virtual Status kv_copy(int32_t src, int32_t dst) = 0;
  virtual int32_t seq_len(int32_t seq) const = 0;

  virtual EngineTimings timings() const { return {}; }
  virtual std::vector<DeviceStatus> devices() const = 0;  // ring order, head last
  // Largest share of a device's RAM the run holds in memory the OS cannot reclaim (anonymous), in percent.
  double memory_pressure_percent() const {
    double worst = 0;
    for (const auto& d : devices())
      if (d.memory_total > 0) worst = std::max(worst, 100.0 * static_cast<double>(d.memory_anon) / static_cast<double>(d.memory_total));
    return worst;
  }
  virtual std::string describe() const = 0;  // one line: devices, windows, threads
  virtual std::string summary() { return ""; }  // per-device accounting of the run so far (multi-line)
};

}  // namespace prima::runtime
