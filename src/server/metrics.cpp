#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace prima::server {

void HttpCounters::count(std::string_view path, int status) {
  size_t p = std::find(kPaths.begin(), kPaths.end(), path) - kPaths.begin();
  if (p == kPaths.size()) p = 9;  // "other"
  size_t s = std::find(kStatuses.begin(), kStatuses.end(), status) - kStatuses.begin();
  if (s == kStatuses.size()) s = kStatuses.size() - 1;
  n_[p][s].fetch_add(1, std::memory_order_relaxed);
}

namespace {

// Label values: escape backslash, quote and newline.
std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void head(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

template <class T>
void metric(std::string& out, const char* name, const char* type, const char* help, T value) {
  head(out, name, type, help);
  out += fmt::format("{} {}\n", name, value);
}

}  // namespace

std::string render_metrics(const SchedulerStats& s, const HttpCounters& http) {
  std::string out;
  head(out, "prima_http_requests_total", "counter", "HTTP requests answered, by path and status");
  for (size_t p = 0; p < HttpCounters::kPaths.size(); ++p)
    for (size_t st = 0; st < HttpCounters::kStatuses.size(); ++st)
      if (const uint64_t n = http.get(p, st); n > 0)
        out += fmt::format("prima_http_requests_total{{path=\"{}\",status=\"{}\"}} {}\n", HttpCounters::kPaths[p],
                           HttpCounters::kStatuses[st] == 0 ? std::string("other")
                                                            : std::to_string(HttpCounters::kStatuses[st]),
                           n);
  metric(out, "prima_requests_admitted_total", "counter", "completion requests given a sequence slot", s.requests_admitted);
  metric(out, "prima_requests_finished_total", "counter", "completion requests that ended normally", s.requests_finished);
  metric(out, "prima_requests_cancelled_total", "counter", "completion requests whose client went away", s.requests_cancelled);
  metric(out, "prima_requests_failed_total", "counter", "completion requests that failed in the engine", s.requests_failed);
  metric(out, "prima_requests_rejected_total", "counter", "completion requests refused because the queue was full", s.requests_rejected);
  metric(out, "prima_prompt_tokens_total", "counter", "prompt tokens of admitted requests", s.prompt_tokens);
  metric(out, "prima_prompt_tokens_cached_total", "counter", "prompt tokens whose KV cache was reused", s.prompt_tokens_cached);
  metric(out, "prima_generated_tokens_total", "counter", "tokens generated", s.generated_tokens);
  metric(out, "prima_tokens_per_second", "gauge", "generated tokens per second of decode time over the last 10 s",
         s.tokens_per_second);
  metric(out, "prima_requests_active", "gauge", "requests holding a sequence slot", s.active);
  metric(out, "prima_requests_queued", "gauge", "requests waiting for a slot", s.queued);
  metric(out, "prima_queue_capacity", "gauge", "requests that may wait before new ones are refused", s.max_queue);
  metric(out, "prima_slots", "gauge", "sequence slots (-np)", s.n_slots);
  metric(out, "prima_context_size", "gauge", "context positions per sequence", s.n_ctx);
  metric(out, "prima_engine_steps_total", "counter", "engine decode calls", s.steps);
  metric(out, "prima_engine_batch_tokens_total", "counter", "tokens over all engine decode calls", s.batch_tokens);
  metric(out, "prima_engine_decode_seconds_total", "counter", "time in engine decode calls", s.step_ms / 1000.0);
  metric(out, "prima_engine_compute_seconds_total", "counter", "engine time computing", s.timings.compute_ms / 1000.0);
  metric(out, "prima_engine_wait_seconds_total", "counter", "engine time waiting for the ring", s.timings.wait_ms / 1000.0);
  metric(out, "prima_engine_send_seconds_total", "counter", "engine time sending", s.timings.send_ms / 1000.0);
  metric(out, "prima_engine_pagein_seconds_total", "counter", "engine time paging weights in", s.timings.pagein_ms / 1000.0);

  const auto per_device = [&](const char* name, const char* type, const char* help, auto get) {
    head(out, name, type, help);
    for (const auto& d : s.devices) out += fmt::format("{}{{device=\"{}\"}} {}\n", name, label(d.name), get(d));
  };
  using D = runtime::DeviceStatus;
  per_device("prima_device_alive", "gauge", "1 while the device answers", [](const D& d) { return d.alive ? 1 : 0; });
  per_device("prima_device_memory_total_bytes", "gauge", "memory the device plans with",
             [](const D& d) { return d.memory_total; });
  per_device("prima_device_memory_available_bytes", "gauge", "memory available on the device",
             [](const D& d) { return d.memory_available; });
  per_device("prima_device_layers", "gauge", "layers the device computes per token", [](const D& d) {
    int64_t n = 0;
    for (const auto& [a, b] : d.windows) n += b - a;
    return n;
  });
  per_device("prima_device_cycles", "gauge", "cycles per token (k)", [](const D& d) { return d.k; });
  per_device("prima_device_last_compute_ms", "gauge", "the last step's compute time on the device",
             [](const D& d) { return d.last_compute_ms; });
  per_device("prima_device_last_network_ms", "gauge", "the last step's network time of the device",
             [](const D& d) { return d.last_network_ms; });
  per_device("prima_device_last_disk_ms", "gauge", "the last step's time waiting for weights from disk",
             [](const D& d) { return d.last_disk_ms; });
  return out;
}

}  // namespace prima::server
