#include "util/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>

extern char** environ;

namespace pipecut {

std::string ProcessResult::failure() const {
  if (failed_to_start) return "could not start: " + output;
  if (timed_out) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", timeout_seconds);
    return "timed out after " + std::string(limit) + " s";
  }
  if (signal != 0) {
    return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  }
  if (exit_status != 0) return "exit status " + std::to_string(exit_status);
  return "";
}

namespace {

// The process groups of the programs running now, so that Ctrl-C or a SIGTERM to pipecut also
// ends them (they run in groups of their own, outside the terminal's). A fixed array of atomics:
// the signal handler may only touch lock-free memory and call kill().
constexpr int kMaxChildren = 256;
std::atomic<pid_t> g_children[kMaxChildren];
struct sigaction g_previous_int, g_previous_term;

void kill_children_and_die(int signal) {
  for (auto& child : g_children) {
    const pid_t pid = child.load();
    if (pid > 0) kill(-pid, SIGKILL);
  }
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
  raise(signal);
}

void install_handler_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = kill_children_and_die;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &g_previous_int);
    sigaction(SIGTERM, &action, &g_previous_term);
  });
}

// Registers a running child for the handler; unregisters it when it goes out of scope.
class ChildSlot {
 public:
  explicit ChildSlot(pid_t pid) {
    for (auto& child : g_children) {
      pid_t empty = 0;
      if (child.compare_exchange_strong(empty, pid)) {
        slot_ = &child;
        return;
      }
    }
  }
  ~ChildSlot() {
    if (slot_) slot_->store(0);
  }
  ChildSlot(const ChildSlot&) = delete;
  ChildSlot& operator=(const ChildSlot&) = delete;

 private:
  std::atomic<pid_t>* slot_ = nullptr;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                          double timeout_seconds, size_t max_output) {
  install_handler_once();
  ProcessResult result;
  result.timeout_seconds = timeout_seconds;
  const auto start = std::chrono::steady_clock::now();
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.failed_to_start = true;
    result.output = std::strerror(errno);
    return result;
  }
  Fd read_end{pipe_fds[0]}, write_end{pipe_fds[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);  // a group of its own, so a timeout kills its children too
  sigset_t no_signals;
  sigemptyset(&no_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawn_error = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(write_end.fd);
  write_end.fd = -1;
  if (spawn_error != 0) {
    result.failed_to_start = true;
    result.output = std::strerror(spawn_error);
    return result;
  }
  const ChildSlot slot(pid);

  const auto deadline = start + std::chrono::duration<double>(timeout_seconds);
  char buffer[65536];
  bool open = true;
  while (open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd p{read_end.fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = read(read_end.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      open = false;  // every writer closed: the program (and its children) finished printing
      break;
    }
    const size_t room = max_output - std::min(max_output, result.output.size());
    result.output.append(buffer, std::min(room, static_cast<size_t>(n)));
    if (static_cast<size_t>(n) > room) result.output_truncated = true;
  }
  if (result.timed_out) kill(-pid, SIGKILL);
  int status = 0;
  // After the pipe closed the program is exiting; wait for it, but never past the deadline.
  while (true) {
    const pid_t done = waitpid(pid, &status, result.timed_out ? 0 : WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      continue;
    }
    if (done == 0) usleep(2000);
  }
  if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status) && !result.timed_out) result.signal = WTERMSIG(status);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace pipecut
