#include "server/request.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/json_depth.h"

namespace prima::server {
namespace {

using json = nlohmann::json;

// The field's value, or nullptr when it is absent or null.
const json* field(const json& obj, const char* name) {
  const auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

ApiError wrong_type(const std::string& name, const char* what) {
  return ApiError::invalid(fmt::format("'{}' must be {}", name, what), name, "invalid_type");
}

// A finite number within [lo, hi].
std::optional<ApiError> get_real(const json& obj, const char* name, double lo, double hi, float& out) {
  const json* v = field(obj, name);
  if (!v) return std::nullopt;
  if (!v->is_number()) return wrong_type(name, "a number");
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    return ApiError::invalid(fmt::format("'{}' must be a number in [{}, {}], got {}", name, lo, hi, v->dump()), name);
  out = static_cast<float>(d);
  return std::nullopt;
}

// An integer within [lo, hi]; numbers written with a fraction part of zero (4.0) count as integers.
std::optional<ApiError> get_int(const json& obj, const char* name, int64_t lo, int64_t hi, std::optional<int64_t>& out) {
  const json* v = field(obj, name);
  if (!v) return std::nullopt;
  const auto range = [&] {
    return ApiError::invalid(fmt::format("'{}' must be an integer in [{}, {}], got {}", name, lo, hi, v->dump()), name);
  };
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) return range();
    out = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    const int64_t i = v->get<int64_t>();
    if (i < lo || i > hi) return range();
    out = i;
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) return wrong_type(name, "an integer");
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) return range();
    out = static_cast<int64_t>(d);
  } else {
    return wrong_type(name, "an integer");
  }
  return std::nullopt;
}

std::optional<ApiError> get_bool(const json& obj, const char* name, bool& out) {
  const json* v = field(obj, name);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) return wrong_type(name, "true or false");
  out = v->get<bool>();
  return std::nullopt;
}

std::optional<ApiError> get_stop(const json& obj, std::vector<std::string>& out) {
  const json* v = field(obj, "stop");
  if (!v) return std::nullopt;
  const auto add = [&](const json& s) -> std::optional<ApiError> {
    if (!s.is_string()) return wrong_type("stop", "a string or an array of strings");
    const auto& str = s.get_ref<const std::string&>();
    if (str.size() > kMaxStopBytes)
      return ApiError::invalid(fmt::format("a stop sequence may have at most {} bytes", kMaxStopBytes), "stop");
    if (!str.empty()) out.push_back(str);
    return std::nullopt;
  };
  if (v->is_string()) return add(*v);
  if (!v->is_array()) return wrong_type("stop", "a string or an array of strings");
  if (v->size() > kMaxStopSequences)
    return ApiError::invalid(fmt::format("at most {} stop sequences are allowed", kMaxStopSequences), "stop");
  for (const auto& s : *v)
    if (auto e = add(s)) return e;
  return std::nullopt;
}

std::optional<ApiError> get_logit_bias(const json& obj, int32_t n_vocab, sampling::SamplingParams& p) {
  const json* v = field(obj, "logit_bias");
  if (!v) return std::nullopt;
  if (!v->is_object()) return wrong_type("logit_bias", "an object mapping token ids to numbers");
  if (v->size() > 1024) return ApiError::invalid("logit_bias may name at most 1024 tokens", "logit_bias");
  for (const auto& [key, val] : v->items()) {
    int64_t id = -1;
    const auto r = std::from_chars(key.data(), key.data() + key.size(), id);
    if (r.ec != std::errc() || r.ptr != key.data() + key.size() || id < 0 || id >= n_vocab)
      return ApiError::invalid(fmt::format("logit_bias: '{}' is not a token id in [0, {})", key, n_vocab), "logit_bias");
    if (!val.is_number()) return wrong_type("logit_bias", "an object mapping token ids to numbers");
    const double b = val.get<double>();
    if (!std::isfinite(b) || b < -100 || b > 100)
      return ApiError::invalid(fmt::format("logit_bias: the bias of token {} must be in [-100, 100]", id), "logit_bias");
    // -100 bans the token, as OpenAI describes it.
    p.logit_bias.emplace_back(static_cast<int32_t>(id),
                              b <= -100 ? -std::numeric_limits<float>::infinity() : static_cast<float>(b));
  }
  return std::nullopt;
}

std::optional<ApiError> get_content(const json& msg, size_t i, std::string& out) {
  const std::string name = fmt::format("messages[{}].content", i);
  const json* c = field(msg, "content");
  if (!c) return std::nullopt;  // null content (an assistant turn that only called tools): empty text
  if (c->is_string()) {
    out = c->get<std::string>();
    return std::nullopt;
  }
  if (!c->is_array()) return wrong_type(name, "a string or an array of content parts");
  for (const auto& part : *c) {
    const json* type = part.is_object() ? field(part, "type") : nullptr;
    const json* text = part.is_object() ? field(part, "text") : nullptr;
    if (!type || !type->is_string() || type->get_ref<const std::string&>() != "text" || !text || !text->is_string())
      return ApiError::invalid(fmt::format("{}: only parts of the form {{\"type\": \"text\", \"text\": \"...\"}} are supported", name),
                               name);
    if (!out.empty()) out += '\n';
    out += text->get_ref<const std::string&>();
  }
  return std::nullopt;
}

std::optional<ApiError> get_messages(const json& body, std::vector<tokenizer::ChatMessage>& out) {
  const json* v = field(body, "messages");
  if (!v) return ApiError::invalid("'messages' is required", "messages", "missing_field");
  if (!v->is_array()) return wrong_type("messages", "an array of messages");
  if (v->empty()) return ApiError::invalid("'messages' must not be empty", "messages");
  for (size_t i = 0; i < v->size(); ++i) {
    const json& m = (*v)[i];
    if (!m.is_object()) return wrong_type(fmt::format("messages[{}]", i), "an object");
    const json* role = field(m, "role");
    if (!role || !role->is_string()) return wrong_type(fmt::format("messages[{}].role", i), "a string");
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";  // OpenAI's newer name for the system role
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      return ApiError::invalid(
          fmt::format("messages[{}].role must be one of system, developer, user, assistant, tool; got '{}'", i, r),
          "messages");
    tokenizer::ChatMessage msg{std::move(r), {}};
    if (auto e = get_content(m, i, msg.content)) return e;
    out.push_back(std::move(msg));
  }
  return std::nullopt;
}

std::optional<ApiError> get_prompt(const json& body, int32_t n_vocab, CompletionRequest& req) {
  const json* v = field(body, "prompt");
  if (!v) return ApiError::invalid("'prompt' is required", "prompt", "missing_field");
  if (v->is_string()) {
    req.prompt = v->get<std::string>();
    return std::nullopt;
  }
  if (!v->is_array()) return wrong_type("prompt", "a string, an array of one string, or an array of token ids");
  if (v->empty()) return ApiError::invalid("'prompt' must not be empty", "prompt");
  if ((*v)[0].is_string()) {
    if (v->size() != 1)
      return ApiError::invalid("several prompts in one request are not supported: send one request per prompt", "prompt");
    req.prompt = (*v)[0].get<std::string>();
    return std::nullopt;
  }
  for (const auto& t : *v) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= n_vocab)
      return ApiError::invalid(fmt::format("'prompt' as token ids: every id must be an integer in [0, {})", n_vocab),
                               "prompt");
    req.prompt_tokens.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  req.prompt_is_tokens = true;
  return std::nullopt;
}

}  // namespace

std::variant<nlohmann::json, ApiError> parse_json_object(std::string_view body) {
  if (body.empty()) return ApiError::invalid("the request body is empty: send a JSON object", {}, "invalid_json");
  if (json_depth(body, kMaxJsonDepth) > kMaxJsonDepth)
    return ApiError::invalid(fmt::format("the JSON body is nested deeper than {} levels", kMaxJsonDepth), {},
                             "invalid_json");
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    return ApiError::invalid(fmt::format("the request body is not valid JSON: {}", e.what()), {}, "invalid_json");
  }
  if (!j.is_object()) return ApiError::invalid("the request body must be a JSON object", {}, "invalid_json");
  return j;
}

std::variant<CompletionRequest, ApiError> parse_completion_request(const nlohmann::json& body, bool chat,
                                                                   const sampling::SamplingParams& defaults,
                                                                   int32_t n_vocab) {
  CompletionRequest req;
  req.chat = chat;
  req.sampling = defaults;
  auto& p = req.sampling;

  if (const json* m = field(body, "model")) {
    if (!m->is_string()) return wrong_type("model", "a string");
    req.model = m->get<std::string>();
  }
  if (chat) {
    if (auto e = get_messages(body, req.messages)) return *e;
  } else {
    if (auto e = get_prompt(body, n_vocab, req)) return *e;
  }

  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  for (const char* name : {"max_tokens", "max_completion_tokens", "n_predict"}) {
    std::optional<int64_t> n;
    if (auto e = get_int(body, name, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), n))
      return *e;
    if (!n) continue;
    if (*n == -1 && std::string_view(name) == "n_predict") continue;  // llama.cpp: -1 = no limit
    if (*n < 1 || *n > kIntMax)
      return ApiError::invalid(fmt::format("'{}' must be an integer in [1, {}], got {}", name, kIntMax, *n), name);
    req.max_tokens = *n;
  }

  if (auto e = get_real(body, "temperature", 0, 1e4, p.temperature)) return *e;
  if (auto e = get_real(body, "top_p", 0, 1, p.top_p)) return *e;
  if (auto e = get_real(body, "min_p", 0, 1, p.min_p)) return *e;
  if (auto e = get_real(body, "presence_penalty", -2, 2, p.presence_penalty)) return *e;
  if (auto e = get_real(body, "frequency_penalty", -2, 2, p.frequency_penalty)) return *e;
  if (auto e = get_real(body, "repeat_penalty", 1e-3, 1e3, p.repeat_penalty)) return *e;
  std::optional<int64_t> top_k, last_n, seed, n;
  if (auto e = get_int(body, "top_k", 0, kIntMax, top_k)) return *e;
  if (top_k) p.top_k = static_cast<int32_t>(*top_k);
  if (auto e = get_int(body, "repeat_last_n", -1, kIntMax, last_n)) return *e;
  if (last_n) p.repeat_last_n = static_cast<int32_t>(*last_n);
  // seed: any 64-bit value; -1 (llama.cpp) = random. Unsigned values above INT64_MAX are accepted as they are.
  if (const json* s = field(body, "seed"); s && s->is_number_unsigned()) {
    p.seed = s->get<uint64_t>();
  } else {
    if (auto e = get_int(body, "seed", -1, std::numeric_limits<int64_t>::max(), seed)) return *e;
    if (seed) {
      if (*seed == -1) p.seed.reset();
      else p.seed = static_cast<uint64_t>(*seed);
    }
  }
  if (auto e = get_int(body, "n", 1, kIntMax, n)) return *e;
  if (n && *n != 1) return ApiError::invalid("only n = 1 is supported: send one request per completion", "n");
  if (auto e = get_logit_bias(body, n_vocab, p)) return *e;
  if (auto e = get_stop(body, req.stop)) return *e;

  if (auto e = get_bool(body, "stream", req.stream)) return *e;
  if (auto e = get_bool(body, "ignore_eos", req.ignore_eos)) return *e;
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) return wrong_type("stream_options", "an object");
    if (auto e = get_bool(*so, "include_usage", req.include_usage)) return *e;
  }

  if (Status st = p.validate(n_vocab); !st) return ApiError::invalid(st.message());
  return req;
}

}  // namespace prima::server
