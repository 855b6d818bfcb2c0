// Effective cores from fake /proc and /sys trees: cgroup v1 and v2 CPU quotas (and a parent's tighter one), cpusets,
// affinity, containers, hybrid hosts, garbage.
#include <gtest/gtest.h>

#include "profiler/cpu_limits.h"
#include "test_util.h"

namespace prima::profiler {
namespace {

using testing::TempDir;

constexpr const char* kV1Mounts =
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr const char* kV2Mounts = "30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

// A homelab-like v1 device: quota 4500 / 10000 us, cpuset 0-1, on a 2-CPU host.
void homelab_v1(const TempDir& t, const std::string& quota = "4500\n") {
  t.write("/sys/devices/system/cpu/online", "0-1\n");
  t.write("/proc/self/status", "Name:\tprima\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n");
  t.write("/proc/self/cgroup", "4:memory:/homelab/d1\n3:cpuset:/homelab/d1\n1:cpu,cpuacct:/homelab/d1\n0::/\n");
  t.write("/proc/self/mountinfo", kV1Mounts);
  const std::string cpu = "/sys/fs/cgroup/cpu,cpuacct";
  t.write(cpu + "/cpu.cfs_quota_us", "-1\n");
  t.write(cpu + "/cpu.cfs_period_us", "100000\n");
  t.write(cpu + "/homelab/cpu.cfs_quota_us", "-1\n");
  t.write(cpu + "/homelab/cpu.cfs_period_us", "100000\n");
  t.write(cpu + "/homelab/d1/cpu.cfs_quota_us", quota);
  t.write(cpu + "/homelab/d1/cpu.cfs_period_us", "10000\n");
  t.write("/sys/fs/cgroup/cpuset/homelab/d1/cpuset.cpus", "0-1\n");
  t.write("/sys/fs/cgroup/cpuset/homelab/d1/cpuset.effective_cpus", "0-1\n");
}

// A systemd-style v2 host with 8 CPUs: /user.slice/app.scope, cpu.max 1.5 cores, cpuset 0-3.
void systemd_v2(const TempDir& t) {
  t.write("/sys/devices/system/cpu/online", "0-7\n");
  t.write("/proc/self/status", "Cpus_allowed_list:\t0-7\n");
  t.write("/proc/self/cgroup", "0::/user.slice/app.scope\n");
  t.write("/proc/self/mountinfo", kV2Mounts);
  t.write("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  t.write("/sys/fs/cgroup/user.slice/cpu.max", "max 100000\n");
  t.write("/sys/fs/cgroup/user.slice/app.scope/cpu.max", "150000 100000\n");
  t.write("/sys/fs/cgroup/user.slice/app.scope/cpuset.cpus.effective", "0-3\n");
}

TEST(CpuList, Parses) {
  EXPECT_EQ(parse_cpu_list("0-3,8,10-11").value(), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(parse_cpu_list(" 0-1\n").value().size(), 2u);
  EXPECT_EQ(parse_cpu_list("5").value(), std::vector<int>{5});
  EXPECT_EQ(parse_cpu_list("1,1,0-1").value().size(), 2u);
  EXPECT_TRUE(parse_cpu_list("").value().empty());
  for (const char* bad : {"3-1", "a", "0-", "-1", "0,,1", "0-70000", "1 2", "0-1-2", "99999999999999999999"})
    EXPECT_FALSE(parse_cpu_list(bad).has_value()) << bad;
}

TEST(CpuLimits, HomelabDeviceV1) {
  TempDir t;
  homelab_v1(t);
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_EQ(c.online, 2);
  EXPECT_EQ(c.affinity, 2);
  ASSERT_TRUE(c.cpuset.has_value());
  EXPECT_EQ(*c.cpuset, 2);
  EXPECT_EQ(c.cpuset_list, "0-1");
  ASSERT_TRUE(c.quota.has_value());
  EXPECT_DOUBLE_EQ(*c.quota, 0.45);
  EXPECT_DOUBLE_EQ(c.period_seconds, 0.01);
  EXPECT_EQ(c.quota_version, 1);
  EXPECT_EQ(c.quota_path, "/homelab/d1");
  EXPECT_EQ(c.cpus, 2);
  EXPECT_DOUBLE_EQ(c.effective_cores, 0.45);
  EXPECT_EQ(c.threads(), 1);
  EXPECT_TRUE(c.notes.empty()) << c.notes.front();
}

TEST(CpuLimits, V1ParentQuotaIsTighter) {
  TempDir t;
  homelab_v1(t, "-1\n");  // the device itself unlimited...
  t.write("/sys/fs/cgroup/cpu,cpuacct/homelab/cpu.cfs_quota_us", "20000\n");  // ... its parent 0.2 core
  const CpuLimits c = read_cpu_limits(t.path());
  ASSERT_TRUE(c.quota.has_value());
  EXPECT_DOUBLE_EQ(*c.quota, 0.2);
  EXPECT_DOUBLE_EQ(c.period_seconds, 0.1);
  EXPECT_DOUBLE_EQ(c.effective_cores, 0.2);
}

TEST(CpuLimits, V1QuotaAboveTheCpusets) {
  TempDir t;
  homelab_v1(t, "30000\n");  // 3 cores of quota, but the cpuset has 1 CPU
  t.write("/sys/fs/cgroup/cpuset/homelab/d1/cpuset.effective_cpus", "1\n");
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_EQ(c.cpus, 1);
  EXPECT_DOUBLE_EQ(c.effective_cores, 1.0);
  EXPECT_EQ(c.threads(), 1);
}

TEST(CpuLimits, V1CpusetWithoutEffectiveFile) {
  TempDir t;
  homelab_v1(t, "-1\n");
  t.write("/sys/devices/system/cpu/online", "0-7\n");
  t.write("/proc/self/status", "Cpus_allowed_list:\t0-7\n");
  std::remove((t.path() + "/sys/fs/cgroup/cpuset/homelab/d1/cpuset.effective_cpus").c_str());
  t.write("/sys/fs/cgroup/cpuset/homelab/d1/cpuset.cpus", "0-3,6\n");
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_FALSE(c.quota.has_value());
  EXPECT_EQ(c.cpuset.value_or(0), 5);
  EXPECT_EQ(c.cpus, 5);
  EXPECT_DOUBLE_EQ(c.effective_cores, 5.0);
  EXPECT_EQ(c.threads(), 5);
}

TEST(CpuLimits, SystemdV2) {
  TempDir t;
  systemd_v2(t);
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_EQ(c.online, 8);
  EXPECT_EQ(c.quota_version, 2);
  EXPECT_EQ(c.quota_path, "/user.slice/app.scope");
  ASSERT_TRUE(c.quota.has_value());
  EXPECT_DOUBLE_EQ(*c.quota, 1.5);
  EXPECT_EQ(c.cpuset.value_or(0), 4);
  EXPECT_EQ(c.cpus, 4);
  EXPECT_DOUBLE_EQ(c.effective_cores, 1.5);
  EXPECT_EQ(c.threads(), 2);
}

TEST(CpuLimits, V2ParentQuotaAndInheritedCpuset) {
  TempDir t;
  systemd_v2(t);
  t.write("/sys/fs/cgroup/user.slice/cpu.max", "50000 100000\n");
  std::remove((t.path() + "/sys/fs/cgroup/user.slice/app.scope/cpuset.cpus.effective").c_str());
  t.write("/sys/fs/cgroup/user.slice/cpuset.cpus.effective", "2-3\n");
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_DOUBLE_EQ(c.quota.value_or(0), 0.5);
  EXPECT_EQ(c.cpuset.value_or(0), 2);
  EXPECT_DOUBLE_EQ(c.effective_cores, 0.5);
  EXPECT_EQ(c.threads(), 1);
}

TEST(CpuLimits, V2WithoutTheCpuControllerHasNoQuota) {
  TempDir t;
  systemd_v2(t);
  t.write("/sys/fs/cgroup/cgroup.controllers", "io memory pids\n");
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_FALSE(c.quota.has_value());
  EXPECT_FALSE(c.cpuset.has_value());
  EXPECT_EQ(c.quota_version, 0);
  EXPECT_DOUBLE_EQ(c.effective_cores, 8.0);
}

TEST(CpuLimits, HybridHostUsesTheV1CpuHierarchy) {
  // This VM's layout: v1 controllers and an empty cgroup2 at /sys/fs/cgroup/unified.
  TempDir t;
  homelab_v1(t);
  t.write("/sys/fs/cgroup/unified/cgroup.controllers", "\n");
  t.write("/sys/fs/cgroup/unified/homelab/d1/cpu.max", "10000 100000\n");  // would be 0.1 if it were used
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_EQ(c.quota_version, 1);
  EXPECT_DOUBLE_EQ(c.quota.value_or(0), 0.45);
}

TEST(CpuLimits, ContainerSeesItsGroupAsTheMountRoot) {
  TempDir t;
  t.write("/sys/devices/system/cpu/online", "0-15\n");
  t.write("/proc/self/status", "Cpus_allowed_list:\t0-15\n");
  t.write("/proc/self/cgroup", "5:cpuset:/docker/abc\n2:cpu,cpuacct:/docker/abc\n");
  t.write("/proc/self/mountinfo",
          "600 590 0:40 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n"
          "601 590 0:41 /docker/abc /sys/fs/cgroup/cpuset ro - cgroup cgroup rw,cpuset\n");
  t.write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "250000\n");
  t.write("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  t.write("/sys/fs/cgroup/cpuset/cpuset.cpus", "0-7\n");
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_DOUBLE_EQ(c.quota.value_or(0), 2.5);
  EXPECT_EQ(c.cpuset.value_or(0), 8);
  EXPECT_DOUBLE_EQ(c.effective_cores, 2.5);
  EXPECT_EQ(c.threads(), 3);
}

TEST(CpuLimits, AffinityBoundsTheCpus) {
  TempDir t;
  systemd_v2(t);
  t.write("/proc/self/status", "Cpus_allowed_list:\t5\n");
  t.write("/sys/fs/cgroup/user.slice/app.scope/cpu.max", "max 100000\n");
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_EQ(c.affinity, 1);
  EXPECT_EQ(c.cpus, 1);
  EXPECT_DOUBLE_EQ(c.effective_cores, 1.0);
}

TEST(CpuLimits, GarbageIsSkippedAndNamed) {
  TempDir t;
  homelab_v1(t, "lots\n");
  t.write("/sys/fs/cgroup/cpuset/homelab/d1/cpuset.effective_cpus", "zero-one\n");
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_FALSE(c.quota.has_value());
  EXPECT_FALSE(c.cpuset.has_value());
  EXPECT_EQ(c.cpus, 2);
  EXPECT_DOUBLE_EQ(c.effective_cores, 2.0);
  ASSERT_GE(c.notes.size(), 2u);

  TempDir v2;
  systemd_v2(v2);
  v2.write("/sys/fs/cgroup/user.slice/app.scope/cpu.max", "a b c\n");
  const CpuLimits d = read_cpu_limits(v2.path());
  EXPECT_FALSE(d.quota.has_value());
  EXPECT_FALSE(d.notes.empty());
}

TEST(CpuLimits, NothingReadableMeansOneCore) {
  TempDir t;
  const CpuLimits c = read_cpu_limits(t.path());
  EXPECT_EQ(c.cpus, 1);
  EXPECT_DOUBLE_EQ(c.effective_cores, 1.0);
  EXPECT_EQ(c.threads(), 1);
  EXPECT_FALSE(c.notes.empty());
}

TEST(CpuLimits, ThreadsFollowTheQuota) {
  CpuLimits c;
  c.cpus = 2;
  for (auto [eff, want] : {std::pair{0.3, 1}, {0.45, 1}, {1.0, 1}, {1.04, 1}, {1.5, 2}, {1.8, 2}, {2.0, 2}, {3.5, 2}}) {
    c.effective_cores = eff;
    EXPECT_EQ(c.threads(), want) << eff;
  }
}

TEST(CpuLimits, ThisProcess) {
  const CpuLimits c = read_cpu_limits();
  EXPECT_GE(c.online, 1);
  EXPECT_GE(c.cpus, 1);
  EXPECT_GT(c.effective_cores, 0);
  EXPECT_LE(c.effective_cores, c.cpus);
}

}  // namespace
}  // namespace prima::profiler
