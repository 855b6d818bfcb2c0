// Hostile and malformed requests: each gets the right status (and an OpenAI-shaped error body where it is ours to
// write), and the server keeps serving, other clients included.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "http_util.h"
#include "raw_http.h"
#include "server_process.h"

using namespace prima::test;

namespace {

// Small limits so hostile cases are quick: 1 MiB bodies, 2 s timeouts, 256-token contexts.
std::vector<std::string> args() {
  return {"-m", kStoriesModel, "-c", "256", "-np", "2", "--chat-template", "chatml", "-t", "2", "--temp", "0",
          "--max-body", "1", "--timeout", "2"};
}

std::string raw_post(const std::string& path, const std::string& body, const std::string& headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" +
         (headers.empty() ? std::string("Content-Type: application/json\r\n") : headers) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const std::string kMsg = R"("messages": [{"role": "user", "content": "Hi"}])";
std::string chat(const std::string& fields) { return "{" + kMsg + (fields.empty() ? "" : ", " + fields) + "}"; }

struct Case {
  std::string name;
  std::string request;  // raw bytes
  int status;
  std::string code;  // expected error.code ("" = do not check the body)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> cases() {
  const std::string cc = "/v1/chat/completions", co = "/v1/completions";
  std::string many_messages = R"({"messages": [)";
  for (int i = 0; i < 20000; ++i) many_messages += std::string(i ? "," : "") + R"({"role":"user","content":"a"})";
  many_messages += "]}";
  std::string many_stops;
  for (int i = 0; i < 100; ++i) many_stops += std::string(i ? "," : "") + "\"s" + std::to_string(i) + "\"";
  return {
      {"TruncatedJson", raw_post(cc, R"({"messages": [)"), 400, "invalid_json"},
      {"TopLevelArray", raw_post(cc, "[1, 2, 3]"), 400, "invalid_json"},
      {"EmptyBody", raw_post(cc, ""), 400, "invalid_json"},
      {"NestedHundredThousandDeep", raw_post(cc, std::string(100000, '[') + std::string(100000, ']')), 400, "invalid_json"},
      {"BinaryGarbage", raw_post(cc, std::string("\x00\x01\x02\xff\xfe{{", 7)), 400, "invalid_json"},
      {"InvalidUtf8InString", raw_post(cc, "{\"messages\": [{\"role\": \"user\", \"content\": \"\xc3\x28\"}]}"), 400, "invalid_json"},
      {"MessagesNotAnArray", raw_post(cc, R"({"messages": "hello"})"), 400, "invalid_type"},
      {"MessageWithoutRole", raw_post(cc, R"({"messages": [{"content": "hello"}]})"), 400, "invalid_type"},
      {"UnknownRole", raw_post(cc, R"({"messages": [{"role": "root", "content": "x"}]})"), 400, "invalid_value"},
      {"NegativeMaxTokens", raw_post(cc, chat(R"("max_tokens": -5)")), 400, "invalid_value"},
      {"MaxTokensAsString", raw_post(cc, chat(R"("max_tokens": "ten")")), 400, "invalid_type"},
      {"MaxTokens1e300", raw_post(cc, chat(R"("max_tokens": 1e300)")), 400, "invalid_value"},
      {"MaxTokensTwoToThe70", raw_post(cc, chat(R"("max_tokens": 1180591620717411303424)")), 400, "invalid_value"},
      {"TemperatureBeyondDouble", raw_post(cc, chat(R"("temperature": 1e999)")), 400, ""},
      {"NegativeTopP", raw_post(cc, chat(R"("top_p": -0.5)")), 400, "invalid_value"},
      {"FractionalSeed", raw_post(cc, chat(R"("seed": 1.5)")), 400, "invalid_type"},
      {"SeveralChoices", raw_post(cc, chat(R"("n": 3)")), 400, "invalid_value"},
      {"HundredStopSequences", raw_post(cc, chat("\"stop\": [" + many_stops + "]")), 400, "invalid_value"},
      {"StopAsObject", raw_post(cc, chat(R"("stop": {"a": 1})")), 400, "invalid_type"},
      {"LogitBiasOutOfVocab", raw_post(cc, chat(R"("logit_bias": {"100000": 5})")), 400, "invalid_value"},
      {"PromptTokenOutOfVocab", raw_post(co, R"({"prompt": [1, 999999]})"), 400, "invalid_value"},
      {"PromptLongerThanContext", raw_post(co, "{\"prompt\": \"" + std::string(3000, 'a') + " b\"}"), 400,
       "context_length_exceeded"},
      {"TwentyThousandMessages", raw_post(cc, many_messages), 400, "context_length_exceeded"},
      {"TenMegabyteBody", raw_post(cc, "{\"x\": \"" + std::string(10 << 20, 'a') + "\"}"), 413, ""},
      {"ChunkedBodyBeyondTheCap",
       [] {
         std::string r = "POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
         const std::string chunk(64 << 10, 'a');
         for (int i = 0; i < 40; ++i) r += "10000\r\n" + chunk + "\r\n";  // 2.5 MiB in 64 KiB chunks
         return r + "0\r\n\r\n";
       }(),
       413, "payload_too_large"},
      {"GetOnAPostRoute", "GET /v1/chat/completions HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405, "method_not_allowed"},
      {"UnknownRoute", "GET /v2/everything HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404, "not_found"},
      {"GarbageRequestLine", "HELLO THERE\r\n\r\n", 400, ""},
      {"HundredKilobyteHeader", "GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(100 << 10, 'x') + "\r\n\r\n", 400, ""},
      {"TokenizeContentNotAString", raw_post("/tokenize", R"({"content": 42})"), 400, "invalid_value"},
      {"DetokenizeIdsOutOfRange", raw_post("/detokenize", R"({"tokens": [1, -7, 1e9]})"), 400, "invalid_value"},
      {"UnknownFieldsAreIgnored", raw_post(cc, chat(R"("max_tokens": 3, "frobnicate": {"deep": [1, {"x": null}]}, "tools": [])")),
       200, ""},
      {"WrongContentTypeStillParses", raw_post(co, R"({"prompt": "Hi", "max_tokens": 2})", "Content-Type: text/plain\r\n"), 200, ""},
  };
}

class BadRequest : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(BadRequest, GetsTheRightStatusAndTheServerKeepsServing) {
  const Case& c = GetParam();
  ServerProcess s(args());
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  RawConn conn(s.port());
  ASSERT_TRUE(conn.ok());
  conn.send(c.request);  // the server may close early (a refused body): that is fine
  const std::string response = conn.read_response(std::chrono::seconds(10));
  EXPECT_EQ(status_of(response), c.status) << response.substr(0, 600);
  if (!c.code.empty()) {
    const auto body = json::parse(body_of(response), nullptr, false);
    ASSERT_TRUE(body.is_object()) << response.substr(0, 600);
    EXPECT_EQ(body["error"]["code"], c.code) << body.dump();
    EXPECT_TRUE(body["error"]["message"].is_string());
    EXPECT_TRUE(body["error"]["type"].is_string());
  }
  // Still serving.
  auto client = s.client();
  EXPECT_EQ(get(client, "/health").status, 200);
  const auto r = post(client, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 4}});
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["usage"]["completion_tokens"], 4);
}

INSTANTIATE_TEST_SUITE_P(Hostile, BadRequest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// A body that never arrives in full: the client gets 408 after the timeout, and nobody else waits for it.
TEST(SlowClient, StalledBodyTimesOutWithoutStallingOthers) {
  ServerProcess s(args());
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  RawConn slow(s.port());
  ASSERT_TRUE(slow.send("POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n{\"messages\":"));
  auto response = std::async(std::launch::async, [&] { return slow.read_response(std::chrono::seconds(10)); });
  const auto t0 = std::chrono::steady_clock::now();
  auto client = s.client();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(post(client, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 4}}).status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));  // served while the slow body stalls
  const std::string r = response.get();
  EXPECT_EQ(status_of(r), 408) << r;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
  bool closed = false;
  slow.read_all(std::chrono::seconds(2), &closed);
  EXPECT_TRUE(closed);  // and the connection is closed at once, not kept alive
}

// A body trickling in one byte at a time gets cut off at the whole-body deadline, even though no single read waits
// long enough to time out.
TEST(SlowClient, TricklingBodyHitsTheDeadline) {
  ServerProcess s(args());
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  RawConn slow(s.port());
  ASSERT_TRUE(slow.send("POST /v1/completions HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n{"));
  const auto t0 = std::chrono::steady_clock::now();
  std::string r;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8) && r.empty()) {
    if (!slow.send(" ")) break;
    r = slow.read_all(std::chrono::milliseconds(300));
  }
  EXPECT_EQ(status_of(r), 408) << r;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  auto client = s.client();
  EXPECT_EQ(get(client, "/health").status, 200);
}

// Headers that never end: the connection is dropped after the timeout; other clients are served meanwhile.
TEST(SlowClient, EndlessHeadersAreDropped) {
  ServerProcess s(args());
  ASSERT_TRUE(s.started() && s.wait_ready()) << s.log();
  std::vector<std::unique_ptr<RawConn>> loris;
  for (int i = 0; i < 40; ++i) {  // more than a small thread pool would have
    loris.push_back(std::make_unique<RawConn>(s.port()));
    loris.back()->send("POST /v1/completions HTTP/1.1\r\nHost: t\r\nX-Slow: ");
  }
  auto client = s.client();
  EXPECT_EQ(post(client, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 4}}).status, 200);
  bool closed = false;
  loris[0]->read_all(std::chrono::seconds(6), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(get(client, "/health").status, 200);
}
