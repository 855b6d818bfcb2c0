#include "runtime/local_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "core/clock.h"
#include "core/log.h"
#include "core/format.h"
#include "memory/accounting.h"
#include "memory/budget.h"

namespace prima::runtime {

int32_t resolve_n_ctx(const model::HParams& hp, int32_t requested) {
  if (requested < 0) fail("context size -c {} must not be negative", requested);
  const int32_t n = requested == 0 ? std::min(hp.n_ctx_train, 4096) : requested;
  if (n > hp.n_ctx_train)
    log::warn("context size {} exceeds the {} tokens the model was trained with; quality may drop", n, hp.n_ctx_train);
  if (n > (1 << 22)) fail("context size {} is too large", n);
  return n;
}

int resolve_threads(int requested) {
  if (requested < 0) fail("thread count -t {} must not be negative", requested);
  if (requested > 1024) fail("thread count -t {} is too large", requested);
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

HeadRanges head_ranges(const model::Model& model) { return {model.head().output_ranges, model.head().input_ranges}; }

LocalEngine::LocalEngine(const model::Model& model, LocalOptions opt) : model_(model), opt_(std::move(opt)) {
  const auto& hp = model.hparams();
  opt_.n_ctx = resolve_n_ctx(hp, opt_.n_ctx);
  PRIMA_CHECK(opt_.n_seq >= 1 && opt_.n_seq <= 256, "sequence slots {} must be in 1..256", opt_.n_seq);
  PRIMA_CHECK(opt_.n_ubatch >= 1 && opt_.n_ubatch <= 8192, "micro-batch size {} must be in 1..8192", opt_.n_ubatch);
  plan_ = RingPlan::from_windows(hp.n_layer, {opt_.window > 0 ? opt_.window : hp.n_layer});
  read_bytes_at_start_ = memory::sample_process().read_bytes;
  windows_ = std::make_unique<DeviceWindows>(model, plan_.ranges(0), model::KvConfig{opt_.n_ctx, opt_.n_seq, opt_.kv_type},
                                             resolve_threads(opt_.n_threads), opt_.memory, head_ranges(model),
                                             opt_.n_ubatch);
  x_.resize(static_cast<size_t>(opt_.n_ubatch) * static_cast<size_t>(hp.n_embd));
}

std::string LocalEngine::describe() const {
  return fmt::format("1 device, {} layers{}, {} threads, n_ctx {} x {} seq, KV {}", model_.hparams().n_layer,
                     plan_.k > 1 ? fmt::format(" in {} windows", plan_.k) : "", windows_->pool().n_threads(),
                     opt_.n_ctx, opt_.n_seq, type_name(opt_.kv_type));
}

std::string LocalEngine::summary() {
  const auto& m = windows_->memory().stats();
  const auto c = memory::sample_process();
  const uint64_t read = c.read_bytes >= read_bytes_at_start_ ? c.read_bytes - read_bytes_at_start_ : 0;
  const double pressure = m.total_bytes > 0 ? 100.0 * static_cast<double>(c.rss_anon) / static_cast<double>(m.total_bytes) : 0;
  if (plan_.k == 1 && m.streamed_bytes == 0 && m.pagein_ns < 1'000'000'000) return "";
  return fmt::format("memory: {}; page-in {:.0f} ms, {} read from disk{}, memory pressure {:.1f} % ({} anonymous)\n",
                     m.plan, m.pagein_ns * 1e-6, format_bytes(read),
                     m.recached_bytes > 0 ? fmt::format(" ({} of it kept weights read again into 2 MiB pages)",
                                                        format_bytes(m.recached_bytes))
                                          : "",
                     pressure, format_bytes(c.rss_anon));
}

Status LocalEngine::decode(const TokenBatch& batch, std::vector<float>& logits) {
  const auto& hp = model_.hparams();
  const size_t n_embd = static_cast<size_t>(hp.n_embd), n_vocab = static_cast<size_t>(hp.n_vocab);
  const int32_t n = batch.size();
  if (batch.pos.size() != batch.tokens.size() || batch.seq.size() != batch.tokens.size() ||
      batch.logits.size() != batch.tokens.size())
    return Status::error(Status::Code::invalid, "malformed batch: field sizes differ");
  if (Status s = windows_->check({n, batch.pos.data(), batch.seq.data()}); !s) return s;
  logits.resize(static_cast<size_t>(batch.n_outputs()) * n_vocab);
  size_t n_out = 0;
  for (int32_t b0 = 0; b0 < n; b0 += opt_.n_ubatch) {
    const int32_t nb = std::min(opt_.n_ubatch, n - b0);
    Stopwatch sw;
    double pagein_ms = 0;
    if (Status st = model_.embed({batch.tokens.data() + b0, static_cast<size_t>(nb)}, x_.data()); !st) return st;
    const model::Batch mb{nb, batch.pos.data() + b0, batch.seq.data() + b0};
    for (size_t c = 0; c < windows_->n_cycles(); ++c) {
      if (Status st = windows_->forward(c, mb, x_.data()); !st) return st;
      pagein_ms += windows_->last_timing().pagein_ns * 1e-6;
      windows_->done(c);
    }
    // Gather the rows that want logits and run the output layer on them only.
    x_out_.clear();
    for (int32_t t = 0; t < nb; ++t)
      if (batch.logits[static_cast<size_t>(b0 + t)])
        x_out_.insert(x_out_.end(), x_.begin() + static_cast<long>(t * n_embd), x_.begin() + static_cast<long>((t + 1) * n_embd));
    const int32_t nb_out = static_cast<int32_t>(x_out_.size() / n_embd);
    if (nb_out > 0) model_.output(windows_->pool(), x_out_.data(), nb_out, logits.data() + n_out * n_vocab, scratch_);
    n_out += static_cast<size_t>(nb_out);
    last_step_ms_ = sw.elapsed_ms();
    last_pagein_ms_ = pagein_ms;
    timings_.compute_ms += last_step_ms_ - pagein_ms;
    timings_.pagein_ms += pagein_ms;
    ++timings_.n_steps;
  }
  return Status::ok();
}

std::vector<DeviceStatus> LocalEngine::devices() const {
  DeviceStatus d;
  d.name = "head";
  if (auto b = memory::probe_budget(); b) {
    d.memory_total = b->total_bytes;
    d.memory_available = b->available_bytes;
  }
  d.memory_anon = memory::sample_process().rss_anon;
  d.windows = windows_->ranges();
  d.k = plan_.k;
  d.last_compute_ms = last_step_ms_ - last_pagein_ms_;
  d.last_disk_ms = last_pagein_ms_;
  return {d};
}

Status LocalEngine::check_seq(int32_t seq) const {
  if (seq >= opt_.n_seq) return Status::error(Status::Code::invalid, "sequence {} is outside 0..{}", seq, opt_.n_seq - 1);
  return Status::ok();
}

Status LocalEngine::kv_clear(int32_t seq) {
  if (Status st = check_seq(seq); !st) return st;
  if (seq < 0) return windows_->apply({KvOpKind::clear_all});
  return windows_->apply({KvOpKind::remove, seq, 0, 0});
}

Status LocalEngine::kv_truncate(int32_t seq, int32_t n_keep) {
  if (seq < 0) return Status::error(Status::Code::invalid, "truncate needs a sequence id");
  if (Status st = check_seq(seq); !st) return st;
  return windows_->apply({KvOpKind::remove, seq, 0, n_keep});
}

Status LocalEngine::kv_copy(int32_t src, int32_t dst) {
  if (src < 0 || dst < 0) return Status::error(Status::Code::invalid, "copy needs sequence ids");
  if (Status st = check_seq(src); !st) return st;
  if (Status st = check_seq(dst); !st) return st;
  return windows_->apply({KvOpKind::copy, src, dst, 0});
}

}  // namespace prima::runtime
