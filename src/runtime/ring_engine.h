// The head of a ring (`prima run|chat|serve --workers A,B,...`): an Engine whose layers are spread over devices.
//
// At start it handshakes with every worker (same protocol, same model file), decides the ring order (workers as
// listed, head last) and the windows (--layer-window, or an even split), and sends each worker the whole
// configuration. decode() then embeds the tokens, sends each micro-batch into the ring, computes its own window
// of every cycle as the micro-batch comes back, and runs the output layer after the last cycle. All micro-batches
// of a prompt enter the ring at once, so several devices compute at the same time (pipelined prefill); links
// are FIFO, so every window sees the micro-batches in order and the KV caches stay causal.
// A worker that dies or stops answering ends the step within a few seconds with an error naming it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/connection.h"
#include "cluster/endpoint.h"
#include "cluster/heartbeat.h"
#include "model/model.h"
#include "runtime/device_windows.h"
#include "runtime/engine.h"
#include "runtime/window_memory.h"
#include "scheduler/device_profile.h"

namespace prima::runtime {

struct RingOptions {
  std::vector<std::string> workers;          // addresses, ring order
  std::vector<int32_t> windows;              // per device incl. the head (last); empty = even split
  std::string listen = "0.0.0.0:0";          // where the last worker reaches the head
  int32_t n_ctx = 0;                         // per sequence; 0 = the model's, capped at 4096
  int32_t n_seq = 1;
  int32_t n_ubatch = 512;                    // tokens per micro-batch
  int32_t n_threads = 0;                     // the head's; 0 = all cores
  std::vector<int32_t> device_threads;       // per device in ring order (0 = auto); empty = all auto
  ggml_type kv_type = ggml_type::F16;
  cluster::WireType act_type = cluster::WireType::f32;
  bool pipeline = true;                      // micro-batches follow each other round the ring
  std::string cluster_key;
  cluster::Millis connect_timeout{10000};
  cluster::Millis heartbeat_timeout{3000};
  cluster::Millis step_timeout{600000};      // backstop when everyone is alive but nothing comes back
  MemoryOptions memory;                      // the head's own
  std::string device_prefetch = "auto";      // sent to the workers
  std::vector<uint64_t> device_mem;          // per device, ring order (0 = measure); empty = all measure
  // Without windows: profile every device (one at a time) and let Halda plan windows, k and which devices take
  // part. false: an even split over every device.
  bool auto_plan = true;
  bool memory_plan = false;                  // with auto_plan: windows proportional to memory (k = 1), not Halda's
  bool reprofile = false;                    // measure again instead of using cached profiles
  double profile_seconds = 8.0;              // bound of one device's measurements
  std::string save_profiles;                 // write the cluster's profiles here (a cluster file for prima plan)
  // A worker lost in a step: re-plan on the survivors, replay every sequence's tokens and carry on, instead of
  // ending with an error naming it.
  bool recover = false;
};

struct DeviceAccount {
  std::string name, address;
  std::vector<LayerRange> ranges;
  double compute_ms = 0, wait_ms = 0, send_ms = 0, pagein_ms = 0;
  uint64_t disk_read_bytes = 0, anon_bytes = 0, resident_bytes = 0, memory_total = 0;
  int64_t tokens = 0;  // token-micro-batches it computed (summed n_tokens)
  double last_compute_ms = 0, last_network_ms = 0, last_disk_ms = 0;
  bool alive = true;
};

class RingEngine final : public Engine {
 public:
  // Connects, handshakes and configures every worker; throws prima::Error naming the worker that fails.
  RingEngine(const model::Model& model, RingOptions opt);
  ~RingEngine() override;

  const model::HParams& hparams() const override { return model_.hparams(); }
  int32_t n_ctx() const override { return n_ctx_; }
  int32_t n_seq() const override { return opt_.n_seq; }
  Status decode(const TokenBatch& batch, std::vector<float>& logits) override;
  Status kv_clear(int32_t seq) override;
  Status kv_truncate(int32_t seq, int32_t n_keep) override;
  Status kv_copy(int32_t src, int32_t dst) override;
  int32_t seq_len(int32_t seq) const override { return seq < 0 ? 0 : head_->seq_len(seq); }
  EngineTimings timings() const override { return timings_; }
  std::vector<DeviceStatus> devices() const override;
  std::string describe() const override;
  std::string summary() override;

  const RingPlan& plan() const { return plan_; }
  size_t n_connected() const { return workers_.size(); }

  // A new plan for the ring: `windows` per member (the workers listed in `ring`, as indices into --workers, in
  // ring order, then the head). Workers left out go back to waiting. Every KV cache starts empty. Throws
  // prima::Error naming a worker that refuses.
  void replan(const std::vector<int32_t>& windows, const std::vector<size_t>& ring);

 private:
  struct Worker {
    std::string name;         // "w1": its place in --workers
    std::string device_name;  // what it calls itself
    std::string address;
    size_t index = 0;         // in --workers (and in --device-threads / --device-mem)
    cluster::Connection conn;
    bool in_session = true;   // false once told to stop: it waits for a new head
  };
  struct MicroBatch {
    int32_t begin = 0, n = 0;  // tokens [begin, begin + n) of the batch
    int32_t first_output = 0;  // index of its first logits row
    std::vector<float> x;      // [n][n_embd]
  };

  void connect_workers();
  // The first plan: Config to every worker (windows given, or an even split), then the head's own windows.
  void configure_workers();
  // A new plan: PlanChange to the workers of `ring` (indices into workers_, ring order, head implied last), Stop
  // to the others; then the head's windows. KV caches start empty. Throws prima::Error naming a refusing worker.
  void apply_plan(const RingPlan& plan, const std::vector<size_t>& ring);
  void build_head();
  // Profiles every device of the ring in turn (head last), runs Halda and applies its plan.
  void plan_with_halda();
  // One attempt at a step / a KV operation; the public functions add recovery around them.
  Status decode_step(const TokenBatch& batch, std::vector<float>& logits);
  Status kv_step(const cluster::KvOp& op, const KvOperation& local);
  // After a failure: waits for the heartbeats to name the lost workers, re-plans on the survivors (Halda on their
  // profiles when the ring was planned that way, else an even split), replays the history. False when it cannot
  // (recovery off, nobody lost, the head alone cannot hold the model, the survivors fail too).
  bool recover(const Status& why);
  void remember(const TokenBatch& batch);
  Status wait_ack(Worker& w, const std::string& what, cluster::Millis timeout);
  Worker& ring_worker(size_t r) { return workers_[ring_[r]]; }
  std::vector<cluster::RingMember> ring_members() const;
  Status send_to_ring(const TokenBatch& batch, MicroBatch& mb, uint32_t index, uint16_t cycle);
  // Waits for the next message of the step; handles stats and errors from workers on the way.
  Result<cluster::Incoming> next_activations(uint64_t step);
  Status poll_workers(uint64_t step);
  Status broadcast_kv(const cluster::KvOp& op, const KvOperation& local);
  void fail_step(const Status& why);
  void stop_workers(const std::string& reason);

  const model::Model& model_;
  RingOptions opt_;
  int32_t n_ctx_ = 0;
  RingPlan plan_;
  std::optional<cluster::Endpoint> ep_;
  std::vector<Worker> workers_;    // every worker connected, in --workers order
  std::vector<size_t> ring_;       // the workers of the current plan, ring order (the head follows the last)
  uint64_t epoch_ = 0;
  std::unique_ptr<cluster::HeartbeatMonitor> monitor_;
  uint64_t session_ = 0;
  std::string head_address_;  // where the last worker reaches the head
  uint64_t head_read_bytes_ = 0;  // /proc/self/io read_bytes at the last step
  double predicted_ms_ = 0;       // Halda's prediction for the plan in use (0: no prediction)
  std::vector<scheduler::DeviceProfile> profiles_;  // of every connected worker (by index) then the head; empty
                                                    // when the ring was not planned from profiles
  std::vector<std::vector<int32_t>> history_;  // [n_seq][len]: the tokens of each sequence, for replay
  int recoveries_ = 0;
  std::unique_ptr<DeviceWindows> head_;
  std::vector<DeviceAccount> accounts_;  // ring order, head last
  std::vector<float> out_scratch_;
  uint64_t step_ = 0;
  bool broken_ = false;
  std::string broken_reason_;
  EngineTimings timings_;
};

}  // namespace prima::runtime
