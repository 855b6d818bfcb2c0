#include "runtime/ring_engine.h"

#include <fmt/format.h>

#include <fstream>
#include <random>
#include <thread>

#include "cluster/handshake.h"
#include "core/clock.h"
#include "core/format.h"
#include "core/log.h"
#include "memory/accounting.h"
#include "memory/budget.h"
#include "runtime/local_engine.h"
#include "model/stats.h"
#include "profiler/link.h"
#include "profiler/profiler.h"
#include "runtime/worker.h"
#include "scheduler/device_profile.h"
#include "scheduler/profile_json.h"
#include "scheduler/evaluate.h"
#include "scheduler/halda.h"
#include "scheduler/plan_report.h"

namespace prima::runtime {

using cluster::Millis;

RingEngine::RingEngine(const model::Model& model, RingOptions opt) : model_(model), opt_(std::move(opt)) {
  const auto& hp = model.hparams();
  if (opt_.workers.empty()) fail("a ring needs at least one worker (--workers)");
  if (opt_.workers.size() + 1 > cluster::kMaxWorld) fail("at most {} devices in a ring", cluster::kMaxWorld);
  n_ctx_ = resolve_n_ctx(hp, opt_.n_ctx);
  PRIMA_CHECK(opt_.n_seq >= 1 && opt_.n_seq <= 256, "sequence slots {} must be in 1..256", opt_.n_seq);
  PRIMA_CHECK(opt_.n_ubatch >= 1 && opt_.n_ubatch <= 8192, "micro-batch size {} must be in 1..8192", opt_.n_ubatch);
  const size_t world = opt_.workers.size() + 1;
  if (!opt_.device_mem.empty() && opt_.device_mem.size() != world)
    fail("--device-mem lists {} devices, the ring has {}", opt_.device_mem.size(), world);
  if (!opt_.device_threads.empty() && opt_.device_threads.size() != world)
    fail("--device-threads lists {} devices, the ring has {}", opt_.device_threads.size(), world);
  if (!opt_.windows.empty()) {
    if (opt_.windows.size() != world)
      fail("--layer-window lists {} windows for a ring of {} devices ({} workers and the head, which is last)",
           opt_.windows.size(), world, world - 1);
    plan_ = RingPlan::from_windows(hp.n_layer, opt_.windows);
  } else {
    plan_ = RingPlan::even(hp.n_layer, static_cast<int32_t>(world));
  }
  connect_workers();
  configure_workers();
  if (opt_.windows.empty() && opt_.auto_plan) plan_with_halda();
}

void RingEngine::plan_with_halda() {
  Stopwatch sw;
  std::vector<scheduler::DeviceProfile> profiles;
  // One device at a time: devices may share hardware, and a measurement disturbed by another is noise.
  for (size_t r = 0; r < ring_.size(); ++r) {
    Worker& w = ring_worker(r);
    log::info("profiling worker {} ...", w.conn.describe());
    if (Status s = w.conn.send(profiler::make_request(opt_.reprofile, opt_.profile_seconds)); !s) fail("{}", s.message());
    const int64_t deadline = now_ns() + static_cast<int64_t>((opt_.profile_seconds + 60) * 1e9);
    std::optional<scheduler::DeviceProfile> got;
    while (!got) {
      while (ep_->recv(Millis(0))) {
      }  // link probes of the last worker, and anything stale
      auto in = w.conn.recv(Millis(50));
      if (in && in->msg.as<cluster::ProfileReply>()) {
        auto p = profiler::parse_reply(*in->msg.as<cluster::ProfileReply>(), "worker " + w.conn.describe());
        if (!p) fail("{}", p.status().message());
        got = *p;
      } else if (in && in->msg.as<cluster::ErrorMsg>()) {
        fail("worker {} could not profile itself: {}", w.conn.describe(), in->msg.as<cluster::ErrorMsg>()->text);
      }
      if (Status s = monitor_->check(); !s) fail("{}", s.message());
      if (now_ns() > deadline) fail("worker {} sent no profile in time", w.conn.describe());
    }
    got->name = w.name;
    profiles.push_back(*got);
  }
  log::info("profiling the head ...");
  profiler::ProfileOptions po;
  po.model_path = model_.path();
  po.name = "head";
  po.threads = resolve_threads(opt_.device_threads.empty() || opt_.device_threads.back() == 0 ? opt_.n_threads
                                                                                                 : opt_.device_threads.back());
  po.reprofile = opt_.reprofile;
  po.seconds = opt_.profile_seconds;
  po.memory_override = opt_.memory.budget_bytes;
  if (!opt_.device_mem.empty() && opt_.device_mem.back() > 0) po.memory_override = opt_.device_mem.back();
  auto head = profiler::run_profile(po);
  if (!head) fail("profiling the head: {}", head.status().message());
  profiler::LinkOptions lo;
  lo.session = session_;
  if (auto link = profiler::measure_link(ring_worker(0).conn, lo); link) head->profile.link = link->profile();
  else log::warn("could not measure the head's link to {}: {}", ring_worker(0).conn.describe(), link.status().message());
  head->profile.name = "head";
  profiles.push_back(head->profile);
  profiles_ = profiles;  // ring_ is still every worker in --workers order here
  if (!opt_.save_profiles.empty()) {
    std::ofstream out(opt_.save_profiles);
    out << scheduler::cluster_to_json(profiles);
    if (!out) log::warn("could not write the profiles to {}", opt_.save_profiles);
    else log::info("profiles saved to {} (prima plan -m MODEL --profiles {})", opt_.save_profiles, opt_.save_profiles);
  }

  scheduler::PlanOptions options;
  options.n_ctx = n_ctx_ * opt_.n_seq;
  options.n_ubatch = opt_.n_ubatch;
  const auto stats = model::compute_stats(model_.file(), opt_.kv_type == ggml_type::F32 ? 4 : 2);
  Result<scheduler::Plan> plan = Status::error(Status::Code::internal, "no plan");
  if (opt_.memory_plan) {  // the baseline of llama.cpp RPC and exo, priced by the same model
    auto a = scheduler::memory_proportional_split(profiles, model_.hparams().n_layer, 1);
    plan = scheduler::evaluate(profiles, stats, a, options);
  } else {
    plan = scheduler::halda(profiles, stats, options);
  }
  if (!plan) fail("planning the ring: {}", plan.status().message());
  if (!plan->feasible) fail("no workable plan for this cluster: {}", plan->infeasible_reason);
  const auto& devices = plan->devices;
  if (!devices.back().selected) fail("the plan leaves out the head, which holds the input and output layers");
  std::vector<int32_t> windows;
  std::vector<size_t> ring;
  for (size_t m = 0; m + 1 < devices.size(); ++m)
    if (devices[m].selected) {
      ring.push_back(ring_[m]);
      windows.push_back(devices[m].window);
    }
  windows.push_back(devices.back().window);
  log::info("{} in {:.1f} s (profiles included):\n{}", opt_.memory_plan ? "memory-proportional plan" : "Halda planned",
            sw.elapsed_s(), scheduler::plan_table(*plan));
  predicted_ms_ = plan->predicted_ms_per_token;
  if (ring.empty()) log::info("the head alone is fastest for this model: every worker goes back to waiting");
  apply_plan(RingPlan::from_windows(model_.hparams().n_layer, windows), ring);
}

RingEngine::~RingEngine() {
  if (!broken_) stop_workers("the head is done");
}

void RingEngine::stop_workers(const std::string& reason) {
  // A worker the heartbeat says is gone would only make the send wait for its timeout.
  for (size_t r = 0; r < ring_.size(); ++r) {
    Worker& w = ring_worker(r);
    const auto h = monitor_ ? monitor_->health("worker " + w.name) : std::nullopt;
    if (!h || h->alive) (void)w.conn.send(cluster::Stop{reason});
  }
}

void RingEngine::connect_workers() {
  cluster::TransportOptions t;
  t.cluster_key = opt_.cluster_key;
  auto ep = cluster::Endpoint::listen(opt_.listen, "head", t);
  if (!ep) fail("cannot listen on {} for the ring's last hop: {}", opt_.listen, ep.status().message());
  ep_.emplace(std::move(ep).value());
  std::random_device rd;
  session_ = (uint64_t{rd()} << 32) | rd();

  cluster::Hello ours;
  ours.role = cluster::Role::head;
  ours.session = session_;
  ours.device_name = "head";
  ours.software_version = "prima 0.1.0";
  ours.listen_port = ep_->port();
  ours.model = fingerprint_of(model_);
  ours.facts = cluster::basic_device_facts();

  monitor_ = std::make_unique<cluster::HeartbeatMonitor>(
      session_, cluster::HeartbeatOptions{Millis(500), opt_.heartbeat_timeout}, t);
  for (size_t i = 0; i < opt_.workers.size(); ++i) {
    const std::string name = fmt::format("w{}", i + 1);
    auto conn = cluster::Connection::open(opt_.workers[i], name, t);
    if (!conn) fail("worker {} at {}: {}", name, opt_.workers[i], conn.status().message());
    auto hello = cluster::handshake_with_worker(*conn, ours, opt_.connect_timeout);
    if (!hello) fail("{}", hello.status().message());
    log::info("worker {} ({}) at {} joined", name, hello->device_name, opt_.workers[i]);
    // The last worker reaches the head at the address it saw the head connect from.
    if (i + 1 == opt_.workers.size()) head_address_ = cluster::return_address(*hello, ep_->port());
    monitor_->watch("worker " + name, opt_.workers[i]);
    workers_.push_back({name, hello->device_name, opt_.workers[i], i, std::move(conn).value()});
  }
}

std::vector<cluster::RingMember> RingEngine::ring_members() const {
  std::vector<cluster::RingMember> ring;
  for (size_t r = 0; r < ring_.size(); ++r)
    ring.push_back({workers_[ring_[r]].name, workers_[ring_[r]].address, static_cast<uint32_t>(plan_.windows[r])});
  ring.push_back({"head", head_address_, static_cast<uint32_t>(plan_.windows.back())});
  return ring;
}

Status RingEngine::wait_ack(Worker& w, const std::string& what, Millis timeout) {
  // The answer to the message just sent: its Ack, or an Error in reply to it. Anything else on the connection is
  // left over from before (a step that failed, a late report) and is not the answer.
  const uint64_t seq = w.conn.last_seq();
  const int64_t deadline = now_ns() + timeout.count() * 1'000'000;
  while (true) {
    auto in = w.conn.recv(Millis(20));
    if (in && in->msg.as<cluster::Ack>() && in->msg.as<cluster::Ack>()->acked_seq == seq) return Status::ok();
    if (in && in->msg.as<cluster::ErrorMsg>() && in->msg.as<cluster::ErrorMsg>()->in_reply_to == seq)
      return Status::error(Status::Code::invalid, "worker {} refused {}: {}", w.conn.describe(), what,
                           in->msg.as<cluster::ErrorMsg>()->text);
    if (Status s = monitor_->check(); !s) return s;
    if (now_ns() > deadline)
      return Status::error(Status::Code::timeout, "worker {} did not acknowledge {} in time", w.conn.describe(), what);
  }
}

void RingEngine::configure_workers() {
  ring_.clear();
  for (size_t i = 0; i < workers_.size(); ++i) ring_.push_back(i);
  epoch_ = 1;
  const auto ring = ring_members();
  for (size_t r = 0; r < ring_.size(); ++r) {
    Worker& w = ring_worker(r);
    cluster::Config c;
    c.epoch = epoch_;
    c.rank = static_cast<uint32_t>(r);
    c.ring = ring;
    c.k = static_cast<uint32_t>(plan_.k);
    c.next_hop = ring[r + 1].address;
    c.n_ctx = static_cast<uint32_t>(n_ctx_);
    c.n_batch = c.n_ubatch = static_cast<uint32_t>(opt_.n_ubatch);
    c.n_seq_max = static_cast<uint32_t>(opt_.n_seq);
    c.kv_type = opt_.kv_type == ggml_type::F32 ? "f32" : "f16";
    c.act_type = opt_.act_type;
    c.n_threads = opt_.device_threads.empty() ? 0 : static_cast<uint32_t>(opt_.device_threads[w.index]);
    c.prefetch = opt_.device_prefetch;
    c.mem_budget = opt_.device_mem.empty() ? 0 : opt_.device_mem[w.index];
    if (Status s = w.conn.send(c); !s) fail("{}", s.message());
    if (Status s = wait_ack(w, "the configuration", opt_.connect_timeout); !s) fail("{}", s.message());
  }
  build_head();
}

void RingEngine::apply_plan(const RingPlan& plan, const std::vector<size_t>& ring) {
  PRIMA_ASSERT(plan.windows.size() == ring.size() + 1);
  plan_ = plan;
  ring_ = ring;
  ++epoch_;
  const auto members = ring_members();
  for (size_t r = 0; r < ring_.size(); ++r) {
    Worker& w = ring_worker(r);
    cluster::PlanChange p;
    p.epoch = epoch_;
    p.rank = static_cast<uint32_t>(r);
    p.ring = members;
    p.k = static_cast<uint32_t>(plan_.k);
    p.next_hop = members[r + 1].address;
    if (Status s = w.conn.send(p); !s) fail("{}", s.message());
    if (Status s = wait_ack(w, fmt::format("plan {}", epoch_), opt_.connect_timeout); !s) fail("{}", s.message());
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (std::find(ring_.begin(), ring_.end(), i) != ring_.end()) continue;
    log::info("worker {} ({}) is not in the plan: it goes back to waiting", workers_[i].conn.describe(),
              workers_[i].device_name);
    if (!workers_[i].in_session) continue;
    (void)workers_[i].conn.send(cluster::Stop{"not selected by the plan"});
    workers_[i].in_session = false;
    monitor_->unwatch("worker " + workers_[i].name);
  }
  build_head();
}

void RingEngine::replan(const std::vector<int32_t>& windows, const std::vector<size_t>& ring) {
  if (broken_) fail("the ring is down: {}", broken_reason_);
  for (size_t i : ring) {
    if (i >= workers_.size()) fail("worker {} is not connected (there are {})", i + 1, workers_.size());
    if (!workers_[i].in_session) fail("worker {} has left this session", workers_[i].conn.describe());
  }
  if (windows.size() != ring.size() + 1)
    fail("a plan for {} workers and the head needs {} windows, not {}", ring.size(), ring.size() + 1, windows.size());
  apply_plan(RingPlan::from_windows(model_.hparams().n_layer, windows), ring);
}

void RingEngine::build_head() {
  const size_t h = ring_.size();
  const int32_t threads = opt_.device_threads.empty() ? 0 : opt_.device_threads.back();
  const int head_threads = resolve_threads(threads == 0 ? opt_.n_threads : threads);
  MemoryOptions mem = opt_.memory;
  if (!opt_.device_mem.empty() && opt_.device_mem.back() > 0) mem.budget_bytes = opt_.device_mem.back();
  head_.reset();  // the old cache and mapping first
  head_ = std::make_unique<DeviceWindows>(model_, plan_.ranges(h), model::KvConfig{n_ctx_, opt_.n_seq, opt_.kv_type},
                                          head_threads, mem, head_ranges(model_), opt_.n_ubatch);
  accounts_.clear();
  for (size_t m = 0; m <= h; ++m) {
    DeviceAccount a;
    a.name = m < h ? ring_worker(m).name : "head";
    a.address = m < h ? ring_worker(m).address : "";
    a.ranges = plan_.ranges(m);
    accounts_.push_back(a);
  }
  accounts_.back().memory_total = head_->memory().stats().total_bytes;
  head_read_bytes_ = memory::sample_process().read_bytes;
  log::info("ring of {} devices: {}", h + 1, describe());
}

std::string RingEngine::describe() const {
  std::string s = fmt::format("{} devices, {}:", ring_.size() + 1, plan_.describe());
  for (size_t m = 0; m < accounts_.size(); ++m) {
    s += " " + accounts_[m].name;
    for (const auto& [b, e] : accounts_[m].ranges) s += fmt::format(" [{},{})", b, e);
    s += m + 1 < accounts_.size() ? ";" : "";
  }
  s += fmt::format(", n_ctx {} x {} seq", n_ctx_, opt_.n_seq);
  if (predicted_ms_ > 0) s += fmt::format(", Halda predicted {:.1f} ms/token", predicted_ms_);
  return s;
}

Status RingEngine::send_to_ring(const TokenBatch& batch, MicroBatch& mb, uint32_t index, uint16_t cycle) {
  cluster::Activations a;
  a.step_id = step_;
  a.micro_batch = index;
  a.cycle = cycle;
  a.dtype = opt_.act_type;
  a.n_tokens = static_cast<uint32_t>(mb.n);
  a.n_embd = static_cast<uint32_t>(model_.hparams().n_embd);
  a.pos.assign(batch.pos.begin() + mb.begin, batch.pos.begin() + mb.begin + mb.n);
  a.seq_id.assign(batch.seq.begin() + mb.begin, batch.seq.begin() + mb.begin + mb.n);
  a.output.assign(batch.logits.begin() + mb.begin, batch.logits.begin() + mb.begin + mb.n);
  a.values = mb.x;
  Stopwatch sw;
  Status s = ring_worker(0).conn.send(a);
  accounts_.back().send_ms += sw.elapsed_ms();
  return s;
}

Status RingEngine::poll_workers(uint64_t step) {
  for (size_t i = 0; i < ring_.size(); ++i) {
    while (true) {
      auto in = ring_worker(i).conn.recv(Millis(0));
      if (!in) break;
      const auto& m = in->msg;
      if (const auto* st = m.as<cluster::StepStats>()) {
        auto& a = accounts_[i];
        a.compute_ms += st->compute_ns * 1e-6;
        a.wait_ms += st->wait_ns * 1e-6;
        a.send_ms += st->send_ns * 1e-6;
        a.pagein_ms += st->pagein_ns * 1e-6;
        a.disk_read_bytes += st->disk_read_bytes;
        a.anon_bytes = st->anon_bytes;
        a.resident_bytes = st->resident_bytes;
        a.memory_total = st->memory_total;
        a.tokens += st->n_tokens;
        if (st->step_id == step) {
          a.last_compute_ms = st->compute_ns * 1e-6;
          a.last_network_ms = (st->wait_ns + st->send_ns) * 1e-6;
          a.last_disk_ms = st->pagein_ns * 1e-6;
        }
      } else if (const auto* e = m.as<cluster::ErrorMsg>()) {
        return Status::error(Status::Code::internal, "worker {} failed: {}", ring_worker(i).conn.describe(), e->text);
      }
    }
  }
  return Status::ok();
}

Result<cluster::Incoming> RingEngine::next_activations(uint64_t step) {
  const int64_t start = now_ns();
  const int64_t deadline = start + opt_.step_timeout.count() * 1'000'000;
  while (true) {
    if (Status s = poll_workers(step); !s) return s;
    if (Status s = monitor_->check(); !s) return s;
    auto in = ep_->recv(Millis(2));
    if (in) {
      if (const auto* a = in->msg.as<cluster::Activations>(); a && a->step_id == step) {
        accounts_.back().wait_ms += static_cast<double>(now_ns() - start) * 1e-6;
        return in;
      }
      if (const auto* e = in->msg.as<cluster::ErrorMsg>())
        return Status::error(Status::Code::internal, "the ring failed: {}", e->text);
      continue;  // a late message of an earlier step
    }
    if (in.status().code() != Status::Code::timeout) log::warn("{}", in.status().message());
    if (now_ns() > deadline)
      return Status::error(Status::Code::timeout, "no activations came back within {} s although every worker answers "
                           "heartbeats", opt_.step_timeout.count() / 1000);
  }
}

void RingEngine::fail_step(const Status& why) {
  broken_ = true;
  broken_reason_ = why.message();
  stop_workers("the head stopped after an error: " + why.message());
}

Status RingEngine::decode(const TokenBatch& batch, std::vector<float>& logits) {
  Status st = decode_step(batch, logits);
  while (!st && st.code() != Status::Code::invalid && !broken_ && recover(st)) st = decode_step(batch, logits);
  if (st) {
    remember(batch);
  } else if (st.code() != Status::Code::invalid && !broken_) {
    fail_step(st);
  }
  return st;
}

void RingEngine::remember(const TokenBatch& batch) {
  if (!opt_.recover) return;
  if (history_.size() < static_cast<size_t>(opt_.n_seq)) history_.resize(static_cast<size_t>(opt_.n_seq));
  for (int32_t t = 0; t < batch.size(); ++t) {
    auto& h = history_[static_cast<size_t>(batch.seq[t])];
    const size_t p = static_cast<size_t>(batch.pos[t]);
    if (h.size() <= p) h.resize(p + 1, 0);
    h[p] = batch.tokens[t];
  }
}

bool RingEngine::recover(const Status& why) {
  if (!opt_.recover || recoveries_ >= 8) return false;
  // The step may have failed before the heartbeats noticed: give them their timeout to name the lost workers.
  std::vector<size_t> lost;
  const int64_t deadline = now_ns() + (opt_.heartbeat_timeout.count() + 1000) * 1'000'000;
  while (true) {
    lost.clear();
    for (size_t i : ring_) {
      const auto h = monitor_->health("worker " + workers_[i].name);
      if (h && !h->alive) lost.push_back(i);
    }
    if (!lost.empty() || now_ns() > deadline) break;
    std::this_thread::sleep_for(Millis(100));
  }
  if (lost.empty()) return false;  // not a lost device: an error recovery cannot help with
  ++recoveries_;
  Stopwatch sw;
  std::vector<size_t> survivors;
  for (size_t i : ring_)
    if (std::find(lost.begin(), lost.end(), i) == lost.end()) survivors.push_back(i);
  for (size_t i : lost) {
    workers_[i].in_session = false;
    monitor_->unwatch("worker " + workers_[i].name);
    log::warn("worker {} lost ({}); re-planning on {} device(s)", workers_[i].conn.describe(), why.message(),
              survivors.size() + 1);
  }
  try {
    std::vector<int32_t> windows;
    std::vector<size_t> ring;
    if (!profiles_.empty()) {  // Halda again, on the survivors' profiles
      std::vector<scheduler::DeviceProfile> profiles;
      for (size_t i : survivors) profiles.push_back(profiles_[i]);
      profiles.push_back(profiles_.back());
      scheduler::PlanOptions options;
      options.n_ctx = n_ctx_ * opt_.n_seq;
      options.n_ubatch = opt_.n_ubatch;
      auto plan = scheduler::halda(profiles, model::compute_stats(model_.file(), opt_.kv_type == ggml_type::F32 ? 4 : 2),
                                   options);
      if (!plan || !plan->feasible || !plan->devices.back().selected) {
        log::error("no workable plan on the survivors: {}", plan ? plan->infeasible_reason : plan.status().message());
        return false;
      }
      for (size_t m = 0; m < survivors.size(); ++m)
        if (plan->devices[m].selected) {
          ring.push_back(survivors[m]);
          windows.push_back(plan->devices[m].window);
        }
      windows.push_back(plan->devices.back().window);
      predicted_ms_ = plan->predicted_ms_per_token;
    } else {
      ring = survivors;
      windows = RingPlan::even(model_.hparams().n_layer, static_cast<int32_t>(survivors.size() + 1)).windows;
    }
    apply_plan(RingPlan::from_windows(model_.hparams().n_layer, windows), ring);
  } catch (const Error& e) {
    log::error("re-planning failed: {}", e.what());
    return false;
  }
  // Rebuild every sequence's cache from its tokens.
  int64_t replayed = 0;
  for (size_t s = 0; s < history_.size(); ++s) {
    const auto& h = history_[s];
    for (size_t b = 0; b < h.size(); b += static_cast<size_t>(opt_.n_ubatch) * 8) {
      TokenBatch batch;
      for (size_t p = b; p < std::min(h.size(), b + static_cast<size_t>(opt_.n_ubatch) * 8); ++p)
        batch.add(h[p], static_cast<int32_t>(p), static_cast<int32_t>(s), false);
      std::vector<float> none;
      if (Status st = decode_step(batch, none); !st) {
        log::error("replaying sequence {} failed: {}", s, st.message());
        return recover(st);
      }
      replayed += batch.size();
    }
  }
  log::warn("recovered in {:.1f} s: {} tokens replayed; now {}", sw.elapsed_s(), replayed, describe());
  return true;
}

Status RingEngine::decode_step(const TokenBatch& batch, std::vector<float>& logits) {
  if (broken_) return Status::error(Status::Code::closed, "the ring is down: {}", broken_reason_);
  const auto& hp = model_.hparams();
  const int32_t n = batch.size();
  if (batch.pos.size() != batch.tokens.size() || batch.seq.size() != batch.tokens.size() ||
      batch.logits.size() != batch.tokens.size())
    return Status::error(Status::Code::invalid, "malformed batch: field sizes differ");
  if (n == 0) return Status::ok();
  for (int32_t t = 0; t < n; ++t)
    if (batch.tokens[t] < 0 || batch.tokens[t] >= hp.n_vocab)
      return Status::error(Status::Code::invalid, "token id {} is outside the vocabulary (0..{})", batch.tokens[t],
                           hp.n_vocab - 1);
  // Every device's cache holds the same positions, so the head's check speaks for the whole ring.
  if (Status s = head_->check({n, batch.pos.data(), batch.seq.data()}); !s) return s;

  ++step_;
  Stopwatch step_time;
  const size_t n_embd = static_cast<size_t>(hp.n_embd), n_vocab = static_cast<size_t>(hp.n_vocab);
  logits.resize(static_cast<size_t>(batch.n_outputs()) * n_vocab);
  std::vector<MicroBatch> mbs;
  int32_t outputs = 0;
  for (int32_t b = 0; b < n; b += opt_.n_ubatch) {
    MicroBatch mb;
    mb.begin = b;
    mb.n = std::min(opt_.n_ubatch, n - b);
    mb.first_output = outputs;
    for (int32_t t = b; t < b + mb.n; ++t) outputs += batch.logits[static_cast<size_t>(t)];
    mbs.push_back(std::move(mb));
  }
  double head_compute = 0, head_pagein = 0;

  auto embed_and_send = [&](uint32_t i) -> Status {
    MicroBatch& mb = mbs[i];
    mb.x.resize(static_cast<size_t>(mb.n) * n_embd);
    Stopwatch sw;
    if (Status s = model_.embed({batch.tokens.data() + mb.begin, static_cast<size_t>(mb.n)}, mb.x.data()); !s) return s;
    head_compute += sw.elapsed_ms();
    return send_to_ring(batch, mb, i, 0);
  };
  // The head's part of micro-batch i after the ring's part of `cycle` (its hidden states in mbs[i].x): the head's
  // window, then the next cycle or the output layer.
  auto head_part = [&](uint32_t i, int32_t cycle) -> Status {
    MicroBatch& mb = mbs[i];
    Stopwatch sw;
    const model::Batch mbatch{mb.n, batch.pos.data() + mb.begin, batch.seq.data() + mb.begin};
    if (Status s = head_->forward(static_cast<size_t>(cycle), mbatch, mb.x.data()); !s) return s;
    head_pagein += head_->last_timing().pagein_ns * 1e-6;
    if (cycle + 1 < plan_.k) {
      head_compute += sw.elapsed_ms();
      // Alone, the head runs the next cycle itself (the caller's loop); otherwise it goes round the ring again.
      Status s = ring_.empty() ? Status::ok() : send_to_ring(batch, mb, i, static_cast<uint16_t>(cycle + 1));
      head_->done(static_cast<size_t>(cycle));
      return s;
    }
    // Output layer for the tokens that want logits.
    std::vector<float> rows;
    for (int32_t t = 0; t < mb.n; ++t)
      if (batch.logits[static_cast<size_t>(mb.begin + t)])
        rows.insert(rows.end(), mb.x.begin() + static_cast<long>(t * n_embd), mb.x.begin() + static_cast<long>((t + 1) * n_embd));
    const int32_t n_out = static_cast<int32_t>(rows.size() / n_embd);
    if (n_out > 0)
      model_.output(head_->pool(), rows.data(), n_out, logits.data() + static_cast<size_t>(mb.first_output) * n_vocab,
                    out_scratch_);
    head_compute += sw.elapsed_ms();
    head_->done(static_cast<size_t>(cycle));
    return Status::ok();
  };
  auto on_return = [&](const cluster::Activations& a) -> Status {
    if (a.micro_batch >= mbs.size() || a.n_tokens != static_cast<uint32_t>(mbs[a.micro_batch].n) ||
        a.cycle >= plan_.k)
      return Status::error(Status::Code::protocol, "the ring returned an unknown micro-batch {}", a.micro_batch);
    a.to_f32(mbs[a.micro_batch].x);
    return head_part(a.micro_batch, a.cycle);
  };

  Status st = Status::ok();
  const size_t n_returns = mbs.size() * static_cast<size_t>(plan_.k);
  if (ring_.empty()) {
    // The plan left only the head: every cycle here, nothing on the network.
    for (uint32_t i = 0; i < mbs.size() && st; ++i) {
      MicroBatch& mb = mbs[i];
      mb.x.resize(static_cast<size_t>(mb.n) * n_embd);
      st = model_.embed({batch.tokens.data() + mb.begin, static_cast<size_t>(mb.n)}, mb.x.data());
      for (int32_t c = 0; c < plan_.k && st; ++c) st = head_part(i, c);
    }
  } else if (opt_.pipeline) {
    for (uint32_t i = 0; i < mbs.size() && st; ++i) st = embed_and_send(i);
    for (size_t r = 0; r < n_returns && st; ++r) {
      auto in = next_activations(step_);
      if (!in) st = in.status();
      else st = on_return(*in->msg.as<cluster::Activations>());
    }
  } else {
    for (uint32_t i = 0; i < mbs.size() && st; ++i) {
      st = embed_and_send(i);
      for (int32_t c = 0; c < plan_.k && st; ++c) {
        auto in = next_activations(step_);
        if (!in) st = in.status();
        else st = on_return(*in->msg.as<cluster::Activations>());
      }
    }
  }
  // Stats of this step that are already here.
  if (Status s = poll_workers(step_); st && !s) st = s;
  if (!st) return st;
  auto& head = accounts_.back();
  const uint64_t read = memory::sample_process().read_bytes;
  head.disk_read_bytes += read >= head_read_bytes_ ? read - head_read_bytes_ : 0;
  head_read_bytes_ = read;
  head.compute_ms += head_compute - head_pagein;
  head.pagein_ms += head_pagein;
  head.tokens += n;
  head.last_compute_ms = head_compute - head_pagein;
  head.last_disk_ms = head_pagein;
  head.last_network_ms = step_time.elapsed_ms() - head_compute;
  timings_.compute_ms += head_compute;
  timings_.wait_ms += step_time.elapsed_ms() - head_compute;
  ++timings_.n_steps;
  return Status::ok();
}

Status RingEngine::broadcast_kv(const cluster::KvOp& op, const KvOperation& local) {
  Status st = kv_step(op, local);
  // After a recovery every cache was rebuilt from the history, which already reflects this operation.
  if (!st && st.code() != Status::Code::invalid && !broken_ && recover(st)) st = Status::ok();
  if (!st && st.code() != Status::Code::invalid && !broken_) fail_step(st);
  return st;
}

Status RingEngine::kv_step(const cluster::KvOp& op, const KvOperation& local) {
  if (broken_) return Status::error(Status::Code::closed, "the ring is down: {}", broken_reason_);
  if (Status s = head_->apply(local); !s) return s;
  if (opt_.recover) {  // the history follows the caches
    if (history_.size() < static_cast<size_t>(opt_.n_seq)) history_.resize(static_cast<size_t>(opt_.n_seq));
    switch (local.op) {
      case KvOpKind::clear_all:
        for (auto& h : history_) h.clear();
        break;
      case KvOpKind::remove:
        history_[static_cast<size_t>(local.seq)].resize(std::min(history_[static_cast<size_t>(local.seq)].size(),
                                                                 static_cast<size_t>(local.p0)));
        break;
      case KvOpKind::copy:
        history_[static_cast<size_t>(local.seq_dst)] = history_[static_cast<size_t>(local.seq)];
        break;
    }
  }
  for (size_t r = 0; r < ring_.size(); ++r)
    if (Status s = ring_worker(r).conn.send(op); !s) return s;
  for (size_t r = 0; r < ring_.size(); ++r)
    if (Status s = wait_ack(ring_worker(r), "a KV operation", opt_.heartbeat_timeout); !s) return s;
  return Status::ok();
}

Status RingEngine::kv_clear(int32_t seq) {
  if (seq >= opt_.n_seq) return Status::error(Status::Code::invalid, "sequence {} is outside 0..{}", seq, opt_.n_seq - 1);
  if (seq < 0) return broadcast_kv({cluster::KvOpKind::clear, 0, 0, 0, -1}, {KvOpKind::clear_all});
  return broadcast_kv({cluster::KvOpKind::remove, seq, 0, 0, -1}, {KvOpKind::remove, seq, 0, 0});
}

Status RingEngine::kv_truncate(int32_t seq, int32_t n_keep) {
  if (seq < 0 || seq >= opt_.n_seq) return Status::error(Status::Code::invalid, "sequence {} is outside 0..{}", seq, opt_.n_seq - 1);
  n_keep = std::max(0, n_keep);
  return broadcast_kv({cluster::KvOpKind::remove, seq, 0, n_keep, -1}, {KvOpKind::remove, seq, 0, n_keep});
}

Status RingEngine::kv_copy(int32_t src, int32_t dst) {
  return broadcast_kv({cluster::KvOpKind::copy, src, dst, 0, -1}, {KvOpKind::copy, src, dst, 0});
}

std::vector<DeviceStatus> RingEngine::devices() const {
  std::vector<DeviceStatus> out;
  for (size_t m = 0; m < accounts_.size(); ++m) {
    const auto& a = accounts_[m];
    DeviceStatus d;
    const bool worker = m + 1 < accounts_.size();
    d.name = worker ? fmt::format("{} ({})", a.name, workers_[ring_[m]].device_name) : a.name;
    d.address = a.address;
    const auto h = worker ? monitor_->health("worker " + a.name) : std::nullopt;
    d.alive = h ? h->alive : true;
    d.memory_total = a.memory_total;
    d.memory_anon = m + 1 < accounts_.size() ? a.anon_bytes : memory::sample_process().rss_anon;
    d.windows = a.ranges;
    d.k = plan_.k;
    d.last_compute_ms = a.last_compute_ms;
    d.last_network_ms = a.last_network_ms;
    d.last_disk_ms = a.last_disk_ms;
    out.push_back(d);
  }
  return out;
}

std::string RingEngine::summary() {
  // Reports of the last step may still be on their way (they travel beside the activations, not with them).
  const int64_t deadline = now_ns() + 200'000'000;
  auto complete = [&] {
    for (size_t i = 0; i + 1 < accounts_.size(); ++i)
      if (accounts_[i].tokens < accounts_.back().tokens) return false;
    return true;
  };
  while (!broken_ && !complete() && now_ns() < deadline) {
    if (!poll_workers(step_)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  accounts_.back().anon_bytes = memory::sample_process().rss_anon;
  std::string s = fmt::format("{:<6} {:<22} {:<18} {:>8} {:>11} {:>10} {:>9} {:>10} {:>9} {:>9}\n", "device", "address",
                              "layers", "tokens", "compute ms", "wait ms", "send ms", "page-in ms", "disk MiB", "pressure");
  for (const auto& a : accounts_) {
    std::string layers;
    for (const auto& [b, e] : a.ranges) layers += fmt::format("[{},{})", b, e);
    const double pressure = a.memory_total > 0 ? 100.0 * static_cast<double>(a.anon_bytes) / static_cast<double>(a.memory_total) : 0;
    s += fmt::format("{:<6} {:<22} {:<18} {:>8} {:>11.1f} {:>10.1f} {:>9.1f} {:>10.1f} {:>9.1f} {:>8.1f}%\n", a.name,
                     a.address.empty() ? "(this process)" : a.address, layers, a.tokens, a.compute_ms, a.wait_ms,
                     a.send_ms, a.pagein_ms, a.disk_read_bytes / 1048576.0, pressure);
  }
  s += "head memory: " + head_->memory().stats().plan + "\n";
  return s;
}

}  // namespace prima::runtime
