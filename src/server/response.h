// Response bodies of the OpenAI-compatible API: whole completions, stream chunks (one SSE event each) and usage.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace prima::server {

struct Usage {
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_tokens = 0;  // prompt tokens whose KV was reused from an earlier request in the same slot
  double prompt_ms = 0;       // evaluating the prompt (the part not reused)
  double gen_ms = 0;          // first sampled token to the last
};

// What every chunk and response of one request shares.
struct ResponseHead {
  std::string id;       // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // unix seconds
  std::string model;
  bool chat = true;
};

std::string new_response_id(bool chat);

nlohmann::json usage_json(const Usage& u);
// llama.cpp-style timings (prompt_n, prompt_ms, predicted_n, predicted_ms, predicted_per_second).
nlohmann::json timings_json(const Usage& u);

// Non-streaming: chat.completion or text_completion.
nlohmann::json completion_json(const ResponseHead& h, std::string_view text, std::string_view finish_reason,
                               const Usage& u);

// Streaming: chat.completion.chunk or text_completion chunk. role: the first chat chunk carries the assistant
// role. finish_reason: "" = null. with_usage_null: include "usage": null (when the client asked for usage).
nlohmann::json chunk_json(const ResponseHead& h, std::string_view text, bool role, std::string_view finish_reason,
                          bool with_usage_null);
// The last chunk when stream_options.include_usage: no choices, the usage of the whole request.
nlohmann::json usage_chunk_json(const ResponseHead& h, const Usage& u);

// JSON text for the wire: invalid UTF-8 (never expected) is replaced rather than thrown.
std::string to_text(const nlohmann::json& j);
// One SSE event: "data: <json>\n\n".
std::string sse_event(const nlohmann::json& j);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace prima::server
