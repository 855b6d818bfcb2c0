// prima worker -m MODEL [--listen ADDR:PORT]: one device of a ring. Waits for a head (`prima run|chat|serve
// --workers ...`), which sends everything else; serves one head at a time and returns to waiting afterwards.
#include <csignal>
#include <memory>

#include "command.h"
#include "core/log.h"
#include "model/model.h"
#include "runtime/worker.h"

namespace prima::app {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

struct WorkerCli {
  std::string model, listen = "0.0.0.0:9000", name, cluster_key;
  int threads = 0;
  int sessions = 0;
  bool verbose = false;
  std::string prefetch = "auto", release = "auto", huge_pages = "auto";
  double mem_gib = 0;
};

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<WorkerCli>();
  sub.add_option("-m,--model", o->model, "GGUF model file (the same file as the head's)")->required();
  sub.add_option("--listen", o->listen, "address:port to accept the head and the ring on (default 0.0.0.0:9000)");
  sub.add_option("--name", o->name, "name shown in the head's logs (default: host name)");
  sub.add_option("-t,--threads", o->threads, "threads when the head does not say (0 = all cores)")->check(CLI::Range(0, 1024));
  sub.add_option("--cluster-key", o->cluster_key, "shared CURVE key: only heads holding it are served");
  sub.add_option("--sessions", o->sessions, "exit after serving this many heads (0 = serve forever)")->check(CLI::Range(0, 1 << 30));
  sub.add_flag("-v,--verbose", o->verbose, "log every step");
  sub.add_option("--prefetch", o->prefetch, "off, on, touch or auto, unless the head says otherwise")
      ->check(CLI::IsMember({"off", "on", "willneed", "touch", "auto"}));
  sub.add_option("--mem", o->mem_gib, "memory this device may use, GiB (default: measured, cgroup limits included)")
      ->check(CLI::Range(0.0, 1e6));
  sub.add_option("--release", o->release, "drop windows after use: auto, off, always")
      ->check(CLI::IsMember({"auto", "off", "always"}));
  sub.add_option("--huge-pages", o->huge_pages, "auto (2 MiB pages for the weights, re-reading kept layers cached in small ones) or off")
      ->check(CLI::IsMember({"auto", "off"}));
  return [o]() {
    if (o->verbose) log::set_level(log::Level::debug);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    auto model = model::Model::open(o->model);
    runtime::WorkerOptions wo;
    wo.listen = o->listen;
    wo.name = o->name;
    wo.n_threads = o->threads;
    wo.cluster_key = o->cluster_key;
    wo.max_sessions = o->sessions;
    wo.stop = &g_stop;
    wo.memory.prefetch = o->prefetch;
    wo.memory.huge_pages = o->huge_pages != "off";
    if (o->mem_gib > 0) wo.memory.budget_bytes = static_cast<uint64_t>(o->mem_gib * 1073741824.0);
    wo.memory.release = o->release == "off" ? runtime::ReleaseMode::off
                        : o->release == "always" ? runtime::ReleaseMode::always
                                                 : runtime::ReleaseMode::automatic;
    if (!wo.name.empty()) log::set_device_name(wo.name);
    return runtime::run_worker(*model, wo);
  };
}

}  // namespace
PRIMA_COMMAND(worker, "worker", "Be one device of a ring: wait for a head and compute the layers it assigns", 20, setup);
}  // namespace prima::app
