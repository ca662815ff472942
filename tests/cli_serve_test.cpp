// pipecut serve and infer as separate processes on a nats-server of the test's own: workers
// killed with SIGKILL mid-stream on two stages and restarted a second later, and the server
// itself restarted (file-backed streams): every frame still arrives exactly once, in order and bit
// for bit the local cascade's. Refusals are one line and a non-zero exit.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/nats_server.h"
#include "support/test_support.h"

extern char** environ;

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::NatsServer;

// A child process running the built pipecut with its output in files.
class Child {
 public:
  Child(std::vector<std::string> args, const fs::path& out, const fs::path& err) {
    args.insert(args.begin(), PIPECUT_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (posix_spawn(&pid_, PIPECUT_BINARY, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  // Still running (not exited, not killed); an exit seen here is kept for wait().
  bool running() {
    if (pid_ <= 0 || reaped_) return false;
    if (::waitpid(pid_, &status_, WNOHANG) == 0) return true;
    reaped_ = true;
    return false;
  }
  void kill9() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  // Its exit status; -1 when it did not exit within `limit` (then it is killed) or was killed.
  int wait(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running()) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill9();
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!reaped_) return -1;
    pid_ = -1;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path make_tree(const fs::path& dir) {
  const auto r = testing::run_cli(
      "split " + testing::coral_model("mobilenet_v2_1.0_224_quant.tflite").string() + " -o " +
      (dir / "tree").string() + " --max-size 1300KiB");
  if (r.status != 0) throw std::runtime_error("split failed: " + r.err);
  return dir / "tree";
}

TEST(CliServe, KilledWorkersAndARestartedServerLoseAndRepeatNoFrame) {
  const fs::path dir = testing::fresh_dir("cli_serve_faults");
  const fs::path tree = make_tree(dir);
  NatsServer server(dir / "nats");
  // The restarted workers pin themselves (`--pin`): a placement changes nothing in the results.
  const auto worker = [&](int stage, int generation) {
    std::vector<std::string> args{"serve",    tree.string(),         "--nats",     server.url(),
                                  "--stages", std::to_string(stage), "--ack-wait", "1"};
    if (generation > 0) args.push_back("--pin");
    return std::make_unique<Child>(
        args, dir / ("serve" + std::to_string(stage) + "." + std::to_string(generation) + ".out"),
        dir / "serve.err");
  };
  std::vector<std::unique_ptr<Child>> workers;
  for (int s = 1; s <= 3; ++s) workers.push_back(worker(s, 0));
  for (const auto& w : workers) ASSERT_TRUE(w->started());
  Child infer({"infer", tree.string(), "--nats", server.url(), "--frames", "1500", "--check",
               "--json", "--ack-wait", "1", "--timeout", "120"},
              dir / "infer.json", dir / "infer.err");
  ASSERT_TRUE(infer.started());
  using std::chrono::milliseconds;
  std::this_thread::sleep_for(milliseconds(1500));
  // Every fault lands while infer is still streaming (1,500 frames take several seconds).
  ASSERT_TRUE(infer.running()) << read_text(dir / "infer.err");
  workers[1]->kill9();  // stage 2, mid-stream
  std::this_thread::sleep_for(milliseconds(1000));
  workers[1] = worker(2, 1);
  std::this_thread::sleep_for(milliseconds(700));
  ASSERT_TRUE(infer.running()) << read_text(dir / "infer.err");
  workers[2]->kill9();  // stage 3
  std::this_thread::sleep_for(milliseconds(1000));
  workers[2] = worker(3, 1);
  std::this_thread::sleep_for(milliseconds(700));
  ASSERT_TRUE(infer.running()) << read_text(dir / "infer.err");
  server.stop();  // the frames queued on disk wait for it
  std::this_thread::sleep_for(milliseconds(500));
  server.start();
  ASSERT_EQ(infer.wait(std::chrono::seconds(300)), 0)
      << read_text(dir / "infer.err") << read_text(dir / "serve.err");
  const auto report = nlohmann::json::parse(read_text(dir / "infer.json"));
  EXPECT_EQ(report["frames"], 1500);      // every frame, each once, in order
  EXPECT_EQ(report["mismatches"], 0);     // bit for bit the local cascade
  EXPECT_TRUE(report["failed"].empty());  // none gave up
  EXPECT_NE(read_text(dir / "serve.err").find(", on CPU "), std::string::npos)
      << "a pinned worker names its CPU at startup";
  // The rate once full is (frames - 1) over the time from the first result to the last, both
  // inside the run: at least (frames - 1) over the run's seconds.
  EXPECT_GE(report["steady_fps"].get<double>(), 1499 / report["seconds"].get<double>() * 0.9999);
  std::printf("redelivered %d, duplicates dropped %d, %.1f frames/s\n",
              report["redelivered"].get<int>(), report["duplicates_dropped"].get<int>(),
              report["throughput_fps"].get<double>());
}

TEST(CliServe, RefusalsAreOneLineAndNonZero) {
  const fs::path dir = testing::fresh_dir("cli_serve_refusals");
  const fs::path tree = make_tree(dir);
  NatsServer server(dir / "nats");
  auto r = testing::run_cli("serve " + tree.string() + " --nats " + server.url() + " --stages 9");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("stage 9 does not exist (the tree has 3)"), std::string::npos) << r.err;
  r = testing::run_cli("infer " + (dir / "nothing").string() + " --nats " + server.url());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("nothing"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  server.stop();
  r = testing::run_cli("infer " + tree.string() + " --nats " + server.url() + " --frames 1");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pipecut
