#include "runtime/window_memory.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/clock.h"
#include "core/format.h"
#include "core/log.h"
#include "memory/advise.h"
#include "memory/budget.h"
#include "memory/huge_pages.h"
#include "memory/residency.h"

namespace prima::runtime {
namespace {

memory::ByteRanges to_ranges(const std::vector<model::FileRange>& ranges) {
  memory::ByteRanges r;
  for (const auto& f : ranges) r.add(f.offset, f.size);
  return r;
}

// "[0,13)" style lists of the model layers of the pieces where `pick` holds.
std::string layer_list(const std::vector<int32_t>& il, const std::vector<bool>& streamed, bool pick) {
  std::string out;
  for (size_t i = 0; i < il.size();) {
    if (streamed[i] != pick) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < il.size() && streamed[j] == pick && il[j] == il[j - 1] + 1) ++j;
    out += j - i == 1 ? fmt::format(" {}", il[i]) : fmt::format(" [{},{})", il[i], il[j - 1] + 1);
    i = j;
  }
  return out.empty() ? " none" : out;
}

}  // namespace

WindowMemory::WindowMemory(const model::Model& model, const std::vector<std::vector<Layer>>& windows,
                           const HeadRanges& head, uint64_t anon_bytes, const MemoryOptions& opt)
    : model_(model) {
  const auto& mapping = model.file().mapping();
  const uint64_t file_size = model.file().file_size();
  owned_.add(0, model.file().data_offset());  // metadata (the vocabulary's strings point into it)
  owned_.add(to_ranges(head.dense));
  owned_.add(to_ranges(head.sparse));
  std::vector<uint64_t> piece_bytes;
  for (const auto& w : windows) {
    first_.push_back(pieces_.size());
    for (const auto& layer : w) {
      pieces_.push_back(to_ranges(layer.ranges).clamp(file_size));
      piece_il_.push_back(layer.il);
      owned_.add(pieces_.back());
      piece_bytes.push_back(pieces_.back().bytes());
    }
  }
  PRIMA_CHECK(!pieces_.empty(), "a device needs at least one layer");
  owned_ = owned_.clamp(file_size);
  if (opt.map_only && mapping.is_open()) {
    if (Status s = memory::map_only(mapping, owned_); !s) log::warn("could not map only this device's weights: {}", s.message());
  }
  if (mapping.is_open()) (void)memory::advise_access(mapping, owned_, memory::Access::sequential);
  if (mapping.is_open() && opt.huge_pages) {
    if (Status s = memory::advise_huge_pages(mapping, owned_); !s) log::warn("{}", s.message());
  }

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
  // The embedding is not reserved: a step reads a few rows of it (DESIGN.md's "input layer" is one row per token).
  const uint64_t reserved = anon_bytes + margin + to_ranges(head.dense).clamp(file_size).bytes();
  stats_.total_bytes = total;
  stats_.budget_bytes = usable > reserved ? usable - reserved : 0;
  stats_.assigned_bytes = 0;
  for (auto b : piece_bytes) stats_.assigned_bytes += b;

  plan_ = memory::plan_release(stats_.budget_bytes, piece_bytes);
  if (opt.release == ReleaseMode::off) {
    plan_.release = false;
    std::fill(plan_.release_window.begin(), plan_.release_window.end(), false);
  } else if (opt.release == ReleaseMode::always) {
    plan_.release = true;
    std::fill(plan_.release_window.begin(), plan_.release_window.end(), true);
  }
  kept_in_.assign(pieces_.size(), false);
  stats_.streamed_bytes = 0;
  uint64_t largest_streamed = 0;
  for (size_t i = 0; i < piece_bytes.size(); ++i)
    if (plan_.release_window[i]) {
      stats_.streamed_bytes += piece_bytes[i];
      largest_streamed = std::max(largest_streamed, piece_bytes[i]);
    }
  // Room for reading ahead: what the budget leaves next to the kept layers and the layer in use.
  const uint64_t kept = stats_.assigned_bytes - stats_.streamed_bytes;
  const uint64_t in_use = kept + largest_streamed;
  lookahead_bytes_ = stats_.budget_bytes > in_use ? stats_.budget_bytes - in_use : 0;

  if (opt.prefetch == "auto") {
    mode_ = plan_.release ? memory::PrefetchMode::touch : memory::PrefetchMode::off;
  } else if (auto m = memory::parse_prefetch_mode(opt.prefetch)) {
    mode_ = *m;
  } else {
    fail("--prefetch '{}' is not one of off, on (willneed), touch, auto", opt.prefetch);
  }
  stats_.prefetch_mode = std::string(memory::to_string(mode_));
  if (mapping.is_open() && opt.huge_pages) {
    memory::ByteRanges kept_ranges = to_ranges(head.dense).clamp(file_size);
    for (size_t i = 0; i < pieces_.size(); ++i)
      if (!plan_.release_window[i]) kept_ranges.add(pieces_[i]);
    recache(kept_ranges);
  }
  if (mode_ != memory::PrefetchMode::off || plan_.release)
    prefetcher_ = std::make_unique<memory::Prefetcher>(mapping);

  stats_.plan = fmt::format("weights {} in {} windows, budget {} of {} RAM: kept layers{}, streamed{} ({} per token); "
                            "prefetch {}{}",
                            format_bytes(stats_.assigned_bytes), windows.size(), format_bytes(stats_.budget_bytes),
                            format_bytes(total), layer_list(piece_il_, plan_.release_window, false),
                            layer_list(piece_il_, plan_.release_window, true), format_bytes(stats_.streamed_bytes),
                            stats_.prefetch_mode,
                            plan_.pair_fits ? "" : " (a layer and the next do not fit together)");
  log::info("memory: {}", stats_.plan);
}

void WindowMemory::recache(const memory::ByteRanges& kept) {
  const Stopwatch sw;
  auto rep = memory::recache_in_huge_pages(model_.file().mapping(), kept);
  if (!rep) {
    log::warn("huge pages: {}", rep.status().message());
    return;
  }
  stats_.recached_bytes = rep->dropped_bytes;
  log::debug("memory: huge pages: {} cached spans probed, {} small, trial {}, {} dropped, {} deferred", rep->probed,
             rep->small, !rep->trial ? "none" : rep->trial_huge ? "came back huge" : "stayed small",
             format_bytes(rep->dropped_bytes), rep->deferred);
  if (!rep->supported) log::debug("memory: no PAGEMAP_SCAN in this kernel: the page cache's page sizes are left as they are");
  if (rep->dropped_bytes > 0) {
    log::info("memory: the page cache held {} of {} cached {} spans of the kept weights in small pages; dropped {} to "
              "read them back in huge pages on first use ({:.0f} ms)",
              rep->small, rep->probed, format_bytes(memory::huge_page_size()), format_bytes(rep->dropped_bytes),
              sw.elapsed_ns() * 1e-6);
  }
  if (rep->deferred > 0) {
    log::info("memory: {} small spans of the kept weights left for a later start: free memory has no huge pages for "
              "them now", rep->deferred);
  } else if (rep->trial && !rep->trial_huge) {
    log::info("memory: the page cache holds kept weights in small pages, and a span read again stayed small (no large "
              "folios on this file system or kernel, or no free huge pages): left as they are");
  }
}

WindowMemory::~WindowMemory() {
  if (prefetcher_) prefetcher_->cancel();
}

void WindowMemory::prefetch_from(size_t from) {
  if (!prefetcher_ || mode_ == memory::PrefetchMode::off || !plan_.release) return;  // all kept: nothing to read
  const size_t n = pieces_.size();
  memory::ByteRanges ahead;
  size_t first = SIZE_MAX;
  uint64_t bytes = 0;
  for (size_t step = 0; step < n; ++step) {
    const size_t i = (from + step) % n;
    if (!plan_.release_window[i]) continue;  // kept: already in
    const uint64_t b = pieces_[i].bytes();
    if (first != SIZE_MAX && bytes + b > lookahead_bytes_) break;
    if (first == SIZE_MAX) first = i;
    ahead.add(pieces_[i]);
    bytes += b;
  }
  // The same read-ahead was already asked for since the last release (running or done): asking again would only
  // re-walk pages that are in, once per layer.
  if (first == SIZE_MAX || first == prefetch_first_) return;
  prefetch_first_ = first;
  prefetcher_->prefetch(ahead, mode_);
}

int64_t WindowMemory::before_layer(size_t cycle, size_t j) {
  const size_t p = piece(cycle, j);
  // A kept layer found all in once stays in: touching its pages again every token costs a TLB miss per page
  // (a million of them per token for an 8B model) on the caller while the workers wait: 12-14 % of decode.
  if (kept_in_[p]) {
    prefetch_from(p + 1);
    return 0;
  }
  const auto in = memory::page_in(model_.file().mapping(), pieces_[p]);
  stats_.pagein_ns += in.wait_ns;
  stats_.major_faults += in.major_faults;
  if (!plan_.release_window[p] && in.completed && in.major_faults == 0) kept_in_[p] = true;
  prefetch_from(p + 1);
  return in.wait_ns;
}

void WindowMemory::after_layer(size_t cycle, size_t j) {
  const size_t p = piece(cycle, j);
  if (!prefetcher_ || !plan_.release_window[p]) return;
  // The read-ahead runs on other layers' ranges: drop this one beside it rather than stopping it. The next
  // read-ahead that reaches this layer again must be asked for anew.
  prefetch_first_ = SIZE_MAX;
  auto r = memory::release_ranges(model_.file().mapping(), pieces_[p]);
  if (!r) log::warn("releasing layer {}: {}", piece_il_[p], r.status().message());
}

void WindowMemory::after(size_t cycle) {
  const size_t next = cycle + 1 < first_.size() ? cycle + 1 : 0;
  if (plan_.release) return prefetch_from(first_[next]);
  // Nothing streamed (or --release off): with a prefetch mode asked for, read the next window ahead whole.
  if (!prefetcher_ || mode_ == memory::PrefetchMode::off) return;
  const size_t end = next + 1 < first_.size() ? first_[next + 1] : pieces_.size();
  memory::ByteRanges window;
  for (size_t i = first_[next]; i < end; ++i) window.add(pieces_[i]);
  prefetcher_->prefetch(window, mode_);
}

uint64_t WindowMemory::resident_bytes() const {
  uint64_t n = 0;
  for (const auto& w : pieces_) n += memory::residency(model_.file().mapping(), w).resident_bytes;
  return n;
}

}  // namespace prima::runtime
