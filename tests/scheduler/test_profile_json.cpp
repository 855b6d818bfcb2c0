// Cluster files: round trip, units, and a clear error naming the field for every kind of bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "clusters.h"
#include "core/error.h"
#include "scheduler/halda.h"
#include "scheduler/profile_json.h"
#include "scheduler/synthetic.h"
#include "scheduler/units.h"

using namespace prima::scheduler;
using namespace prima::scheduler::testing;

namespace {

// The error message of parsing `text`, or "" if it parsed.
std::string error_of(const std::string& text) {
  try {
    parse_cluster_json(text, "cluster.json");
  } catch (const prima::Error& e) {
    return e.what();
  }
  return "";
}

// A valid one-device file with `device_extra` spliced into the device object.
std::string one_device(const std::string& device_extra, const std::string& memory = R"("available": "4 GiB")") {
  return R"({"devices": [{"name": "pc", "cpu": {"decode": {"Q4_K": "50 GFLOP/s"}}, "memory": {)" + memory + "}" +
         device_extra + "}]}";
}

#define EXPECT_ERROR(text, ...)                                                                 \
  do {                                                                                          \
    const std::string msg = error_of(text);                                                     \
    EXPECT_FALSE(msg.empty()) << "parsed: " << (text);                                          \
    for (const char* want : {__VA_ARGS__}) EXPECT_NE(msg.find(want), std::string::npos) << msg; \
  } while (0)

}  // namespace

TEST(ProfileJson, RoundTrip) {
  auto devs = paper_testbed();
  devs[1].gpu.name = "rtx";
  devs[1].gpu.vram_bytes = 11ull << 30;
  devs[1].gpu.decode_flops = {{"Q4_K", 1.5e12}};
  devs[1].gpu.read_bandwidth = 600e9;
  devs[0].cpu_prefill_flops = {{"*", 3e11}};
  devs[2].swap = 1u << 30;
  const auto back = parse_cluster_json(cluster_to_json(devs), "mem");
  ASSERT_EQ(back.size(), devs.size());
  for (size_t i = 0; i < devs.size(); ++i) {
    const DeviceProfile &a = devs[i], &b = back[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.os, b.os);
    EXPECT_EQ(a.cores, b.cores);
    EXPECT_EQ(a.cpu_decode_flops, b.cpu_decode_flops);
    EXPECT_EQ(a.cpu_prefill_flops, b.cpu_prefill_flops);
    EXPECT_EQ(a.memory_available, b.memory_available);
    EXPECT_EQ(a.memory_total, b.memory_total);
    EXPECT_EQ(a.swap, b.swap);
    EXPECT_EQ(a.memory_read_bandwidth, b.memory_read_bandwidth);
    EXPECT_EQ(a.disk_seq_read, b.disk_seq_read);
    EXPECT_EQ(a.disk_rand_read, b.disk_rand_read);
    EXPECT_EQ(a.gpu.name, b.gpu.name);
    EXPECT_EQ(a.gpu.vram_bytes, b.gpu.vram_bytes);
    EXPECT_EQ(a.gpu.decode_flops, b.gpu.decode_flops);
    EXPECT_EQ(a.gpu.read_bandwidth, b.gpu.read_bandwidth);
    EXPECT_EQ(a.link.rtt, b.link.rtt);
    EXPECT_EQ(a.link.bandwidth, b.link.bandwidth);
  }
  const DeviceProfile one = parse_device_json(device_to_json(devs[1]), "mem");
  EXPECT_EQ(one.gpu.vram_bytes, devs[1].gpu.vram_bytes);
}

TEST(ProfileJson, UnitsAndDefaults) {
  const auto devs = parse_cluster_json(R"({
    "format": "prima-cluster", "version": 1, "comment": "what if I add my phone?",
    "devices": [
      {"name": "phone", "os": "android", "cores": 8, "_note": "ignored",
       "cpu": {"decode": {"Q4_K": "20 GFLOP/s", "*": 1.5e10}},
       "memory": {"available": "1.9 GiB", "total": "8 GB", "read_bandwidth": "20 GB/s"},
       "disk": {"seq_read": "1370 MB/s", "rand_read": "400MiB/s"},
       "link": {"rtt": "5 ms", "bandwidth": "300 Mbit/s"}},
      {"name": "pc", "cpu": {"decode": {"Q4_K": 5e10}}, "memory": {"available": 4294967296}}
    ]})",
                                       "cluster.json");
  ASSERT_EQ(devs.size(), 2u);
  const DeviceProfile& p = devs[0];
  EXPECT_EQ(p.os, Os::Android);
  EXPECT_EQ(p.cores, 8);
  EXPECT_DOUBLE_EQ(p.cpu_decode_flops.at("Q4_K"), 20e9);
  EXPECT_EQ(*throughput_for(p.cpu_decode_flops, "Q6_K"), 1.5e10) << "\"*\" covers other types";
  EXPECT_EQ(p.memory_available, static_cast<uint64_t>(1.9 * 1073741824.0 + 0.5));
  EXPECT_EQ(p.memory_total, 8000000000u);
  EXPECT_DOUBLE_EQ(p.disk_seq_read, 1.37e9);
  EXPECT_DOUBLE_EQ(p.disk_rand_read, 400.0 * 1048576);
  EXPECT_DOUBLE_EQ(p.link.rtt, 0.005);
  EXPECT_DOUBLE_EQ(p.link.bandwidth, 300e6 / 8);
  EXPECT_DOUBLE_EQ(p.overflow_read_speed(), 1.37e9);
  // Defaults: linux, one core, cannot stream, free link.
  const DeviceProfile& pc = devs[1];
  EXPECT_EQ(pc.os, Os::Linux);
  EXPECT_EQ(pc.cores, 1);
  EXPECT_EQ(pc.memory_available, 4294967296u);
  EXPECT_EQ(pc.disk_seq_read, 0);
  EXPECT_EQ(pc.link.rtt, 0);
  EXPECT_FALSE(throughput_for(pc.cpu_decode_flops, "Q6_K"));
}

TEST(ProfileJson, Quantities) {
  std::string why;
  EXPECT_DOUBLE_EQ(*parse_quantity("2 GiB", Quantity::size, &why), 2147483648.0);
  EXPECT_DOUBLE_EQ(*parse_quantity("1.5GB/s", Quantity::rate, &why), 1.5e9);
  EXPECT_DOUBLE_EQ(*parse_quantity("1 Gbps", Quantity::rate, &why), 125e6);
  EXPECT_DOUBLE_EQ(*parse_quantity("250 us", Quantity::time, &why), 250e-6);
  EXPECT_DOUBLE_EQ(*parse_quantity("3 TFLOP/s", Quantity::flops, &why), 3e12);
  for (const char* bad :
       {"", "GiB", "-1 GiB", "1e9 B", "inf GiB", "nan B", "1..2 GB", "4 Gb", "4 gib", "4 GiB/s", "0x10 B", "12"}) {
    EXPECT_FALSE(parse_quantity(bad, Quantity::size, &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
  EXPECT_FALSE(parse_quantity(std::string(100, '1') + " B", Quantity::size, &why));
}

TEST(ProfileJson, ErrorsNameTheField) {
  EXPECT_ERROR("", "cluster.json", "not valid JSON");
  EXPECT_ERROR("{\"devices\": [", "not valid JSON");
  EXPECT_ERROR("[]", "top level", "expected an object");
  EXPECT_ERROR("{}", "devices: missing");
  EXPECT_ERROR(R"({"devices": {}})", "devices: expected an array");
  EXPECT_ERROR(R"({"devices": []})", "devices: empty");
  EXPECT_ERROR(R"({"devices": [], "device": 1})", "device", "unknown key");
  EXPECT_ERROR(one_device("", R"("available": "4 GiB", "read_bandwidth": 0.5)"), "read_bandwidth", "implausibly small");
  EXPECT_ERROR(R"({"format": "other", "devices": []})", "format");
  EXPECT_ERROR(R"({"version": 2, "devices": []})", "version");
  EXPECT_ERROR(R"({"devices": [5]})", "devices[0]", "expected an object");
  EXPECT_ERROR(R"({"devices": [{"cpu": {"decode": {"Q4_K": 1e9}}, "memory": {"available": 1}}]})",
               "devices[0].name: missing");
  EXPECT_ERROR(one_device(R"(, "name": "x")"), "name", "twice");
  EXPECT_ERROR(R"({"devices": [{"name": "a b", "cpu": {"decode": {"Q4_K": 1e9}}, "memory": {"available": 1}}]})",
               "devices[0].name", "A-Z");
  EXPECT_ERROR(R"({"devices": [{"name": 7, "cpu": {"decode": {"Q4_K": 1e9}}, "memory": {"available": 1}}]})",
               "devices[0].name", "expected a string");
  EXPECT_ERROR(one_device(R"(, "os": "beos")"), "devices[0].os", "beos");
  EXPECT_ERROR(one_device(R"(, "cores": 0)"), "devices[0].cores", "1..4096");
  EXPECT_ERROR(one_device(R"(, "cores": 2.5)"), "devices[0].cores", "integer");
  EXPECT_ERROR(one_device("", R"("available": -5)"), "devices[0].memory.available", ">= 0");
  EXPECT_ERROR(one_device("", R"("available": "4 Gb")"), "devices[0].memory.available", "unknown unit 'Gb'");
  EXPECT_ERROR(one_device("", R"("available": true)"), "devices[0].memory.available", "expected a number or a string");
  EXPECT_ERROR(one_device("", R"("available": 1e30)"), "devices[0].memory.available", "implausibly large");
  EXPECT_ERROR(one_device("", R"("avaliable": "4 GiB")"), "devices[0].memory.available: missing");
  EXPECT_ERROR(one_device("", R"("available": "4 GiB", "avaliable": 1)"), "devices[0].memory.avaliable", "unknown key");
  EXPECT_ERROR(one_device("", R"("available": "4 GiB", "total": "2 GiB")"), "devices[0].memory", "exceeds total");
  EXPECT_ERROR(one_device(R"(, "disk": {"seq_read": "3 GB"})"), "devices[0].disk.seq_read", "unknown unit 'GB'");
  EXPECT_ERROR(one_device(R"(, "link": {"rtt": "5 minutes"})"), "devices[0].link.rtt");
  EXPECT_ERROR(one_device(R"(, "link": {"rtt": 3600})"), "devices[0].link.rtt", "implausibly large");
  EXPECT_ERROR(one_device(R"(, "gpu": {"vram": "8 GiB", "cuda": true})"), "devices[0].gpu.cuda", "unknown key");
  EXPECT_ERROR(R"({"devices": [{"name": "a", "memory": {"available": 1}}]})", "devices[0].cpu: missing");
  EXPECT_ERROR(R"({"devices": [{"name": "a", "cpu": {"decode": {}}, "memory": {"available": 1}}]})",
               "devices[0].cpu.decode", "at least one");
  EXPECT_ERROR(R"({"devices": [{"name": "a", "cpu": {"decode": {"Q4_K": 0}}, "memory": {"available": 1}}]})",
               "devices[0].cpu.decode.Q4_K", "> 0");
  EXPECT_ERROR(R"({"devices": [{"name": "a", "cpu": {"decode": {"Q4 K": 1}}, "memory": {"available": 1}}]})",
               "devices[0].cpu.decode", "not a weight type");
  EXPECT_ERROR(R"({"devices": [{"name": "a", "cpu": {"decode": {"Q4_K": "5 GB/s"}}, "memory": {"available": 1}}]})",
               "devices[0].cpu.decode.Q4_K", "unknown unit");
  // Two devices with one name.
  const std::string dev = R"({"name": "a", "cpu": {"decode": {"Q4_K": 1e9}}, "memory": {"available": 1}})";
  EXPECT_ERROR(R"({"devices": [)" + dev + "," + dev + "]}", "devices[1].name", "earlier device");
  // Too many devices, deep nesting, huge input.
  std::string many = R"({"devices": [)";
  for (int i = 0; i < 65; ++i) many += i ? ",{}" : "{}";
  EXPECT_ERROR(many + "]}", "at most 64");
  EXPECT_ERROR(std::string(100000, '[') + std::string(100000, ']'), "nested");
  EXPECT_ERROR(std::string(17u << 20, ' '), "bytes");
}

TEST(ProfileJson, ExampleClusterFilesParseAndPlan) {
  const std::filesystem::path dir = std::filesystem::path(PRIMA_SOURCE_DIR) / "docs" / "examples";
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const auto devs = parse_cluster_json(ss.str(), e.path().string());
    EXPECT_GE(devs.size(), 2u) << e.path();
    PlanOptions o;
    o.n_ctx = 2048;
    auto p = halda(devs, m, o);
    EXPECT_TRUE(p) << e.path() << ": " << p.status().message();
    ++n;
  }
  EXPECT_GE(n, 2);
}
