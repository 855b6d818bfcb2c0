// One filled-in message of every type, for codec tests and the fuzz target's seed corpus.
#pragma once

#include <vector>

#include "cluster/protocol.h"

namespace prima::cluster::testing {

inline Config sample_config() {
  Config c;
  c.epoch = 3;
  c.rank = 1;
  c.ring = {{"w1", "10.203.0.12:9000", 10}, {"w2", "10.203.0.13:9000", 12}, {"head", "10.203.0.11:9100", 10}};
  c.k = 2;
  c.next_hop = "10.203.0.13:9000";
  c.n_ctx = 4096;
  c.n_batch = 2048;
  c.n_ubatch = 512;
  c.n_seq_max = 4;
  c.kv_type = "q8_0";
  c.act_type = WireType::f16;
  c.n_threads = 6;
  c.prefetch = "touch";
  c.mem_budget = 3ull << 30;
  return c;
}

inline PlanChange sample_plan() {
  PlanChange p;
  p.epoch = 4;
  p.rank = 0;
  p.ring = {{"w2", "10.203.0.13:9000", 16}, {"head", "10.203.0.11:9100", 16}};
  p.k = 1;
  p.next_hop = "10.203.0.11:9100";
  return p;
}

inline Hello sample_hello() {
  Hello h;
  h.role = Role::worker;
  h.session = 0x1234567890abcdefull;
  h.device_name = "w1";
  h.software_version = "prima 0.1.0";
  h.listen_port = 9000;
  h.observed_ip = "10.203.0.11";
  h.model.size = 4683073536ull;
  h.model.digest = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  h.facts = {{"cores", "8"}, {"memory", "17179869184"}, {"os", "Linux"}};
  return h;
}

// Activations own their data here (decoded messages point into the frame instead).
struct SampleActivations {
  std::vector<float> data;
  Activations a;
};

inline SampleActivations sample_activations(uint32_t n_tokens, uint32_t n_embd, WireType dtype) {
  SampleActivations s;
  s.data.resize(size_t{n_tokens} * n_embd);
  for (size_t i = 0; i < s.data.size(); ++i) s.data[i] = static_cast<float>(i % 97) * 0.25f - 12.0f;
  s.a.step_id = 77;
  s.a.micro_batch = 2;
  s.a.cycle = 1;
  s.a.dtype = dtype;
  s.a.n_tokens = n_tokens;
  s.a.n_embd = n_embd;
  for (uint32_t t = 0; t < n_tokens; ++t) {
    s.a.pos.push_back(static_cast<int32_t>(100 + t));
    s.a.seq_id.push_back(static_cast<int32_t>(t % 2));
    s.a.output.push_back(t + 1 == n_tokens ? 1 : 0);
  }
  s.a.values = s.data;
  return s;
}

// Every type except Activations (see sample_activations).
inline std::vector<Body> sample_bodies() {
  return {
      ErrorMsg{ErrorCode::mismatch, 5, "worker w2 has a different model file"},
      sample_hello(),
      Ack{41},
      Heartbeat{99, 123456789, 0, false},
      Heartbeat{99, 223456789, 123456789, true},
      sample_config(),
      sample_plan(),
      KvOp{KvOpKind::clear, 0, 0, 0, -1},
      KvOp{KvOpKind::remove, 1, 0, 10, 20},
      KvOp{KvOpKind::copy, 0, 3, 0, -1},
      KvOp{KvOpKind::keep, 2, 0, 0, -1},
      ProfileRequest{R"({"what":["cpu","disk"]})"},
      ProfileReply{R"({"cpu":{"q4_k":12.5}})"},
      Stop{"request finished"},
      Bye{"worker shutting down"},
      StepStats{9, 2, 1, 512, 1000, 2000, 3000, 4000, 1u << 20, 3u << 20, 5u << 20, 7ull << 30},
  };
}

}  // namespace prima::cluster::testing
