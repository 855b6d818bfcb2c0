// The profile cache: a miss measures and writes, a hit reuses (fast, same figures), --reprofile and a changed key
// measure again, a corrupt or tampered file is ignored with a warning and replaced.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/clock.h"
#include "profiler/cache.h"
#include "profiler/profiler.h"
#include "scheduler/profile_json.h"
#include "test_util.h"

namespace prima::profiler {
namespace {

using nlohmann::json;
using testing::TempDir;
namespace fs = std::filesystem;

const std::string kModel = std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-Q8_0.gguf";

ProfileOptions fast(const std::string& cache_dir) {
  ProfileOptions o;
  o.model_path = kModel;
  o.seconds = 0.2;
  o.working_set_bytes = 4u << 20;
  o.cache_dir = cache_dir;
  o.name = "cache-test";
  return o;
}

std::vector<fs::path> files_in(const std::string& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path());
  return out;
}

TEST(Cache, MissThenHitThenReprofile) {
  TempDir dir;
  auto first = run_profile(fast(dir.path()));
  ASSERT_TRUE(first) << first.status().message();
  EXPECT_FALSE(first->from_cache);
  ASSERT_FALSE(first->cache_file.empty());
  EXPECT_TRUE(fs::exists(first->cache_file));
  EXPECT_EQ(files_in(dir.path()).size(), 1u);

  Stopwatch sw;
  auto second = run_profile(fast(dir.path()));
  ASSERT_TRUE(second) << second.status().message();
  EXPECT_TRUE(second->from_cache);
  EXPECT_LT(sw.elapsed_s(), 0.25);  // no measurement
  EXPECT_EQ(second->cache_file, first->cache_file);
  EXPECT_EQ(second->profile.cpu_decode_flops, first->profile.cpu_decode_flops);
  EXPECT_EQ(second->profile.cpu_prefill_flops, first->profile.cpu_prefill_flops);
  EXPECT_DOUBLE_EQ(second->profile.memory_read_bandwidth, first->profile.memory_read_bandwidth);
  EXPECT_DOUBLE_EQ(second->profile.disk_seq_read, first->profile.disk_seq_read);
  EXPECT_EQ(second->measured_at, first->measured_at);
  ASSERT_EQ(second->types.size(), first->types.size());
  EXPECT_DOUBLE_EQ(second->types[0].stream.median, first->types[0].stream.median);

  ProfileOptions again = fast(dir.path());
  again.reprofile = true;
  auto third = run_profile(again);
  ASSERT_TRUE(third);
  EXPECT_FALSE(third->from_cache);
  EXPECT_EQ(third->cache_file, first->cache_file);  // same key: the file is replaced
  EXPECT_EQ(files_in(dir.path()).size(), 1u);
}

TEST(Cache, ChangedKeyMeasuresAgain) {
  TempDir dir;
  auto first = run_profile(fast(dir.path()));
  ASSERT_TRUE(first);
  ProfileOptions two = fast(dir.path());
  two.threads = first->threads == 1 ? 2 : 1;  // another thread count: other CPU figures
  auto r = run_profile(two);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->from_cache);
  ProfileOptions other = fast(dir.path());
  other.model_path = std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F16.gguf";  // another model
  auto m = run_profile(other);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->from_cache);
  EXPECT_EQ(files_in(dir.path()).size(), 3u);
  // Each is a hit afterwards.
  EXPECT_TRUE(run_profile(two)->from_cache);
  EXPECT_TRUE(run_profile(other)->from_cache);
}

TEST(Cache, NameAndMemoryAreNotCachedButRefreshed) {
  TempDir dir;
  ASSERT_TRUE(run_profile(fast(dir.path())));
  ProfileOptions o = fast(dir.path());
  o.name = "renamed";
  o.memory_override = 123ull << 20;
  auto r = run_profile(o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->from_cache);
  EXPECT_EQ(r->profile.name, "renamed");
  EXPECT_EQ(r->profile.memory_available, 123ull << 20);
}

TEST(Cache, NoCacheNeitherReadsNorWrites) {
  TempDir dir;
  ProfileOptions o = fast(dir.path());
  o.use_cache = false;
  auto r = run_profile(o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->cache_file.empty());
  EXPECT_TRUE(files_in(dir.path()).empty());
}

// Replaces the cache file's content, then checks that the next run ignores it, measures, and rewrites it.
void expect_ignored(const std::string& content, const std::string& what) {
  TempDir dir;
  auto first = run_profile(fast(dir.path()));
  ASSERT_TRUE(first);
  const std::string file = first->cache_file;
  dir.write(file.substr(dir.path().size()), content);
  auto r = run_profile(fast(dir.path()));
  ASSERT_TRUE(r) << what << ": " << r.status().message();
  EXPECT_FALSE(r->from_cache) << what;
  ASSERT_FALSE(r->notes.empty()) << what;
  bool noted = false;
  for (const auto& n : r->notes) noted |= n.find("cached profile ignored") != std::string::npos;
  EXPECT_TRUE(noted) << what;
  // Rewritten: the next run is a hit again.
  EXPECT_TRUE(run_profile(fast(dir.path()))->from_cache) << what;
}

TEST(Cache, CorruptFilesAreIgnoredAndReplaced) {
  expect_ignored("", "empty");
  expect_ignored("{\"format\": \"prima-profile-cache\", \"vers", "truncated");
  expect_ignored(std::string(1000, '\0'), "binary");
  expect_ignored("[1, 2, 3]", "an array");
  expect_ignored(std::string(100, '[') + std::string(100, ']'), "deeply nested");
  expect_ignored("{\"format\": \"something-else\", \"version\": 1}", "another format");
  expect_ignored(std::string(kMaxCacheFile + 10, ' '), "too big");
}

TEST(Cache, TamperedProfilesAreIgnored) {
  TempDir dir;
  auto first = run_profile(fast(dir.path()));
  ASSERT_TRUE(first);
  const std::string rel = first->cache_file.substr(dir.path().size());
  const json good = json::parse(dir.read(rel));
  auto tamper = [&](const std::function<void(json&)>& edit, const std::string& what) {
    json j = good;
    edit(j);
    dir.write(rel, j.dump());
    auto r = run_profile(fast(dir.path()));
    ASSERT_TRUE(r) << what;
    EXPECT_FALSE(r->from_cache) << what;
    dir.write(rel, good.dump());
    EXPECT_TRUE(run_profile(fast(dir.path()))->from_cache) << what;
  };
  tamper([](json& j) { j["profile"]["cpu"]["decode"] = json::object(); }, "no decode figures");
  tamper([](json& j) { j["profile"]["cpu"]["decode"]["Q8_0"] = -5; }, "negative throughput");
  tamper([](json& j) { j["profile"]["memory"]["available"] = "lots"; }, "a wrong type");
  tamper([](json& j) { j["profile"]["bogus"] = 1; }, "an unknown key");
  tamper([](json& j) { j["measured"]["types"] = json::array(); }, "no measured types");
  tamper([](json& j) { j["measured"]["read_bandwidth"]["median"] = "fast"; }, "a bad estimate");
  tamper([](json& j) { j["measured"]["disk"].erase("sequential"); }, "a missing field");
  tamper([](json& j) { j["key"]["threads"] = 99; }, "another key");
  tamper([](json& j) { j.erase("measured"); }, "no measurements");
}

TEST(Cache, StoreAndLoadDirectly) {
  TempDir dir;
  const json key = {{"a", 1}};
  const std::string path = cache_path(dir.path() + "/sub/dir", key);
  EXPECT_NE(path.find("/sub/dir/"), std::string::npos);
  EXPECT_NE(cache_path(dir.path(), json{{"a", 2}}), cache_path(dir.path(), key));
  std::string why;
  EXPECT_FALSE(cache_load(path, key, &why).has_value());
  EXPECT_TRUE(why.empty());  // no file: a plain miss, nothing to warn about
  ASSERT_TRUE(cache_store(path, key, {json{{"p", 1}}, json{{"m", 2}}}).is_ok());
  const auto e = cache_load(path, key, &why);
  ASSERT_TRUE(e.has_value()) << why;
  EXPECT_EQ(e->profile, (json{{"p", 1}}));
  EXPECT_EQ(e->measured, (json{{"m", 2}}));
  EXPECT_FALSE(cache_load(path, json{{"a", 3}}, &why).has_value());
  EXPECT_FALSE(why.empty());
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::others_read, fs::perms::none);
  EXPECT_FALSE(cache_load(dir.path(), key, &why).has_value());  // a directory
  EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace prima::profiler
