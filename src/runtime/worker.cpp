#include "runtime/worker.h"

#include <unistd.h>

#include <cstring>
#include <map>
#include <optional>

#include "cluster/connection.h"
#include "cluster/endpoint.h"
#include "cluster/handshake.h"
#include "cluster/heartbeat.h"
#include "core/clock.h"
#include "core/log.h"
#include "memory/accounting.h"
#include "memory/budget.h"
#include "memory/prefetcher.h"
#include "profiler/link.h"
#include "profiler/profiler.h"
#include "runtime/device_windows.h"
#include "runtime/local_engine.h"

namespace prima::runtime {
namespace {

using cluster::Millis;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "worker";
  return buf;
}

// What this worker is doing for its current head.
class Session {
 public:
  Session(const model::Model& model, const WorkerOptions& opt, cluster::Endpoint& ep, const cluster::HeadSession& head,
          std::string name)
      : model_(model), opt_(opt), ep_(ep), head_(head), name_(std::move(name)) {}

  // Runs until the head stops the session or goes away.
  void serve() {
    cluster::HeadWatch watch(ep_, head_.hello.session, head_.describe(), opt_.head_timeout);
    while (!(opt_.stop && opt_.stop->load())) {
      if (Status s = watch.check(); !s) {
        log::warn("{}; waiting for a head again", s.message());
        return;
      }
      auto in = ep_.recv(Millis(50));
      if (!in) {
        if (in.status().code() != Status::Code::timeout) log::warn("{}", in.status().message());
        continue;
      }
      if (!handle(*in)) return;
    }
  }

 private:
  // Returns false when the session ends.
  bool handle(const cluster::Incoming& in) {
    const cluster::Message& m = in.msg;
    if (const auto* hello = m.as<cluster::Hello>()) {
      if (in.peer != head_.peer) (void)cluster::refuse_busy(ep_, in, head_, name_);
      (void)hello;
      return true;
    }
    if (const auto* c = m.as<cluster::Config>()) {
      if (in.peer != head_.peer) return true;
      Status s = configure(*c);
      if (!s) {
        log::error("config from {} refused: {}", head_.describe(), s.message());
        (void)ep_.reply_error(in, cluster::ErrorCode::invalid, s.message());
      } else {
        (void)ep_.send(head_.peer, cluster::Ack{m.seq});
      }
      return true;
    }
    if (const auto* p = m.as<cluster::PlanChange>()) {
      if (in.peer != head_.peer) return true;
      Status s = windows_ ? apply_plan(p->epoch, p->rank, p->ring, p->k, p->next_hop)
                          : Status::error(Status::Code::invalid, "a plan change before Config");
      if (!s) {
        log::error("plan {} from {} refused: {}", p->epoch, head_.describe(), s.message());
        (void)ep_.reply_error(in, cluster::ErrorCode::invalid, s.message());
      } else {
        (void)ep_.send(head_.peer, cluster::Ack{m.seq});
      }
      return true;
    }
    if (const auto* op = m.as<cluster::KvOp>()) {
      Status s = windows_ ? windows_->apply(convert(*op)) : Status::error(Status::Code::invalid, "KV operation before Config");
      if (!s) (void)ep_.reply_error(in, cluster::ErrorCode::invalid, s.message());
      else (void)ep_.send(head_.peer, cluster::Ack{m.seq});
      return true;
    }
    if (profiler::is_link_probe(m)) return true;  // a neighbour measuring its link to us
    if (const auto* req = m.as<cluster::ProfileRequest>()) {
      if (in.peer != head_.peer) return true;
      auto reply = profile(*req);
      if (!reply) (void)ep_.reply_error(in, cluster::ErrorCode::invalid, reply.status().message());
      else (void)ep_.send(head_.peer, *reply);
      return true;
    }
    if (const auto* act = m.as<cluster::Activations>()) {
      if (Status s = compute(*act); !s) {
        log::error("step {}: {}", act->step_id, s.message());
        (void)ep_.send(head_.peer, cluster::ErrorMsg{cluster::ErrorCode::internal, m.seq,
                                                     fmt::format("{}: {}", name_, s.message())});
      }
      return true;
    }
    if (const auto* st = m.as<cluster::Stop>()) {
      log::info("{} ended the session: {}", head_.describe(), st->reason);
      return false;
    }
    if (const auto* bye = m.as<cluster::Bye>()) {
      log::info("{} left: {}", head_.describe(), bye->reason);
      return false;
    }
    log::debug("ignored {}", cluster::describe(m));
    return true;
  }

  static KvOperation convert(const cluster::KvOp& op) {
    switch (op.op) {
      case cluster::KvOpKind::clear: return {KvOpKind::clear_all};
      case cluster::KvOpKind::copy: return {KvOpKind::copy, op.seq, op.seq_dst, 0};
      case cluster::KvOpKind::remove:
        if (op.seq < 0) return {KvOpKind::clear_all};
        return {KvOpKind::remove, op.seq, 0, op.p0};
      case cluster::KvOpKind::keep: break;
    }
    return {KvOpKind::remove, -1, 0, 0};  // unsupported: rejected by apply (sequence -1)
  }

  Status configure(const cluster::Config& c) {
    if (c.n_ctx < 1 || c.n_ctx > (1u << 22)) return Status::error(Status::Code::invalid, "n_ctx {} is out of range", c.n_ctx);
    if (c.n_seq_max < 1 || c.n_seq_max > 256)
      return Status::error(Status::Code::invalid, "n_seq_max {} is out of range", c.n_seq_max);
    if (c.n_ubatch < 1 || c.n_ubatch > 8192)
      return Status::error(Status::Code::invalid, "n_ubatch {} is out of range", c.n_ubatch);
    if (c.kv_type != "f16" && c.kv_type != "f32")
      return Status::error(Status::Code::invalid, "KV cache type '{}' is not f16 or f32", c.kv_type);
    if (c.n_threads > 1024) return Status::error(Status::Code::invalid, "{} threads is too many", c.n_threads);
    if (c.prefetch != "auto" && !memory::parse_prefetch_mode(c.prefetch))
      return Status::error(Status::Code::invalid, "prefetch mode '{}' is unknown", c.prefetch);
    config_ = c;
    return apply_plan(c.epoch, c.rank, c.ring, c.k, c.next_hop);
  }

  // Takes a place in the ring: the windows of `rank`, and the connection to `next_hop`. Used by Config and by
  // PlanChange (a new plan after profiling, or after a device was lost); the KV cache starts empty.
  Status apply_plan(uint64_t epoch, uint32_t rank, const std::vector<cluster::RingMember>& ring, uint32_t k,
                    const std::string& next_hop) {
    const auto& hp = model_.hparams();
    if (ring.size() < 2 || rank + 1 >= ring.size())
      return Status::error(Status::Code::invalid, "rank {} is not a worker's rank in a ring of {}", rank, ring.size());
    std::vector<int32_t> windows;
    for (const auto& m : ring) windows.push_back(static_cast<int32_t>(m.window));
    RingPlan plan;
    try {
      plan = RingPlan::from_windows(hp.n_layer, windows);
    } catch (const Error& e) {
      return Status::error(Status::Code::invalid, "{}", e.what());
    }
    if (plan.k != static_cast<int32_t>(k))
      return Status::error(Status::Code::invalid, "k = {} but the windows give k = {}", k, plan.k);
    const cluster::Config& c = config_;
    const int n_threads = resolve_threads(c.n_threads > 0 ? static_cast<int>(c.n_threads) : opt_.n_threads);
    const model::KvConfig kv{static_cast<int32_t>(c.n_ctx), static_cast<int32_t>(c.n_seq_max),
                             c.kv_type == "f32" ? ggml_type::F32 : ggml_type::F16};
    MemoryOptions mem = opt_.memory;
    if (c.prefetch != "auto") mem.prefetch = c.prefetch;
    if (c.mem_budget > 0) mem.budget_bytes = c.mem_budget;
    next_.reset();
    windows_.reset();  // free the old cache before allocating the new one
    try {
      windows_.emplace(model_, plan.ranges(rank), kv, n_threads, mem, HeadRanges{},
                       static_cast<int32_t>(c.n_ubatch));
    } catch (const std::bad_alloc&) {
      return Status::error(Status::Code::invalid, "not enough memory for the KV cache of {} tokens", c.n_ctx);
    } catch (const Error& e) {
      return Status::error(Status::Code::invalid, "{}", e.what());
    }
    auto next = cluster::Connection::open(next_hop, ring[(rank + 1) % ring.size()].name, transport());
    if (!next) return next.status();
    next_.emplace(std::move(next).value());
    epoch_ = epoch;
    stats_.clear();
    std::string ranges;
    for (const auto& [b, e] : plan.ranges(rank)) ranges += fmt::format(" [{}, {})", b, e);
    log::info("plan {}: rank {} of {}: layers{} (k = {}), {} threads, n_ctx {} x {}, next hop {}", epoch, rank,
              ring.size(), ranges, plan.k, n_threads, c.n_ctx, c.n_seq_max, next_->describe());
    return Status::ok();
  }

  // The head's profile round: this device's profile (cached when it was measured before) and, once the ring is
  // known, the link to the next device.
  Result<cluster::ProfileReply> profile(const cluster::ProfileRequest& req) {
    profiler::ProfileOptions base;
    base.model_path = model_.path();
    base.name = name_;
    base.threads = config_.n_threads > 0 ? static_cast<int>(config_.n_threads) : opt_.n_threads;
    base.memory_override = config_.mem_budget > 0 ? std::optional<uint64_t>(config_.mem_budget) : opt_.memory.budget_bytes;
    auto options = profiler::apply_request(req, base);
    if (!options) return options.status();
    log::info("profiling this device for {} (head's request)", model_.path());
    auto report = profiler::run_profile(*options);
    if (!report) return report.status();
    if (next_) {
      profiler::LinkOptions lo;
      lo.session = head_.hello.session;
      auto link = profiler::measure_link(*next_, lo);
      if (link) {
        report->profile.link = link->profile();
        report->link = *link;
      } else {
        log::warn("could not measure the link to {}: {}", next_->describe(), link.status().message());
      }
    }
    log::info("profile done in {:.1f} s{}", report->seconds, report->from_cache ? " (cached measurements)" : "");
    return profiler::make_reply(*report);
  }

  cluster::TransportOptions transport() const {
    cluster::TransportOptions t;
    t.cluster_key = opt_.cluster_key;
    return t;
  }

  Status compute(const cluster::Activations& a) {
    if (!windows_) return Status::error(Status::Code::invalid, "activations before Config");
    const int64_t t_arrive = now_ns();
    if (a.n_embd != static_cast<uint32_t>(model_.hparams().n_embd))
      return Status::error(Status::Code::invalid, "activations of width {} for a model of width {}", a.n_embd,
                           model_.hparams().n_embd);
    if (a.cycle >= windows_->n_cycles())
      return Status::error(Status::Code::invalid, "cycle {} but k = {}", a.cycle, windows_->n_cycles());
    auto& st = stats_[{a.step_id, a.micro_batch}];
    st.step_id = a.step_id;
    st.micro_batch = a.micro_batch;
    st.n_tokens = a.n_tokens;
    if (a.step_id == last_step_ && last_done_ns_ > 0) st.wait_ns += static_cast<uint64_t>(t_arrive - last_done_ns_);

    x_.resize(static_cast<size_t>(a.n_tokens) * a.n_embd);
    a.to_f32(x_);
    const model::Batch batch{static_cast<int32_t>(a.n_tokens), a.pos.data(), a.seq_id.data()};
    if (Status s = windows_->forward(a.cycle, batch, x_.data()); !s) return s;
    const int64_t t1 = now_ns();
    st.compute_ns += static_cast<uint64_t>(windows_->last_timing().compute_ns);
    st.pagein_ns += static_cast<uint64_t>(windows_->last_timing().pagein_ns);

    cluster::Activations out;
    out.step_id = a.step_id;
    out.micro_batch = a.micro_batch;
    out.cycle = a.cycle;
    out.dtype = config_.act_type;
    out.n_tokens = a.n_tokens;
    out.n_embd = a.n_embd;
    out.pos = a.pos;
    out.seq_id = a.seq_id;
    out.output = a.output;
    out.values = x_;
    Status sent = next_->send(out);
    const int64_t t2 = now_ns();
    st.send_ns += static_cast<uint64_t>(t2 - t1);
    last_step_ = a.step_id;
    if (!sent) return sent;
    windows_->done(a.cycle);  // release / prefetch while the others compute
    last_done_ns_ = now_ns();

    if (a.cycle + 1u == windows_->n_cycles()) {  // this micro-batch is done here: report it
      st.cycle = a.cycle;
      const auto counters = memory::sample_process();
      st.disk_read_bytes = counters.read_bytes >= last_read_bytes_ ? counters.read_bytes - last_read_bytes_ : 0;
      last_read_bytes_ = counters.read_bytes;
      st.anon_bytes = counters.rss_anon;
      st.resident_bytes = windows_->memory().resident_bytes();
      if (memory_total_ == 0)
        if (auto b = memory::probe_budget(); b) memory_total_ = b->total_bytes;
      st.memory_total = memory_total_;
      (void)ep_.send(head_.peer, st);
      stats_.erase({a.step_id, a.micro_batch});
    }
    return Status::ok();
  }

  const model::Model& model_;
  const WorkerOptions& opt_;
  cluster::Endpoint& ep_;
  const cluster::HeadSession& head_;
  std::string name_;
  cluster::Config config_;
  std::optional<DeviceWindows> windows_;
  std::optional<cluster::Connection> next_;
  std::vector<float> x_;  // [n_tokens][n_embd]
  std::map<std::pair<uint64_t, uint32_t>, cluster::StepStats> stats_;
  uint64_t last_step_ = ~0ull;
  int64_t last_done_ns_ = 0;
  uint64_t last_read_bytes_ = 0;
  uint64_t memory_total_ = 0;
  uint64_t epoch_ = 0;
};

}  // namespace

cluster::ModelFingerprint fingerprint_of(const model::Model& model) {
  cluster::ModelFingerprint fp;
  fp.size = model.file().file_size();
  const uint64_t h = model.header_hash();
  fp.digest.resize(8);
  std::memcpy(fp.digest.data(), &h, 8);
  return fp;
}

int run_worker(const model::Model& model, const WorkerOptions& opt) {
  const std::string name = opt.name.empty() ? host_name() : opt.name;
  cluster::TransportOptions t;
  t.cluster_key = opt.cluster_key;
  auto ep = cluster::Endpoint::listen(opt.listen, name, t);
  if (!ep) fail("cannot listen on {}: {}", opt.listen, ep.status().message());
  log::info("worker {} listening on {} with {} ({})", name, ep->address(), model.path(), model.hparams().summary());

  cluster::Hello ours;
  ours.role = cluster::Role::worker;
  ours.device_name = name;
  ours.software_version = "prima 0.1.0";
  ours.listen_port = ep->port();
  ours.model = fingerprint_of(model);
  ours.facts = cluster::basic_device_facts();

  int sessions = 0;
  while (!(opt.stop && opt.stop->load())) {
    auto in = ep->recv(Millis(100));
    if (!in) {
      if (in.status().code() != Status::Code::timeout) log::warn("{}", in.status().message());
      continue;
    }
    if (!in->msg.as<cluster::Hello>()) continue;  // leftovers of an old session
    auto head = cluster::accept_head(*ep, *in, ours);
    if (!head) {
      log::error("refused a head: {}", head.status().message());
      continue;
    }
    log::info("serving {}", head->describe());
    Session(model, opt, *ep, *head, name).serve();
    if (opt.max_sessions > 0 && ++sessions >= opt.max_sessions) break;
    log::info("waiting for a head on {}", ep->address());
  }
  return 0;
}

}  // namespace prima::runtime
