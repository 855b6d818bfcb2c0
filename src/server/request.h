// Requests of the OpenAI-compatible API, parsed from untrusted JSON and checked once, here.
//
//   POST /v1/chat/completions  {"messages": [{"role", "content"}...], ...common fields}
//   POST /v1/completions       {"prompt": "text" | ["text"] | [token ids], ...common fields}
//   common: model, max_tokens (alias max_completion_tokens, n_predict), temperature, top_p, top_k, min_p, seed,
//           stop (string or array), presence_penalty, frequency_penalty, repeat_penalty, repeat_last_n,
//           logit_bias {"id": bias}, n (only 1), stream, stream_options.include_usage,
//           ignore_eos (llama.cpp: generate past end-of-text tokens, for benchmarks)
//
// Unknown fields are ignored; null counts as absent. A field of the wrong type or out of range is an ApiError
// (400) naming the field. Sampling fields start from the server's defaults (the CLI's sampling options).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sampling/params.h"
#include "server/api_error.h"
#include "tokenizer/chat_template.h"

namespace prima::server {

inline constexpr size_t kMaxStopSequences = 16;
inline constexpr size_t kMaxStopBytes = 256;
inline constexpr int kMaxJsonDepth = 64;

struct CompletionRequest {
  bool chat = false;
  std::string model;
  std::vector<tokenizer::ChatMessage> messages;  // chat
  std::string prompt;                            // completions, as text
  std::vector<int32_t> prompt_tokens;            // completions, as token ids (then prompt_is_tokens)
  bool prompt_is_tokens = false;
  std::optional<int64_t> max_tokens;             // >= 1; absent: until end of text or a full context
  sampling::SamplingParams sampling;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;
  bool ignore_eos = false;
};

// Body text -> JSON; refuses (400) invalid JSON, nesting deeper than kMaxJsonDepth (nlohmann's parser recurses),
// and a top level that is not an object.
std::variant<nlohmann::json, ApiError> parse_json_object(std::string_view body);

// Fills a CompletionRequest from a parsed body. defaults: the server's sampling parameters. n_vocab: checks
// token ids (prompt tokens, logit_bias).
std::variant<CompletionRequest, ApiError> parse_completion_request(const nlohmann::json& body, bool chat,
                                                                   const sampling::SamplingParams& defaults,
                                                                   int32_t n_vocab);


}  // namespace prima::server
