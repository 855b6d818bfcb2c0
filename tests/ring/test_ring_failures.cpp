// What goes wrong in a ring gets a clear error naming the device, within seconds, never a hang.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "cluster/connection.h"
#include "cluster/handshake.h"
#include "ring_fixture.h"

using namespace prima;
using namespace prima::test;
using namespace std::chrono_literals;

namespace {

TEST(RingFailures, KilledWorkerEndsTheRunNamingItAndTheOthersWaitAgain) {
  const std::string model = kModels + "stories260K-F32.gguf";
  auto workers = start_workers(model, 2, "kill");
  const std::string head_log = ::testing::TempDir() + "/kill-head.log";
  BackgroundProcess head = BackgroundProcess::start(
      {PRIMA_BINARY, "run", "-m", model, "-p", "Once", "-n", "-1", "--ignore-eos", "--temp", "0", "-c", "200000",
       "--workers", workers.list(), "-t", "1", "--plan", "even"},
      head_log);
  ASSERT_TRUE(head.wait_for("ring of 3 devices", 20s)) << head.log();
  std::this_thread::sleep_for(300ms);  // generating
  ASSERT_FALSE(head.exited()) << "the head ended before the kill:\n" << head.log();

  const auto t0 = std::chrono::steady_clock::now();
  workers.procs[1]->kill(SIGKILL);
  const int rc = head.wait_exit(10s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_NE(rc, -1) << "the head did not exit within 10 s of the kill:\n" << head.log();
  EXPECT_NE(rc, 0);
  EXPECT_LT(seconds, 10.0);
  EXPECT_NE(head.log().find("worker w2 at " + workers.addresses[1]), std::string::npos) << head.log();
  // The surviving worker is told and waits for a new head.
  EXPECT_TRUE(workers.procs[0]->wait_for("ended the session[^\\n]*\\n[^\\n]*waiting for a head", 10s))
      << workers.procs[0]->log();
}

TEST(RingFailures, DifferentModelFileIsAClearErrorOnBothSides) {
  auto workers = start_workers(kModels + "tiny-qwen2-F32.gguf", 1, "mismatch");
  auto args = greedy_args(kModels + "stories260K-F32.gguf", "Once", 4);
  args.insert(args.end(), {"--workers", workers.list()});
  const auto r = run_prima(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("worker w1 at " + workers.addresses[0] + " has a different model file"), std::string::npos) << r.err;
  EXPECT_TRUE(workers.procs[0]->wait_for("different model file", 5s)) << workers.procs[0]->log();
}

TEST(RingFailures, WrongProtocolVersionIsRefused) {
  auto workers = start_workers(kModels + "stories260K-F32.gguf", 1, "version");
  auto conn = cluster::Connection::open(workers.addresses[0], "w1");
  ASSERT_TRUE(conn.is_ok());
  cluster::Hello hello;
  hello.role = cluster::Role::head;
  hello.session = 7;
  hello.device_name = "future-head";
  hello.version_major = cluster::kVersionMajor + 1;
  auto r = cluster::handshake_with_worker(*conn, hello, cluster::Millis(5000));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("protocol"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(fmt::format("{}.{}", cluster::kVersionMajor, cluster::kVersionMinor)),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find(fmt::format("{}.", cluster::kVersionMajor + 1)), std::string::npos)
      << r.status().message();
  // The worker is still there for a head that speaks its version.
  auto args = greedy_args(kModels + "stories260K-F32.gguf", "Once", 4);
  args.insert(args.end(), {"--workers", workers.list()});
  const auto ok = run_prima(args);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(RingFailures, GarbageAndStrayMessagesDoNotDisturbAWorker) {
  auto workers = start_workers(kModels + "stories260K-F32.gguf", 1, "garbage");
  {
    auto conn = cluster::Connection::open(workers.addresses[0], "w1");
    ASSERT_TRUE(conn.is_ok());
    ASSERT_TRUE(conn->wait_connected(cluster::Millis(5000)).is_ok());
    // Activations and KV operations from someone who is not its head, before any session.
    cluster::Activations a;
    a.n_tokens = 1;
    a.n_embd = 4;
    a.pos = {0};
    a.seq_id = {0};
    a.output = {1};
    std::vector<float> v(4, 1.0f);
    a.values = v;
    EXPECT_TRUE(conn->send(a).is_ok());
    EXPECT_TRUE(conn->send(cluster::KvOp{}).is_ok());
    EXPECT_TRUE(conn->send(cluster::Stop{"not yours"}).is_ok());
  }
  auto args = greedy_args(kModels + "stories260K-F32.gguf", "Once", 4);
  args.insert(args.end(), {"--workers", workers.list()});
  const auto r = run_prima(args);
  EXPECT_EQ(r.exit_code, 0) << r.err << workers.procs[0]->log();
}

TEST(RingFailures, ABusyWorkerRefusesASecondHead) {
  const std::string model = kModels + "stories260K-F32.gguf";
  auto workers = start_workers(model, 1, "busy");
  BackgroundProcess first = BackgroundProcess::start(
      {PRIMA_BINARY, "run", "-m", model, "-p", "Once", "-n", "-1", "--ignore-eos", "--temp", "0", "-c", "200000",
       "--workers", workers.list(), "-t", "1", "--plan", "even"},
      ::testing::TempDir() + "/busy-first.log");
  ASSERT_TRUE(first.wait_for("ring of 2 devices", 20s)) << first.log();
  auto args = greedy_args(model, "Once", 4);
  args.insert(args.end(), {"--workers", workers.list()});
  const auto second = run_prima(args);
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.err.find("busy"), std::string::npos) << second.err;
}

TEST(RingFailures, UnreachableWorkerIsNamedWithinSeconds) {
  auto args = greedy_args(kModels + "stories260K-F32.gguf", "Once", 4);
  args.insert(args.end(), {"--workers", "127.0.0.1:1"});
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_prima(args);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("w1 at 127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 20.0);
}

TEST(RingFailures, WindowsThatDoNotDivideTheLayersAreRefused) {
  auto workers = start_workers(kModels + "stories260K-F32.gguf", 1, "windows");
  auto args = greedy_args(kModels + "stories260K-F32.gguf", "Once", 4);
  args.insert(args.end(), {"--workers", workers.list(), "--layer-window", "2,1"});
  auto r = run_prima(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("do not divide") == std::string::npos ? r.err.find("does not divide") : 0, std::string::npos)
      << r.err;
  args.back() = "1,1,1";
  r = run_prima(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("3 windows for a ring of 2 devices"), std::string::npos) << r.err;
  args.back() = "x,1";
  r = run_prima(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'x' is not a number"), std::string::npos) << r.err;
}

}  // namespace

namespace {

// With --recover a lost worker costs a re-plan and a replay, not the answer: the run completes with exactly the
// text one device produces.
TEST(RingRecovery, KilledWorkerMidGenerationTheRunCarriesOn) {
  const std::string model = kModels + "tiny-llama-gqa-Q4_K_M.gguf";
  // Long enough that the kill lands mid-generation.
  const std::vector<std::string> args = {"run", "-m", model, "-p", "Once upon a time", "-n", "2000", "--temp", "0",
                                         "--no-display-prompt", "--ignore-eos", "-c", "2048", "-t", "1", "--plan", "even"};
  const auto local = run_prima(args);
  ASSERT_EQ(local.exit_code, 0) << local.err;

  auto workers = start_workers(model, 3, "recover");
  std::vector<std::string> argv = {PRIMA_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--workers", workers.list(), "--recover", "--ubatch-size", "4"});
  const std::string out_path = ::testing::TempDir() + "/recover-head.out";
  BackgroundProcess head = BackgroundProcess::start(argv, ::testing::TempDir() + "/recover-head.log", out_path);
  ASSERT_TRUE(head.wait_for("ring of 4 devices", 20s)) << head.log();
  std::this_thread::sleep_for(300ms);
  ASSERT_FALSE(head.exited()) << "the run ended before the kill:\n" << head.log();
  workers.procs[1]->kill(SIGKILL);  // w2, in the middle of the ring
  const int rc = head.wait_exit(60s);
  ASSERT_EQ(rc, 0) << head.log();
  const std::string log = head.log();
  EXPECT_NE(log.find("worker w2 at " + workers.addresses[1] + " lost"), std::string::npos) << log;
  EXPECT_NE(log.find("recovered in"), std::string::npos) << log;
  EXPECT_NE(log.find("3 devices"), std::string::npos) << log;
  // The text is exactly one device's.
  std::ifstream out(out_path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, local.out);
}

}  // namespace
