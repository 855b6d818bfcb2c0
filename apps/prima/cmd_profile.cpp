// prima profile -m MODEL [--json]: what Halda needs to know about this device for that model (src/profiler,
// docs/profiler.md): CPU throughput per weight type, memory and its bandwidth, disk, cores under the cgroup's
// quota. Cached per machine and model; --reprofile measures again. --json prints the device object of a cluster
// file (docs/profiles.md), usable as it is in `prima plan --profiles`.
//
// The link to the next device: run `prima profile --listen 0.0.0.0:9000` there, and `--next HOST:9000` here.
#include <fmt/format.h>

#include <memory>
#include <optional>

#include "cluster/connection.h"
#include "cluster/endpoint.h"
#include "command.h"
#include "core/clock.h"
#include "core/log.h"
#include "profiler/profiler.h"
#include "profiler/report.h"

namespace prima::app {
namespace {

struct ProfileCli {
  std::string model;
  bool json = false;
  bool reprofile = false;
  bool no_cache = false;
  int threads = 0;
  std::string cache_dir;
  std::optional<double> mem_gib;
  std::string name;
  double seconds = 8.0;
  std::string next;
  double link_seconds = 2.0;
  std::string listen;
  double listen_seconds = 0;
};

// Answers link measurements until the time is up (0: until killed): pings are answered by the endpoint's I/O
// thread; the bulk messages are taken and dropped here.
int serve_link(const ProfileCli& o) {
  auto ep = cluster::Endpoint::listen(o.listen, "profile");
  if (!ep) fail("{}", ep.status().message());
  fmt::print("answering link measurements on {}\n", ep->address());
  std::fflush(stdout);
  Stopwatch sw;
  uint64_t probes = 0;
  while (o.listen_seconds <= 0 || sw.elapsed_s() < o.listen_seconds) {
    auto in = ep->recv(cluster::Millis(200));
    if (!in) {
      if (in.status().code() != Status::Code::timeout) log::warn("{}", in.status().message());
      continue;
    }
    if (profiler::is_link_probe(in->msg))
      ++probes;
    else
      log::debug("ignoring {}", cluster::describe(in->msg));
  }
  fmt::print("done: {} bulk messages, {} pings answered\n", probes, ep->pings_answered());
  return 0;
}

CommandMain setup(CLI::App& sub) {
  auto o = std::make_shared<ProfileCli>();
  sub.add_option("-m,--model", o->model, "GGUF model file the device will run");
  sub.add_flag("--json", o->json, "print the device object of a cluster file (docs/profiles.md) on stdout");
  sub.add_flag("--reprofile", o->reprofile, "measure again even when a cached profile is valid");
  sub.add_flag("--no-cache", o->no_cache, "neither read nor write the profile cache");
  sub.add_option("-t,--threads", o->threads, "threads (0 = the cores the cgroup's quota and cpuset allow)")
      ->check(CLI::Range(0, 1024));
  sub.add_option("--cache-dir", o->cache_dir, "profile cache directory (default ~/.cache/prima/profiles)");
  sub.add_option("--mem", o->mem_gib, "available memory in GiB, instead of what the OS says")->check(CLI::Range(0.0, 1e6));
  sub.add_option("--name", o->name, "device name in the profile (default: the host name)");
  sub.add_option("--seconds", o->seconds, "time bound of the measurements")->check(CLI::Range(0.2, 60.0));
  sub.add_option("--next", o->next, "also measure the link to the next device (HOST:PORT running `prima profile --listen`)");
  sub.add_option("--link-seconds", o->link_seconds, "time bound of the link measurement")->check(CLI::Range(0.1, 60.0));
  sub.add_option("--listen", o->listen, "answer other devices' --next link measurements on ADDR (e.g. 0.0.0.0:9000)");
  sub.add_option("--listen-seconds", o->listen_seconds, "with --listen: stop after this long (default: never)")
      ->check(CLI::Range(0.0, 1e7));
  return [o]() {
    if (!o->listen.empty()) return serve_link(*o);
    PRIMA_CHECK(!o->model.empty(), "prima profile: -m MODEL is required (or --listen ADDR)");
    profiler::ProfileOptions po;
    po.model_path = o->model;
    po.name = o->name;
    po.threads = o->threads;
    if (o->mem_gib) po.memory_override = static_cast<uint64_t>(*o->mem_gib * 1073741824.0);
    po.seconds = o->seconds;
    po.reprofile = o->reprofile;
    po.use_cache = !o->no_cache;
    po.cache_dir = o->cache_dir;
    if (!o->json) log::info("profiling this device for {} (at most {:.1f} s unless cached)", o->model, o->seconds);
    auto report = profiler::run_profile(po);
    if (!report) fail("{}", report.status().message());

    if (!o->next.empty()) {
      auto conn = cluster::Connection::open(o->next, "next device");
      if (!conn) fail("{}", conn.status().message());
      profiler::LinkOptions lo;
      lo.seconds = o->link_seconds;
      auto link = profiler::measure_link(*conn, lo);
      if (!link) fail("link to {}: {}", o->next, link.status().message());
      report->link = *link;
      report->profile.link = link->profile();
    }

    if (o->json)
      fmt::print("{}\n", profiler::report_json(*report).dump(2));
    else
      fmt::print("{}", profiler::report_table(*report));
    return 0;
  };
}

}  // namespace
PRIMA_COMMAND(profile, "profile", "Measure what the planner needs to know about this device (cached)", 55, setup);
}  // namespace prima::app
