// CPU throughput of one weight type, measured with our own kernels (kernels::matmul) on the model's real row
// length, with the pool the device will run with. Three runs, each a few samples of repeated calls for at most a
// given time, median taken (estimate.h):
//
//   stream   decode-shaped (matrix × one vector) over copies of an n_out × n_in matrix cycled through a working
//            set several times the last-level cache: the weights come from memory, as in a real decode.
//   hot      decode-shaped on a matrix small enough to stay in the caches: the kernel's compute alone.
//   prefill  n_tok (64) tokens at once on a cache-sized matrix: compute-bound by construction.
//
// Compute and memory bandwidth are separated as Halda's roofline wants them (docs/scheduler.md: a layer costs
// max(flops / decode_flops, bytes / read_bandwidth)). The profile's decode figure is the streamed run's FLOP/s,
// the honest out-of-cache figure, unless that run moved weight bytes at >= 1/1.1 of the memory read
// bandwidth: then it was bandwidth-bound and its FLOP/s would only restate the bandwidth, so the hot run's
// (compute) figure is used and the planner's memory term supplies the rest. Either way the roofline of the two
// profile fields reproduces the measured streaming time to within about 10 % (docs/profiler.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "kernels/thread_pool.h"
#include "profiler/estimate.h"
#include "tensor/types.h"

namespace prima::profiler {

struct CpuBenchConfig {
  double seconds = 1.0;  // per type, weight synthesis included; the rest goes 45 % / 20 % / 35 % to the
                         // streamed, hot and prefill runs, each split into `samples` samples
  int samples = 5;
  double min_sample_seconds = 0;   // under a CPU quota: two scheduler periods, so throttling averages out
  int prefill_tokens = 64;
  size_t stream_bytes = 128u << 20;  // working set of the streamed run (make it >= 2x the last-level cache)
  size_t hot_bytes = 1u << 20;       // working set of the hot run (in the caches)
  double read_bandwidth = 0;         // bytes/s from the memory probe; 0: unknown (the streamed figure is used)
  double bandwidth_bound_ratio = 1.1;
};

struct TypeSpeed {
  ggml_type type = ggml_type::F32;
  int64_t n_in = 0;          // row length: the model's
  int64_t n_out = 0;         // rows of the streamed matrix (the model's, capped to fit the working set)
  int64_t n_out_hot = 0;
  int64_t n_out_prefill = 0;
  size_t stream_set_bytes = 0;  // bytes cycled through by the streamed run
  Estimate stream;   // FLOP/s
  Estimate hot;      // FLOP/s
  Estimate prefill;  // FLOP/s
  double stream_bytes_per_s = 0;  // weight bytes per second of the streamed run (median)
  bool bandwidth_bound = false;   // the streamed run reached the read bandwidth (see above)
  double decode_flops = 0;        // what the profile says
  double seconds = 0;             // spent on this type, weight synthesis included
};

// A reusable aligned buffer for the weights (so that several types do not each allocate the working set).
class WeightArena {
 public:
  uint8_t* get(size_t bytes);  // grows, never shrinks; 64-byte aligned; contents unspecified
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> data_;
  size_t size_ = 0;
};

// type must be one of prima::kSupportedTypes and n_in a multiple of its block size (the model's tensors are).
TypeSpeed measure_type(kernels::ThreadPool& pool, ggml_type type, int64_t n_in, int64_t n_out,
                       const CpuBenchConfig& config, WeightArena& arena);

}  // namespace prima::profiler
