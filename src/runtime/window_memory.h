// Weights from disk without memory pressure (DESIGN.md §1, issue 6): how one device keeps the byte ranges of its
// windows in memory.
//
//  - At start the device maps only what it owns (its windows' tensors, the GGUF header, and on the head the
//    embedding and output layer): every other page of the file becomes inaccessible, and faults read ahead
//    sequentially.
//  - The memory it may fill with weights (its budget: available memory — the cgroup's limit when there is one — or
//    --mem, less the KV cache and buffers it keeps in anonymous memory) decides the release plan, layer by layer:
//    layers that fit stay in the page cache for good; the others are streamed: read before use, dropped right
//    after (memory/release_policy.h explains why releasing everything gains nothing). Planning by layer rather
//    than by window means a device whose one window (k = 1) is a little larger than its memory re-reads only the
//    layers that do not fit, not the whole window — the "overflow re-read each token" the scheduler's disk model
//    assumes.
//  - Before computing a layer it touches the layer's pages and measures the wait (page-in time), and starts
//    reading the next streamed layers in the background; after the layer, a streamed layer is dropped. After
//    handing a window's result on it prefetches the streamed layers that come next (the next token's first
//    window after the last), so disk reads overlap the other devices' compute and the network.
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
  // --huge-pages auto: advise huge pages, and read the kept layers again when the page cache holds them in small
  // ones (memory/huge_pages.h); off: neither.
  bool huge_pages = true;
};

// The head's own tensors besides its windows: the output layer, read whole every token, and the token
// embedding, of which a step reads only the rows of its tokens (when the output is tied to the embedding, the
// embedding is in `dense`).
struct HeadRanges {
  std::vector<model::FileRange> dense;
  std::vector<model::FileRange> sparse;
};

struct WindowMemoryStats {
  int64_t pagein_ns = 0;         // waiting for pages of the windows just computed (summed)
  int64_t major_faults = 0;
  uint64_t budget_bytes = 0;     // for weights
  uint64_t total_bytes = 0;      // the device's RAM (cgroup limit when lower)
  uint64_t assigned_bytes = 0;   // of all its windows
  uint64_t streamed_bytes = 0;   // read from disk every token by plan
  std::string prefetch_mode;
  uint64_t recached_bytes = 0;   // kept weights dropped at start to be read back in huge pages
  std::string plan;              // one line: kept / streamed layers
};

class WindowMemory {
 public:
  // One layer of a window: its index in the model and the file ranges of its weights.
  struct Layer {
    int32_t il = 0;
    std::vector<model::FileRange> ranges;
  };
  // windows: the layers of each window, in cycle order; head: the head's other tensors (owned; the dense ones
  // are kept, so the budget leaves room for them); anon_bytes: what it keeps in anonymous memory (KV cache,
  // buffers).
  WindowMemory(const model::Model& model, const std::vector<std::vector<Layer>>& windows, const HeadRanges& head,
               uint64_t anon_bytes, const MemoryOptions& opt);
  ~WindowMemory();

  // Layer j of window `cycle`: before it is computed, touch its pages (returns the wait) and read ahead the
  // streamed layers after it; after it is computed, drop it if streamed. A kept layer is touched only until one
  // touch finds it all in: should the kernel evict it later, its faults count as compute, not page-in wait.
  int64_t before_layer(size_t cycle, size_t j);
  void after_layer(size_t cycle, size_t j);
  // After window `cycle` is computed and handed on: prefetch the streamed layers that come next.
  void after(size_t cycle);

  const WindowMemoryStats& stats() const { return stats_; }
  const memory::ReleasePlan& plan() const { return plan_; }
  uint64_t resident_bytes() const;  // of the windows, as mincore sees it

 private:
  size_t piece(size_t cycle, size_t j) const { return first_[cycle] + j; }
  // Reads ahead the streamed layers from piece `from` on (cyclically), as many as the room next to the kept ones
  // allows (at least one); nothing when they are all kept.
  void prefetch_from(size_t from);
  // Drops the kept ranges when the page cache holds them in small pages and a trial shows they come back huge.
  void recache(const memory::ByteRanges& kept);

  const model::Model& model_;
  std::vector<memory::ByteRanges> pieces_;  // one per layer of every window, in cycle order
  std::vector<int32_t> piece_il_;           // the model layer of each piece
  std::vector<size_t> first_;               // first piece of each window
  uint64_t lookahead_bytes_ = 0;            // streamed bytes that may be read ahead at once
  size_t prefetch_first_ = SIZE_MAX;        // first piece of the read-ahead asked for since the last release
  memory::ByteRanges owned_;
  memory::ReleasePlan plan_;
  std::vector<bool> kept_in_;               // per piece: kept, and a page_in found it all in (no major fault)
  memory::PrefetchMode mode_ = memory::PrefetchMode::off;
  std::unique_ptr<memory::Prefetcher> prefetcher_;
  WindowMemoryStats stats_;
};

}  // namespace prima::runtime
