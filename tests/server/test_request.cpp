// Parsing of untrusted request bodies: every field of the wrong type or out of range is a 400 naming the field;
// unknown fields are ignored; defaults come from the server.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/request.h"
#include "server/response.h"

using namespace prima::server;
using nlohmann::json;

namespace {

constexpr int32_t kVocab = 512;

std::variant<CompletionRequest, ApiError> parse(const std::string& body, bool chat) {
  auto j = parse_json_object(body);
  if (auto* e = std::get_if<ApiError>(&j)) return *e;
  return parse_completion_request(std::get<json>(j), chat, prima::sampling::SamplingParams{}, kVocab);
}

CompletionRequest ok(const std::string& body, bool chat = true) {
  auto r = parse(body, chat);
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << body << " -> " << e->message;
    return {};
  }
  return std::get<CompletionRequest>(r);
}

ApiError bad(const std::string& body, bool chat = true) {
  auto r = parse(body, chat);
  if (auto* e = std::get_if<ApiError>(&r)) return *e;
  ADD_FAILURE() << body << " was accepted";
  return {};
}

}  // namespace

TEST(Request, ChatWithEveryField) {
  const auto r = ok(R"({"model": "m", "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}],
    "max_tokens": 12, "temperature": 0.5, "top_p": 0.9, "top_k": 7, "min_p": 0.1, "seed": 42, "stop": ["a", "b"],
    "presence_penalty": 0.5, "frequency_penalty": -0.5, "stream": true, "stream_options": {"include_usage": true},
    "logit_bias": {"5": -100, "6": 2.5}, "n": 1, "ignore_eos": true, "unknown_field": {"deep": [1, 2, 3]}})");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "U");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.max_tokens, 12);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 7);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, -0.5f);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_TRUE(r.ignore_eos);
  ASSERT_EQ(r.sampling.logit_bias.size(), 2u);
  EXPECT_TRUE(std::isinf(r.sampling.logit_bias[0].second));
}

TEST(Request, DefaultsAndNulls) {
  const auto r = ok(R"({"messages": [{"role": "user", "content": "hi"}], "temperature": null, "stop": null})");
  EXPECT_FALSE(r.max_tokens);
  EXPECT_FLOAT_EQ(r.sampling.temperature, prima::sampling::SamplingParams{}.temperature);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_FALSE(r.stream);
}

TEST(Request, ContentPartsAndRoles) {
  const auto r = ok(R"({"messages": [{"role": "developer", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    {"role": "assistant", "content": null}]})");
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[0].content, "a\nb");
  EXPECT_EQ(r.messages[1].content, "");
}

TEST(Request, PromptForms) {
  EXPECT_EQ(ok(R"({"prompt": "Once"})", false).prompt, "Once");
  EXPECT_EQ(ok(R"({"prompt": ["Once"]})", false).prompt, "Once");
  const auto t = ok(R"({"prompt": [1, 2, 3]})", false);
  EXPECT_TRUE(t.prompt_is_tokens);
  EXPECT_EQ(t.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(bad(R"({"prompt": ["a", "b"]})", false).param, "prompt");
  EXPECT_EQ(bad(R"({"prompt": [1, 512]})", false).param, "prompt");
  EXPECT_EQ(bad(R"({"prompt": []})", false).param, "prompt");
  EXPECT_EQ(bad(R"({"prompt": 5})", false).param, "prompt");
  EXPECT_EQ(bad(R"({})", false).code, "missing_field");
}

TEST(Request, StopForms) {
  EXPECT_EQ(ok(R"({"messages": [{"role": "user", "content": "x"}], "stop": "\n"})").stop, std::vector<std::string>{"\n"});
  EXPECT_TRUE(ok(R"({"messages": [{"role": "user", "content": "x"}], "stop": [""]})").stop.empty());
  EXPECT_EQ(bad(R"({"messages": [{"role": "user", "content": "x"}], "stop": 3})").param, "stop");
  EXPECT_EQ(bad(R"({"messages": [{"role": "user", "content": "x"}], "stop": ["a", 1]})").param, "stop");
  const std::string many = R"({"messages": [{"role": "user", "content": "x"}], "stop": [)" +
                           std::string(R"("a",)") + std::string(16 * 4, ' ') + R"("b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]})";
  EXPECT_EQ(bad(many).param, "stop");
  EXPECT_EQ(bad(R"({"messages": [{"role": "user", "content": "x"}], "stop": ")" + std::string(300, 'a') + R"("})").param, "stop");
}

TEST(Request, WrongTypesNameTheField) {
  const std::string m = R"("messages": [{"role": "user", "content": "x"}])";
  struct Case {
    std::string extra, param;
  };
  for (const Case& c : std::vector<Case>{{R"("max_tokens": "12")", "max_tokens"},
                                         {R"("max_tokens": 1.5)", "max_tokens"},
                                         {R"("max_tokens": -1)", "max_tokens"},
                                         {R"("max_tokens": 0)", "max_tokens"},
                                         {R"("max_tokens": 1e300)", "max_tokens"},
                                         {R"("max_tokens": 99999999999999999999999)", "max_tokens"},
                                         {R"("max_completion_tokens": -5)", "max_completion_tokens"},
                                         {R"("temperature": "hot")", "temperature"},
                                         {R"("temperature": -1)", "temperature"},
                                         {R"("temperature": 1e308)", "temperature"},
                                         {R"("top_p": 2)", "top_p"},
                                         {R"("top_k": -3)", "top_k"},
                                         {R"("top_k": 4294967296)", "top_k"},
                                         {R"("min_p": [0.1])", "min_p"},
                                         {R"("seed": "x")", "seed"},
                                         {R"("seed": -2)", "seed"},
                                         {R"("presence_penalty": 3)", "presence_penalty"},
                                         {R"("frequency_penalty": {})", "frequency_penalty"},
                                         {R"("stream": "yes")", "stream"},
                                         {R"("ignore_eos": 1)", "ignore_eos"},
                                         {R"("stream_options": 1)", "stream_options"},
                                         {R"("stream_options": {"include_usage": 1})", "include_usage"},
                                         {R"("n": 2)", "n"},
                                         {R"("logit_bias": {"x": 1})", "logit_bias"},
                                         {R"("logit_bias": {"600": 1})", "logit_bias"},
                                         {R"("logit_bias": {"5": 1000})", "logit_bias"},
                                         {R"("model": 7)", "model"}}) {
    const ApiError e = bad("{" + m + ", " + c.extra + "}");
    EXPECT_EQ(e.status, 400) << c.extra;
    EXPECT_EQ(e.param, c.param) << c.extra << " -> " << e.message;
    EXPECT_NE(e.message.find(c.param), std::string::npos) << e.message;
  }
}

TEST(Request, BadMessages) {
  for (const char* body : {R"({"messages": "hi"})", R"({"messages": []})", R"({"messages": [1]})",
                           R"({"messages": [{"content": "x"}]})", R"({"messages": [{"role": "wizard", "content": "x"}]})",
                           R"({"messages": [{"role": "user", "content": 5}]})",
                           R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"}) {
    EXPECT_EQ(bad(body).status, 400) << body;
  }
  EXPECT_EQ(bad("{}").code, "missing_field");
}

TEST(Request, BadJson) {
  for (const char* body : {"", "{", "[1, 2]", "\"text\"", "{\"a\": }", "{\"a\": \"\xff\"}", "nul", "{} {}"})
    EXPECT_EQ(bad(body).code, "invalid_json") << body;
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  EXPECT_EQ(bad("{\"a\": " + deep + "}").code, "invalid_json");
}

TEST(Response, ShapesFollowOpenAI) {
  ResponseHead h{"chatcmpl-1", 100, "m", true};
  Usage u{5, 3, 2, 1.0, 2.0};
  const json c = completion_json(h, "hi", "stop", u);
  EXPECT_EQ(c["object"], "chat.completion");
  EXPECT_EQ(c["choices"][0]["message"]["content"], "hi");
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(c["usage"]["total_tokens"], 8);
  EXPECT_EQ(c["usage"]["prompt_tokens_details"]["cached_tokens"], 2);
  const json first = chunk_json(h, "", true, "", true);
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(first["usage"].is_null());
  const json last = chunk_json(h, "", false, "length", false);
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(last["choices"][0]["delta"].empty());
  EXPECT_FALSE(last.contains("usage"));
  EXPECT_TRUE(usage_chunk_json(h, u)["choices"].empty());
  ResponseHead t{"cmpl-1", 100, "m", false};
  EXPECT_EQ(chunk_json(t, "x", false, "", false)["choices"][0]["text"], "x");
  EXPECT_EQ(completion_json(t, "x", "stop", u)["object"], "text_completion");
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(json::parse(error_json(ApiError::invalid("m", "p")))["error"]["param"], "p");
  // Invalid UTF-8 never throws on the way out.
  EXPECT_NO_THROW(to_text(json{{"a", std::string("\xff")}}));
}
