// Prometheus text exposition (format 0.0.4) of the server's counters, the scheduler's state and the engine's
// devices:
//   prima_http_requests_total{path,status}   HTTP requests answered (paths: the API's own, others as "other")
//   prima_requests_{admitted,finished,cancelled,failed,rejected}_total   completions through the scheduler
//   prima_prompt_tokens_total, prima_prompt_tokens_cached_total, prima_generated_tokens_total
//   prima_tokens_per_second                  generated tokens per second of decode time, last 10 s
//   prima_requests_active, prima_requests_queued, prima_queue_capacity, prima_slots, prima_context_size
//   prima_engine_steps_total, prima_engine_batch_tokens_total, prima_engine_decode_seconds_total
//   prima_engine_{compute,wait,send,pagein}_seconds_total      EngineTimings
//   prima_device_{alive,memory_total_bytes,memory_available_bytes,cycles}{device}
//   prima_device_last_{compute,network,disk}_ms{device}        the last token's time on each device
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/scheduler.h"

namespace prima::server {

class HttpCounters {
 public:
  static constexpr std::array<std::string_view, 11> kPaths = {
      "/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics", "/tokenize",
      "/detokenize",          "/cluster",        "/",          "other",   "/index.html"};
  static constexpr std::array<int, 10> kStatuses = {200, 400, 401, 404, 405, 408, 413, 500, 503, 0};  // 0: other

  void count(std::string_view path, int status);
  uint64_t get(size_t path, size_t status) const { return n_[path][status].load(std::memory_order_relaxed); }

 private:
  std::array<std::array<std::atomic<uint64_t>, kStatuses.size()>, kPaths.size()> n_{};
};

std::string render_metrics(const SchedulerStats& s, const HttpCounters& http);

}  // namespace prima::server
