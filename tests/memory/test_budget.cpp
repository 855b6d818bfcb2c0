// probe_budget on fake /proc and /sys trees: cgroup v1 and v2, no limit, a limit above physical RAM, a
// container's view, garbage; and once on the real system.
#include <gtest/gtest.h>

#include <random>

#include "memory/budget.h"
#include "memory/proc_files.h"
#include "temp_file.h"

namespace prima::memory {
namespace {

using testing::FakeTree;
constexpr uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
const std::string kV1Unlimited = "9223372036854771712\n";

std::string meminfo(uint64_t total, uint64_t avail, uint64_t swap_total = 0, uint64_t swap_free = 0) {
  return fmt::format(
      "MemTotal:       {} kB\nMemFree:        {} kB\nMemAvailable:   {} kB\nCached:          1000 kB\n"
      "SwapTotal:      {} kB\nSwapFree:       {} kB\n",
      total / KiB, avail / 2 / KiB, avail / KiB, swap_total / KiB, swap_free / KiB);
}

const char* kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// A homelab-like v1 device: limit 64 MiB, memsw = limit + 1 MiB, inside an unlimited "homelab" parent.
void write_v1_device(const FakeTree& t) {
  t.write("/proc/meminfo", meminfo(24 * GiB, 20 * GiB));
  t.write("/proc/self/cgroup", "9:name=systemd:/\n4:memory:/homelab/d1\n1:cpu:/homelab/d1\n0::/\n");
  t.write("/proc/self/mountinfo", kHybridMountinfo);
  t.write("/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
  const std::string m = "/sys/fs/cgroup/memory";
  for (const std::string& d : {m, m + "/homelab"}) {
    t.write(d + "/memory.limit_in_bytes", kV1Unlimited);
    t.write(d + "/memory.usage_in_bytes", std::to_string(3 * GiB) + "\n");
    t.write(d + "/memory.stat", "total_active_file 0\ntotal_inactive_file 0\n");
  }
  const std::string d = m + "/homelab/d1";
  t.write(d + "/memory.limit_in_bytes", std::to_string(64 * MiB) + "\n");
  t.write(d + "/memory.usage_in_bytes", std::to_string(40 * MiB) + "\n");
  t.write(d + "/memory.memsw.limit_in_bytes", std::to_string(65 * MiB) + "\n");
  t.write(d + "/memory.memsw.usage_in_bytes", std::to_string(40 * MiB) + "\n");
  t.write(d + "/memory.stat", fmt::format("cache {}\nrss {}\nactive_file 1\ninactive_file 2\n"
                                          "hierarchical_memory_limit {}\ntotal_rss {}\ntotal_active_file {}\n"
                                          "total_inactive_file {}\n",
                                          30 * MiB, 8 * MiB, 64 * MiB, 8 * MiB, 10 * MiB, 20 * MiB));
}

TEST(Budget, CgroupV1DeviceSeesItsLimit) {
  FakeTree t;
  write_v1_device(t);
  auto b = probe_budget({.root = t.root()});
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(b->cgroup.version, 1);
  EXPECT_EQ(b->cgroup.path, "/homelab/d1");
  EXPECT_EQ(b->cgroup.dir, t.root() + "/sys/fs/cgroup/memory/homelab/d1");
  EXPECT_EQ(b->total_bytes, 64 * MiB);
  EXPECT_TRUE(b->limited_by_cgroup);
  EXPECT_EQ(b->host_total_bytes, 24 * GiB);
  // 40 MiB used of which 30 MiB clean page cache: 64 - 10 can still be filled.
  EXPECT_EQ(b->available_bytes, 54 * MiB);
  EXPECT_EQ(b->cgroup.anon, 8 * MiB);
  EXPECT_EQ(b->cgroup.file, 30 * MiB);
  EXPECT_EQ(b->cgroup.swap_limit, 1 * MiB);
  EXPECT_EQ(b->swap_total_bytes, 0u);  // the host has no swap
  EXPECT_FALSE(b->overridden);
  EXPECT_TRUE(b->notes.empty()) << b->notes.front();
  EXPECT_NE(describe(*b).find("cgroup v1 /homelab/d1 limit 64.00 MiB"), std::string::npos) << describe(*b);
}

TEST(Budget, OverrideReplacesAvailable) {
  FakeTree t;
  write_v1_device(t);
  auto b = probe_budget({.root = t.root(), .override_bytes = 3 * GiB});
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->overridden);
  EXPECT_EQ(b->available_bytes, 3 * GiB);
  EXPECT_EQ(b->total_bytes, 64 * MiB);
}

TEST(Budget, CgroupV2TightestAncestorWins) {
  FakeTree t;
  t.write("/proc/meminfo", meminfo(16 * GiB, 12 * GiB, 4 * GiB, 4 * GiB));
  t.write("/proc/self/cgroup", "0::/user.slice/app.scope\n");
  t.write("/proc/self/mountinfo", "29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  const std::string m = "/sys/fs/cgroup";
  t.write(m + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
  t.write(m + "/user.slice/memory.max", std::to_string(GiB + GiB / 2) + "\n");
  t.write(m + "/user.slice/memory.high", "max\n");
  t.write(m + "/user.slice/memory.current", std::to_string(GiB + GiB / 5) + "\n");
  t.write(m + "/user.slice/memory.stat", "anon 1\nfile 0\nactive_file 0\ninactive_file 0\n");
  const std::string d = m + "/user.slice/app.scope";
  t.write(d + "/memory.max", std::to_string(2 * GiB) + "\n");
  t.write(d + "/memory.high", "max\n");
  t.write(d + "/memory.current", std::to_string(GiB) + "\n");
  t.write(d + "/memory.stat", fmt::format("anon {}\nfile {}\nactive_file {}\ninactive_file {}\n", 400 * MiB,
                                          500 * MiB, 300 * MiB, 200 * MiB));
  t.write(d + "/memory.swap.max", "0\n");
  t.write(d + "/memory.swap.current", "0\n");
  auto b = probe_budget({.root = t.root()});
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(b->cgroup.version, 2);
  EXPECT_EQ(b->cgroup.path, "/user.slice/app.scope");
  EXPECT_EQ(b->cgroup.limit, GiB + GiB / 2);        // the parent's is tighter
  EXPECT_EQ(b->total_bytes, GiB + GiB / 2);
  EXPECT_EQ(b->cgroup.anon, 400 * MiB);
  EXPECT_EQ(b->cgroup.file, 500 * MiB);
  // Own level: 2 GiB - (1 GiB - 500 MiB); parent: 1.5 GiB - 1.2 GiB (no reclaimable cache): the parent's.
  EXPECT_EQ(b->available_bytes, GiB + GiB / 2 - (GiB + GiB / 5));
  EXPECT_EQ(b->swap_total_bytes, 0u);  // memory.swap.max 0 hides the host's 4 GiB
  EXPECT_EQ(b->swap_free_bytes, 0u);
}

TEST(Budget, CgroupV2MemoryHighCounts) {
  FakeTree t;
  t.write("/proc/meminfo", meminfo(16 * GiB, 12 * GiB));
  t.write("/proc/self/cgroup", "0::/svc\n");
  t.write("/proc/self/mountinfo", "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  t.write("/sys/fs/cgroup/cgroup.controllers", "memory\n");
  t.write("/sys/fs/cgroup/svc/memory.max", "max\n");
  t.write("/sys/fs/cgroup/svc/memory.high", std::to_string(3 * GiB) + "\n");
  t.write("/sys/fs/cgroup/svc/memory.current", "0\n");
  t.write("/sys/fs/cgroup/svc/memory.stat", "anon 0\n");
  auto b = probe_budget({.root = t.root()});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->total_bytes, 3 * GiB);
  EXPECT_EQ(b->available_bytes, 3 * GiB);
}

TEST(Budget, NoLimitIsTheHost) {
  FakeTree t;
  t.write("/proc/meminfo", meminfo(8 * GiB, 6 * GiB, 2 * GiB, GiB));
  t.write("/proc/self/cgroup", "0::/\n");
  t.write("/proc/self/mountinfo", "29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  t.write("/sys/fs/cgroup/cgroup.controllers", "cpu memory\n");  // the root group: no memory.max
  auto b = probe_budget({.root = t.root()});
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(b->cgroup.version, 2);
  EXPECT_FALSE(b->cgroup.limit.has_value());
  EXPECT_EQ(b->total_bytes, 8 * GiB);
  EXPECT_EQ(b->available_bytes, 6 * GiB);
  EXPECT_EQ(b->swap_total_bytes, 2 * GiB);
  EXPECT_EQ(b->swap_free_bytes, GiB);
  EXPECT_FALSE(b->limited_by_cgroup);
}

TEST(Budget, LimitAbovePhysicalRamIsPhysicalRam) {
  FakeTree t;
  write_v1_device(t);
  t.write("/proc/meminfo", meminfo(8 * GiB, 7 * GiB));
  const std::string d = "/sys/fs/cgroup/memory/homelab/d1";
  t.write(d + "/memory.limit_in_bytes", std::to_string(64 * GiB) + "\n");
  t.write(d + "/memory.stat", "total_rss 0\nhierarchical_memory_limit 68719476736\n");
  auto b = probe_budget({.root = t.root()});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->cgroup.limit, 64 * GiB);
  EXPECT_EQ(b->total_bytes, 8 * GiB);
  EXPECT_FALSE(b->limited_by_cgroup);
  EXPECT_EQ(b->available_bytes, 7 * GiB);
}

TEST(Budget, ContainerSeesLimitOnlyThroughHierarchicalLimit) {
  // Docker without a cgroup namespace: the mount's root is the container's group, and the limit is set on a
  // parent we cannot see; v1 still reports it as hierarchical_memory_limit.
  FakeTree t;
  t.write("/proc/meminfo", meminfo(32 * GiB, 30 * GiB));
  t.write("/proc/self/cgroup", "5:memory:/docker/abc\n");
  t.write("/proc/self/mountinfo", "40 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n");
  const std::string d = "/sys/fs/cgroup/memory";
  t.write(d + "/memory.limit_in_bytes", kV1Unlimited);
  t.write(d + "/memory.usage_in_bytes", std::to_string(100 * MiB));
  t.write(d + "/memory.stat", fmt::format("total_rss {}\nhierarchical_memory_limit {}\n", 100 * MiB, 512 * MiB));
  auto b = probe_budget({.root = t.root()});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->cgroup.dir, t.root() + d);
  EXPECT_EQ(b->total_bytes, 512 * MiB);
  EXPECT_EQ(b->available_bytes, 412 * MiB);
}

TEST(Budget, NoMountinfoFallsBackToTheUsualMountPoints) {
  FakeTree t;
  write_v1_device(t);
  t.write("/proc/self/mountinfo", "");
  auto b = probe_budget({.root = t.root()});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->total_bytes, 64 * MiB);
}

TEST(Budget, GarbageCgroupFilesAreIgnoredAndNamed) {
  FakeTree t;
  write_v1_device(t);
  const std::string d = "/sys/fs/cgroup/memory/homelab/d1";
  t.write(d + "/memory.limit_in_bytes", "banana\n");
  t.write(d + "/memory.usage_in_bytes", "-5\n");
  t.write(d + "/memory.stat", "hierarchical_memory_limit 12x\ntotal_rss\n\n\n:::\n");
  t.write(d + "/memory.memsw.limit_in_bytes", "99999999999999999999999999\n");
  auto b = probe_budget({.root = t.root()});
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_EQ(b->total_bytes, 24 * GiB);  // no usable limit: the host
  EXPECT_EQ(b->available_bytes, 20 * GiB);
  EXPECT_FALSE(b->notes.empty());
  bool named = false;
  for (const auto& n : b->notes) named = named || n.find("memory.limit_in_bytes") != std::string::npos;
  EXPECT_TRUE(named);
}

TEST(Budget, GarbageProcSelfCgroup) {
  FakeTree t;
  t.write("/proc/meminfo", meminfo(4 * GiB, 3 * GiB));
  for (const char* g : {"", "\n\n", "garbage", "::::\n", "4:memory:relative/path\n", "4:memory:/../../etc\n",
                        "4:memory:/a/../../b\n", "0::\n"}) {
    t.write("/proc/self/cgroup", g);
    auto b = probe_budget({.root = t.root()});
    ASSERT_TRUE(b) << g;
    EXPECT_EQ(b->total_bytes, 4 * GiB) << g;
  }
}

TEST(Budget, MeminfoMustHaveMemTotal) {
  FakeTree t;
  EXPECT_FALSE(probe_budget({.root = t.root()}));  // missing
  t.write("/proc/meminfo", "MemTotal: lots\n");
  auto b = probe_budget({.root = t.root()});
  ASSERT_FALSE(b);
  EXPECT_NE(b.status().message().find("MemTotal"), std::string::npos);
  t.write("/proc/meminfo", "MemTotal: 0 kB\n");
  EXPECT_FALSE(probe_budget({.root = t.root()}));
  t.write("/proc/meminfo", "MemTotal:  1000 kB\nMemFree: 100 kB\nCached: 50 kB\n");  // an old kernel
  auto old = probe_budget({.root = t.root()});
  ASSERT_TRUE(old);
  EXPECT_EQ(old->host_available_bytes, 150 * KiB);
}

TEST(Budget, RandomGarbageNeverCrashes) {
  FakeTree t;
  write_v1_device(t);
  std::mt19937 rng(3);
  const char* files[] = {"/proc/self/cgroup", "/proc/self/mountinfo", "/sys/fs/cgroup/memory/homelab/d1/memory.stat",
                         "/sys/fs/cgroup/memory/homelab/d1/memory.limit_in_bytes", "/proc/meminfo"};
  for (int i = 0; i < 200; ++i) {
    std::string junk(rng() % 200, '\0');
    for (auto& c : junk) c = "0123456789 :-\n/abcmemoryk\\"[rng() % 27];
    t.write(files[rng() % 5], junk);
    auto b = probe_budget({.root = t.root()});
    if (b) {
      EXPECT_LE(b->available_bytes, b->total_bytes);
    }
  }
}

TEST(ProcFiles, FindField) {
  const std::string text = "MemTotal:  100 kB\nMemTotalX: 5\nrss 42\nread_bytes: 7\nbad: 1 2\n";
  EXPECT_EQ(find_field(text, "MemTotal"), 100 * KiB);
  EXPECT_EQ(find_field(text, "rss"), 42u);
  EXPECT_EQ(find_field(text, "read_bytes"), 7u);
  EXPECT_FALSE(find_field(text, "bad"));
  EXPECT_FALSE(find_field(text, "Mem"));
  EXPECT_EQ(parse_u64(" 18446744073709551615\n"), UINT64_MAX);
  EXPECT_FALSE(parse_u64("18446744073709551616"));
  EXPECT_FALSE(parse_u64("-1"));
  EXPECT_FALSE(parse_u64(""));
}

TEST(Budget, RealSystemIsConsistent) {
  auto b = probe_budget();
  ASSERT_TRUE(b) << b.status().message();
  EXPECT_GT(b->total_bytes, 0u);
  EXPECT_LE(b->total_bytes, b->host_total_bytes);
  EXPECT_LE(b->available_bytes, b->total_bytes);
  RecordProperty("budget", describe(*b));
  std::printf("%s\n", describe(*b).c_str());
}

}  // namespace
}  // namespace prima::memory
