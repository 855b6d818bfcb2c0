// Small helpers for the HTTP tests: JSON requests, SSE bodies, curl.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace prima::test {

using nlohmann::json;

struct Reply {
  int status = -1;
  json body;  // null when the body is not JSON
  std::string text;
};

inline Reply post(httplib::Client& c, const std::string& path, const json& body, const httplib::Headers& h = {}) {
  Reply r;
  auto res = c.Post(path.c_str(), h, body.dump(), "application/json");
  if (!res) return r;
  r.status = res->status;
  r.text = res->body;
  r.body = json::parse(res->body, nullptr, false);
  return r;
}

inline Reply get(httplib::Client& c, const std::string& path, const httplib::Headers& h = {}) {
  Reply r;
  auto res = c.Get(path.c_str(), h);
  if (!res) return r;
  r.status = res->status;
  r.text = res->body;
  r.body = json::parse(res->body, nullptr, false);
  return r;
}

// The events of an SSE body: the JSON of every "data: {...}" line; done = "data: [DONE]" came last.
struct Sse {
  std::vector<json> events;
  bool done = false;
  bool well_formed = true;  // every event is "data: ...\n\n"
};

inline Sse parse_sse(const std::string& body) {
  Sse s;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) {
      s.well_formed = false;
      break;
    }
    const std::string ev = body.substr(pos, end - pos);
    pos = end + 2;
    if (ev.rfind("data: ", 0) != 0) {
      s.well_formed = false;
      continue;
    }
    const std::string data = ev.substr(6);
    if (data == "[DONE]") {
      s.done = true;
      if (pos != body.size()) s.well_formed = false;
      break;
    }
    s.events.push_back(json::parse(data, nullptr, false));
  }
  return s;
}

// Concatenated text of the chunks (chat deltas or completion texts).
inline std::string sse_text(const Sse& s) {
  std::string out;
  for (const auto& e : s.events) {
    if (!e.contains("choices") || e["choices"].empty()) continue;
    const auto& c = e["choices"][0];
    if (c.contains("delta") && c["delta"].contains("content")) out += c["delta"]["content"].get<std::string>();
    if (c.contains("text")) out += c["text"].get<std::string>();
  }
  return out;
}

// Runs curl with the body from a file; returns what it printed (the raw response body).
inline std::string curl(int port, const std::string& path, const json& body, const std::string& extra = "") {
  static int n = 0;
  const std::string file = ::testing::TempDir() + "/curl_body_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
  std::ofstream(file) << body.dump();
  const std::string cmd = "curl -sN --max-time 60 -H 'Content-Type: application/json' " + extra + " --data-binary @" +
                          file + " http://127.0.0.1:" + std::to_string(port) + path;
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, got);
    ::pclose(p);
  }
  std::remove(file.c_str());
  return out;
}

}  // namespace prima::test
