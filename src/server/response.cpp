#include "server/response.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <random>

#include "server/api_error.h"

namespace prima::server {
namespace {
constexpr const char* kFingerprint = "prima-0.1.0";
}

std::string new_response_id(bool chat) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  const uint64_t n = counter.fetch_add(1) + 1;
  return fmt::format("{}-{:08x}{:08x}", chat ? "chatcmpl" : "cmpl", static_cast<uint32_t>(salt), n);
}

nlohmann::json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

nlohmann::json timings_json(const Usage& u) {
  const int32_t n_eval = u.prompt_tokens - u.cached_tokens;
  return {{"prompt_n", n_eval},
          {"prompt_ms", u.prompt_ms},
          {"prompt_per_second", u.prompt_ms > 0 ? n_eval * 1000.0 / u.prompt_ms : 0.0},
          {"predicted_n", u.completion_tokens},
          {"predicted_ms", u.gen_ms},
          {"predicted_per_second",
           u.gen_ms > 0 && u.completion_tokens > 1 ? (u.completion_tokens - 1) * 1000.0 / u.gen_ms : 0.0}};
}

nlohmann::json completion_json(const ResponseHead& h, std::string_view text, std::string_view finish_reason,
                               const Usage& u) {
  nlohmann::json choice = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish_reason}};
  if (h.chat) choice["message"] = {{"role", "assistant"}, {"content", text}};
  else choice["text"] = text;
  return {{"id", h.id},
          {"object", h.chat ? "chat.completion" : "text_completion"},
          {"created", h.created},
          {"model", h.model},
          {"system_fingerprint", kFingerprint},
          {"choices", nlohmann::json::array({choice})},
          {"usage", usage_json(u)},
          {"timings", timings_json(u)}};
}

nlohmann::json chunk_json(const ResponseHead& h, std::string_view text, bool role, std::string_view finish_reason,
                          bool with_usage_null) {
  nlohmann::json choice = {{"index", 0}, {"logprobs", nullptr}};
  choice["finish_reason"] = finish_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(finish_reason);
  if (h.chat) {
    nlohmann::json delta = nlohmann::json::object();
    if (role) delta["role"] = "assistant";
    if (!text.empty() || (role && finish_reason.empty())) delta["content"] = text;
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = text;
  }
  nlohmann::json j = {{"id", h.id},
                      {"object", h.chat ? "chat.completion.chunk" : "text_completion"},
                      {"created", h.created},
                      {"model", h.model},
                      {"system_fingerprint", kFingerprint},
                      {"choices", nlohmann::json::array({choice})}};
  if (with_usage_null) j["usage"] = nullptr;
  return j;
}

nlohmann::json usage_chunk_json(const ResponseHead& h, const Usage& u) {
  return {{"id", h.id},
          {"object", h.chat ? "chat.completion.chunk" : "text_completion"},
          {"created", h.created},
          {"model", h.model},
          {"system_fingerprint", kFingerprint},
          {"choices", nlohmann::json::array()},
          {"usage", usage_json(u)},
          {"timings", timings_json(u)}};
}

std::string to_text(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

std::string sse_event(const nlohmann::json& j) { return "data: " + to_text(j) + "\n\n"; }

std::string error_json(const ApiError& e) {
  nlohmann::json err = {{"message", e.message}, {"type", e.type}};
  err["code"] = e.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.code);
  err["param"] = e.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.param);
  return to_text({{"error", err}});
}

}  // namespace prima::server
