#include "runtime/window_memory.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/clock.h"
#include "core/format.h"
#include "core/log.h"
#include "memory/advise.h"
#include "memory/budget.h"
#include "memory/residency.h"

namespace prima::runtime {
namespace {

memory::ByteRanges to_ranges(const std::vector<model::FileRange>& ranges) {
  memory::ByteRanges r;
  for (const auto& f : ranges) r.add(f.offset, f.size);
  return r;
}

}  // namespace

WindowMemory::WindowMemory(const model::Model& model, std::vector<std::vector<model::FileRange>> windows,
                           std::vector<model::FileRange> extra, uint64_t anon_bytes, const MemoryOptions& opt)
    : model_(model) {
  const auto& mapping = model.file().mapping();
  const uint64_t file_size = model.file().file_size();
  owned_.add(0, model.file().data_offset());  // metadata (the vocabulary's strings point into it)
  owned_.add(to_ranges(extra));
  std::vector<uint64_t> window_bytes;
  for (const auto& w : windows) {
    windows_.push_back(to_ranges(w).clamp(file_size));
    owned_.add(windows_.back());
    window_bytes.push_back(windows_.back().bytes());
  }
  owned_ = owned_.clamp(file_size);
  if (opt.map_only && mapping.is_open()) {
    if (Status s = memory::map_only(mapping, owned_); !s) log::warn("could not map only this device's weights: {}", s.message());
  }
  if (mapping.is_open()) (void)memory::advise_access(mapping, owned_, memory::Access::sequential);

  // The memory this device may fill with weights.
  memory::BudgetOptions bo;
  bo.override_bytes = opt.budget_bytes;
  const auto budget = memory::probe_budget(bo);
  uint64_t total = 0, usable = 0;
  if (budget) {
    total = budget->total_bytes;
    usable = budget->available_bytes;  // clean page cache (our weights among it) counts as reclaimable
  } else {
    log::warn("cannot measure available memory ({}); assuming the weights fit", budget.status().message());
    usable = UINT64_MAX / 2;
  }
  const uint64_t margin = (8ull << 20) + total / 25;  // page tables, libraries, what the budget probe missed
  const uint64_t reserved = anon_bytes + margin + to_ranges(extra).bytes();
  stats_.total_bytes = total;
  stats_.budget_bytes = usable > reserved ? usable - reserved : 0;
  stats_.assigned_bytes = 0;
  for (auto b : window_bytes) stats_.assigned_bytes += b;

  plan_ = memory::plan_release(stats_.budget_bytes, window_bytes);
  if (opt.release == ReleaseMode::off) {
    plan_.release = false;
    std::fill(plan_.release_window.begin(), plan_.release_window.end(), false);
  } else if (opt.release == ReleaseMode::always) {
    plan_.release = true;
    std::fill(plan_.release_window.begin(), plan_.release_window.end(), true);
  }
  stats_.streamed_bytes = 0;
  for (size_t c = 0; c < window_bytes.size(); ++c)
    if (plan_.release_window[c]) stats_.streamed_bytes += window_bytes[c];

  if (opt.prefetch == "auto") {
    mode_ = plan_.release ? memory::PrefetchMode::touch : memory::PrefetchMode::off;
  } else if (auto m = memory::parse_prefetch_mode(opt.prefetch)) {
    mode_ = *m;
  } else {
    fail("--prefetch '{}' is not one of off, on (willneed), touch, auto", opt.prefetch);
  }
  stats_.prefetch_mode = std::string(memory::to_string(mode_));
  if (mode_ != memory::PrefetchMode::off || plan_.release)
    prefetcher_ = std::make_unique<memory::Prefetcher>(mapping);

  std::string kept, streamed;
  for (size_t c = 0; c < window_bytes.size(); ++c) (plan_.release_window[c] ? streamed : kept) += fmt::format(" {}", c);
  stats_.plan = fmt::format("weights {} in {} windows, budget {} of {} RAM: kept{}{}, streamed{}{}; prefetch {}{}",
                            format_bytes(stats_.assigned_bytes), window_bytes.size(), format_bytes(stats_.budget_bytes),
                            format_bytes(total), kept.empty() ? " none" : "", kept, streamed.empty() ? " none" : "",
                            streamed, stats_.prefetch_mode, plan_.pair_fits ? "" : " (a window and the next do not fit together)");
  log::info("memory: {}", stats_.plan);
}

WindowMemory::~WindowMemory() {
  if (prefetcher_) prefetcher_->cancel();
}

int64_t WindowMemory::before(size_t cycle) {
  const auto p = memory::page_in(model_.file().mapping(), windows_[cycle]);
  stats_.pagein_ns += p.wait_ns;
  stats_.major_faults += p.major_faults;
  return p.wait_ns;
}

void WindowMemory::after(size_t cycle) {
  if (!prefetcher_) return;
  if (plan_.release_window[cycle]) {
    auto r = prefetcher_->release(windows_[cycle]);
    if (!r) log::warn("releasing window {}: {}", cycle, r.status().message());
  }
  if (mode_ != memory::PrefetchMode::off) prefetcher_->prefetch(windows_[(cycle + 1) % windows_.size()], mode_);
}

uint64_t WindowMemory::resident_bytes() const {
  uint64_t n = 0;
  for (const auto& w : windows_) n += memory::residency(model_.file().mapping(), w).resident_bytes;
  return n;
}

}  // namespace prima::runtime
