#pragma once
// A one-line progress bar on standard error, drawn only when it is a terminal and the work
// takes long enough to be worth one; silent otherwise (tests, pipes, --json).
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace pipecut {

// Callback the library takes for long work: (done, total, what is happening now).
using ProgressFn = std::function<void(int64_t done, int64_t total, const std::string& stage)>;

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  void update(int64_t done, int64_t total, const std::string& stage);
  // For work whose size is unknown: a moving marker and the seconds elapsed.
  void working(const std::string& stage);
  void finish();
  ProgressFn callback();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// Runs `work` on another thread while the bar shows `stage` as working; returns its result and
// rethrows its exception.
template <typename Work>
auto with_progress(ProgressBar& bar, const std::string& stage, Work&& work) -> decltype(work());

}  // namespace pipecut

#include <future>
#include <thread>

namespace pipecut {

template <typename Work>
auto with_progress(ProgressBar& bar, const std::string& stage, Work&& work) -> decltype(work()) {
  auto result = std::async(std::launch::async, std::forward<Work>(work));
  while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready)
    bar.working(stage);
  bar.finish();
  return result.get();
}

}  // namespace pipecut
