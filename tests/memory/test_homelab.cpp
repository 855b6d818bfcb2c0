// Root only: a homelab device with a 64 MiB memory limit (cgroup v1) must see its limit, not the host's
// RAM, and must stream a mapped file twice its limit without being OOM-killed. Skipped when not root, when
// the homelab is missing or does not come up, or when someone else's lab is up (`homelab up` would tear it
// down). Always ends with `homelab down`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "run_cli.h"
#include "temp_file.h"

namespace prima::memory {
namespace {

using nlohmann::json;
constexpr uint64_t MiB = 1 << 20;
const std::string kLab = HOMELAB;
const std::string kDevice = "memtest";

using prima::test::sh;

// Devices of a lab that is up now (from homelab's state and cgroups), other than ours.
std::set<std::string> other_devices() {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/fs/cgroup/memory/homelab", ec))
    if (e.is_directory()) names.insert(e.path().filename().string());
  std::ifstream state("/run/homelab/lab.json");
  if (state) {
    const json j = json::parse(state, nullptr, false);
    if (j.is_object() && j.contains("devices"))
      for (const auto& d : j["devices"])
        if (d.contains("name") && d["name"].is_string()) names.insert(d["name"].get<std::string>());
  }
  names.erase(kDevice);
  names.erase("_switchd");
  return names;
}

class Homelab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (cgroups, network namespaces)";
    if (::access(kLab.c_str(), X_OK) != 0) GTEST_SKIP() << kLab << " not found";
    if (const auto others = other_devices(); !others.empty())
      GTEST_SKIP() << "another lab is up (" << *others.begin() << ", ...): not tearing it down";
    dir_ = testing::disk_temp_dir();
    if (dir_.empty()) GTEST_SKIP() << "no disk-backed directory";
    spec_ = dir_ + "/prima-memtest-lab-" + std::to_string(::getpid()) + ".json";
    std::ofstream(spec_) << R"({"devices": [{"name": ")" << kDevice
                         << R"(", "ip_suffix": 201, "memory": "64MiB", "cpu": 1.0}]})";
    up_ = true;  // from here on, always take it down
    const auto o = sh(kLab + " up " + spec_ + " >&2");
    if (o.rc != 0) GTEST_SKIP() << "homelab did not come up (rc " << o.rc << ")";
  }
  void TearDown() override {
    if (up_) {
      EXPECT_EQ(sh(kLab + " down >&2").rc, 0);
    }
    if (!spec_.empty()) ::unlink(spec_.c_str());
  }
  // `prima ARGS --json` inside the device.
  json prima_in_device(const std::string& args, int* rc) const {
    const auto o = sh(kLab + " run " + kDevice + " -- " + PRIMA_BINARY + " mem --json " + args);
    *rc = o.rc;
    return json::parse(o.out, nullptr, false);
  }
  json stats() const { return json::parse(sh(kLab + " stats " + kDevice).out, nullptr, false); }

  std::string dir_, spec_;
  bool up_ = false;
};

TEST_F(Homelab, DeviceSeesItsLimitAndStreamsTwiceItsMemory) {
  int rc = 0;
  const json budget = prima_in_device("", &rc)["budget"];
  ASSERT_EQ(rc, 0);
  ASSERT_TRUE(budget.is_object());
  EXPECT_EQ(budget["cgroup"]["version"], 1);
  EXPECT_EQ(budget["cgroup"]["path"], "/homelab/" + kDevice);
  EXPECT_EQ(budget["total_bytes"], 64 * MiB);
  EXPECT_EQ(budget["limited_by_cgroup"], true);
  EXPECT_GT(budget["host_total_bytes"].get<uint64_t>(), 64 * MiB);
  EXPECT_LE(budget["available_bytes"].get<uint64_t>(), 64 * MiB);

  // A file twice the limit, cold, read twice in 4 MiB windows: without release, and with the release plan
  // (keep what fits next to a streaming slot, release the other windows after use).
  const testing::TempFile file(128 * MiB, dir_);
  json streamed[2];
  for (int plan = 0; plan < 2; ++plan) {
    file.drop_cache();
    ASSERT_EQ(sh(kLab + " reset-stats " + kDevice + " >&2").rc, 0);
    const std::string release = plan ? "auto" : "off";
    const json j = prima_in_device(
        "--file " + file.path() + " --no-probe --stream --window 4 --passes 2 --release " + release, &rc);
    EXPECT_EQ(rc, 0) << release;
    ASSERT_TRUE(j.is_object() && j.contains("stream")) << release;
    const json st = stats();
    EXPECT_EQ(st["oom_kills"], 0) << release;
    EXPECT_LE(st["max_usage_bytes"].get<uint64_t>(), 64 * MiB);
    const json& s = j["stream"];
    EXPECT_EQ(s["windows"], 32);
    EXPECT_LT(j["process"]["memory_pressure"].get<double>(), 0.06);
    streamed[plan] = s;
    std::printf("release %s: %s\n", release.c_str(), s.dump().c_str());
  }
  // Without release the cyclic scan misses everywhere: the second pass reads the whole file again. The plan
  // keeps about 48 MiB resident and re-reads only the rest (measured 80-88 MiB).
  const uint64_t off_read = streamed[0]["passes"][1]["read_bytes"], plan_read = streamed[1]["passes"][1]["read_bytes"];
  EXPECT_GE(off_read, 112 * MiB);
  EXPECT_GT(streamed[1]["released_windows"].get<int>(), 0);
  EXPECT_LT(plan_read + 24 * MiB, off_read);
}

}  // namespace
}  // namespace prima::memory
