#include "pipecut/progress.h"

#include <unistd.h>

#include <cstdio>

namespace pipecut {

namespace {
constexpr auto kQuietStart = std::chrono::milliseconds(1000);  // short work draws nothing
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
}  // namespace

ProgressBar::ProgressBar(bool enabled)
    : enabled_(enabled && ::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::update(int64_t done, int64_t total, const std::string& stage) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < kQuietStart) return;
  if (drawn_ && now - last_draw_ < kRedrawEvery && done < total) return;
  last_draw_ = now;
  drawn_ = true;
  constexpr int kWidth = 30;
  const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r[%s] %3d%% %-40.40s", bar.c_str(), static_cast<int>(fraction * 100),
               stage.c_str());
  std::fflush(stderr);
}

void ProgressBar::working(const std::string& stage) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < kQuietStart || (drawn_ && now - last_draw_ < kRedrawEvery)) return;
  last_draw_ = now;
  drawn_ = true;
  constexpr int kWidth = 30;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::string bar(kWidth, '.');
  const int at = static_cast<int>(seconds * 10) % (2 * kWidth - 2);
  bar[static_cast<size_t>(at < kWidth ? at : 2 * kWidth - 2 - at)] = '#';
  std::fprintf(stderr, "\r[%s] %5.1fs %-40.40s", bar.c_str(), seconds, stage.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (drawn_) {
    std::fprintf(stderr, "\r%*s\r", 80, "");
    std::fflush(stderr);
    drawn_ = false;
  }
}

ProgressFn ProgressBar::callback() {
  return
      [this](int64_t done, int64_t total, const std::string& stage) { update(done, total, stage); };
}

}  // namespace pipecut
