// Weights from disk without memory pressure (DESIGN.md §1, issue 6): how one device keeps the byte ranges of its
// windows in memory.
//
//  - At start the device maps only what it owns (its windows' tensors, the GGUF header, and on the head the
//    embedding and output layer): every other page of the file becomes inaccessible, and faults read ahead
//    sequentially.
//  - The memory it may fill with weights (its budget: available memory — the cgroup's limit when there is one — or
//    --mem, less the KV cache and buffers it keeps in anonymous memory) decides the release plan: windows that fit
//    stay in the page cache for good; the others are streamed: read before use, dropped right after (memory/
//    release_policy.h explains why releasing everything gains nothing).
//  - Before computing window c it touches the window's pages and measures the wait (page-in time); after handing
//    the result on it releases window c if streamed and prefetches window c+1 (the next token's first window after
//    the last) in the background, so disk reads overlap the other devices' compute and the network.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "memory/prefetcher.h"
#include "memory/ranges.h"
#include "memory/release_policy.h"
#include "model/model.h"

namespace prima::runtime {

enum class ReleaseMode { automatic, off, always };

struct MemoryOptions {
  std::string prefetch = "auto";         // off | willneed (on) | touch | auto (touch when streaming, else off)
  std::optional<uint64_t> budget_bytes;  // --mem: memory this device may use; default: measured
  ReleaseMode release = ReleaseMode::automatic;
  bool map_only = true;                  // make the pages the device does not own inaccessible
};

struct WindowMemoryStats {
  int64_t pagein_ns = 0;         // waiting for pages of the windows just computed (summed)
  int64_t major_faults = 0;
  uint64_t budget_bytes = 0;     // for weights
  uint64_t total_bytes = 0;      // the device's RAM (cgroup limit when lower)
  uint64_t assigned_bytes = 0;   // of all its windows
  uint64_t streamed_bytes = 0;   // read from disk every cycle by plan
  std::string prefetch_mode;
  std::string plan;              // one line: kept / streamed windows
};

class WindowMemory {
 public:
  // windows: the file ranges of each window, in cycle order; extra: other ranges this device owns and keeps (the
  // head's embedding and output layer); anon_bytes: what it keeps in anonymous memory (KV cache, buffers).
  WindowMemory(const model::Model& model, std::vector<std::vector<model::FileRange>> windows,
               std::vector<model::FileRange> extra, uint64_t anon_bytes, const MemoryOptions& opt);
  ~WindowMemory();

  // Touches window `cycle` before it is computed; returns the wait.
  int64_t before(size_t cycle);
  // After window `cycle` is computed and handed on: release it if streamed, prefetch the next.
  void after(size_t cycle);

  const WindowMemoryStats& stats() const { return stats_; }
  const memory::ReleasePlan& plan() const { return plan_; }
  uint64_t resident_bytes() const;  // of the windows, as mincore sees it

 private:
  const model::Model& model_;
  std::vector<memory::ByteRanges> windows_;
  memory::ByteRanges owned_;
  memory::ReleasePlan plan_;
  memory::PrefetchMode mode_ = memory::PrefetchMode::off;
  std::unique_ptr<memory::Prefetcher> prefetcher_;
  WindowMemoryStats stats_;
};

}  // namespace prima::runtime
