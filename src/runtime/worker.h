// A worker of the ring (`prima worker`): listens, serves one head at a time and returns to waiting when that head
// stops or goes away. Everything it runs with comes from the head's Config (windows, k, context, KV type, threads):
// nothing has to be repeated by hand on the workers. It checks that its model file is the head's.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "cluster/protocol.h"
#include "model/model.h"
#include "runtime/window_memory.h"

namespace prima::runtime {

struct WorkerOptions {
  std::string listen = "0.0.0.0:9000";
  std::string name;         // shown in the head's logs; default: the host name
  int n_threads = 0;        // when the head's Config says 0 (auto)
  std::string cluster_key;  // CURVE key shared by the cluster ("" = none)
  std::chrono::milliseconds head_timeout{3000};  // no heartbeat for this long: the head is gone
  int max_sessions = 0;     // stop after this many sessions (0 = serve forever; tests)
  MemoryOptions memory;     // used where the head's Config says "auto" / 0
  const std::atomic<bool>* stop = nullptr;  // set to end the loop (signal handler)
};

// Returns 0 after max_sessions or a stop request; throws prima::Error when it cannot listen.
int run_worker(const model::Model& model, const WorkerOptions& opt);

// The model file's identity for the handshake: its size and the hash of its header and tensor table.
cluster::ModelFingerprint fingerprint_of(const model::Model& model);

}  // namespace prima::runtime
