#include "runtime/device_windows.h"

#include "core/clock.h"

namespace prima::runtime {

DeviceWindows::DeviceWindows(const model::Model& model, const std::vector<LayerRange>& ranges, model::KvConfig kv,
                             int n_threads, const MemoryOptions& mem, const HeadRanges& head,
                             int32_t n_ubatch)
    : kv_(kv), pool_(n_threads) {
  PRIMA_CHECK(!ranges.empty(), "a device needs at least one window");
  const auto& hp = model.hparams();
  uint64_t anon = 0;
  std::vector<std::vector<WindowMemory::Layer>> layers;  // [window][layer of the window]
  for (const auto& [b, e] : ranges) {
    windows_.push_back(std::make_unique<model::Window>(model, b, e, kv));
    auto& w = layers.emplace_back();
    for (int32_t il = b; il < e; ++il) w.push_back({il, model.layer(il).ranges});
    anon += windows_.back()->kv().n_bytes();
  }
  // Activations of one micro-batch: hidden, q/k/v, attention, feed-forward and the scores.
  anon += static_cast<uint64_t>(n_ubatch) * 4 *
          (4ull * hp.n_embd + 2ull * hp.n_ff + 3ull * hp.n_head * hp.n_embd_head) +
          static_cast<uint64_t>(n_threads) * static_cast<uint64_t>(hp.n_gqa()) *
              (static_cast<uint64_t>(kv.n_ctx) + static_cast<uint64_t>(hp.n_embd_head)) * 4;
  memory_ = std::make_unique<WindowMemory>(model, layers, head, anon, mem);
}

uint64_t DeviceWindows::weight_bytes() const {
  uint64_t n = 0;
  for (const auto& w : windows_) n += w->n_bytes();
  return n;
}

std::vector<LayerRange> DeviceWindows::ranges() const {
  std::vector<LayerRange> r;
  for (const auto& w : windows_) r.emplace_back(w->il_begin(), w->il_end());
  return r;
}

Status DeviceWindows::forward(size_t cycle, const model::Batch& batch, float* x) {
  if (cycle >= windows_.size())
    return Status::error(Status::Code::invalid, "cycle {} but this device has {} windows", cycle, windows_.size());
  // Pages come in (and streamed layers go out) layer by layer; their wait is page-in time, not compute.
  struct Hook final : model::LayerHook {
    WindowMemory& memory;
    size_t cycle;
    int64_t pagein_ns = 0;
    Hook(WindowMemory& m, size_t c) : memory(m), cycle(c) {}
    void before_layer(int32_t j) override { pagein_ns += memory.before_layer(cycle, static_cast<size_t>(j)); }
    void after_layer(int32_t j) override { memory.after_layer(cycle, static_cast<size_t>(j)); }
  } hook(*memory_, cycle);
  const int64_t t0 = now_ns();
  Status s = windows_[cycle]->forward(pool_, ws_, batch, x, &hook);
  timing_.pagein_ns = hook.pagein_ns;
  timing_.compute_ns = now_ns() - t0 - hook.pagein_ns;
  return s;
}

Status DeviceWindows::check(const model::Batch& batch) const {
  return windows_.front()->kv().check(batch.pos, batch.seq, batch.n_tokens);
}

Status DeviceWindows::apply(const KvOperation& op) {
  const int32_t n_seq = kv_.n_seq;
  auto bad_seq = [&](int32_t s) { return s < 0 || s >= n_seq; };
  switch (op.op) {
    case KvOpKind::clear_all:
      for (auto& w : windows_) w->kv().clear();
      return Status::ok();
    case KvOpKind::remove:
      if (bad_seq(op.seq)) return Status::error(Status::Code::invalid, "sequence {} is outside 0..{}", op.seq, n_seq - 1);
      for (auto& w : windows_) w->kv().truncate(op.seq, op.p0);
      return Status::ok();
    case KvOpKind::copy:
      if (bad_seq(op.seq) || bad_seq(op.seq_dst))
        return Status::error(Status::Code::invalid, "copy {} -> {}: sequences are 0..{}", op.seq, op.seq_dst, n_seq - 1);
      for (auto& w : windows_) w->kv().copy(op.seq, op.seq_dst);
      return Status::ok();
  }
  return Status::error(Status::Code::invalid, "unknown KV operation");
}

}  // namespace prima::runtime
