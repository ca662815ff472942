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
  void finish();
  ProgressFn callback();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace pipecut
