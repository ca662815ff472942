#include "pipeline/stage_weight.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

namespace pipecut::pipeline_detail {
namespace {

constexpr double kWeightPerStep = 1.25;  // Linux's sched_prio_to_weight ratio between two steps
constexpr int kMaxNice = 19;

// On Linux, PRIO_PROCESS with a thread id addresses that one thread (not POSIX, but documented
// in setpriority(2) under BUGS as the behaviour NPTL threads rely on).
id_t this_thread() {
  return static_cast<id_t>(syscall(SYS_gettid));
}

}  // namespace

std::vector<int> nice_steps_for_costs(const std::vector<double>& costs) {
  const double costliest = costs.empty() ? 0.0 : *std::max_element(costs.begin(), costs.end());
  std::vector<int> steps;
  for (double cost : costs) {
    const double s = std::round(std::log(costliest / cost) / std::log(kWeightPerStep));
    steps.push_back(static_cast<int>(std::clamp(s, 0.0, static_cast<double>(kMaxNice))));
  }
  return steps;
}

std::optional<int> thread_nice() {
  errno = 0;  // -1 is a valid nice value: only errno tells a failure
  const int nice = getpriority(PRIO_PROCESS, this_thread());
  if (errno != 0) return std::nullopt;
  return nice;
}

int raise_thread_nice(int steps) {
  if (steps <= 0) return 0;
  // The reset-on-fork flag comes ORed into the policy; it does not change what nice does.
  const int policy = sched_getscheduler(static_cast<pid_t>(this_thread())) & ~SCHED_RESET_ON_FORK;
  if (policy != SCHED_OTHER && policy != SCHED_BATCH) return 0;  // nice sets no weight there
  const std::optional<int> before = thread_nice();
  if (!before) return 0;
  const int wanted = std::min(kMaxNice, *before + steps);
  if (wanted <= *before || setpriority(PRIO_PROCESS, this_thread(), wanted) != 0) return 0;
  const std::optional<int> after = thread_nice();
  return after ? std::max(0, *after - *before) : 0;
}

}  // namespace pipecut::pipeline_detail
