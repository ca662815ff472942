// The block-based greedy segmentation with its fallbacks, step by step as published
// (docs/split-algorithms.md gives the steps and how we read them).
#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "partition/feasibility.h"
#include "partition/problem_view.h"
#include "pipecut/error.h"
#include "pipecut/partition.h"

namespace pipecut {

using partition_internal::bytes;
using partition_internal::nearest_position;
using partition_internal::ProblemView;
using partition_internal::Wide;
using partition_internal::window;

namespace {

// Widening steps of 5% before the window is opened fully (up to 6 x HIGH by then).
constexpr int kWidenSteps = 100;

int64_t clamp_to_int64(Wide value) {
  return static_cast<int64_t>(std::clamp<Wide>(value, -std::numeric_limits<int64_t>::max(),
                                               std::numeric_limits<int64_t>::max()));
}

std::string segment_name(int s) {
  return "segment " + std::to_string(s + 1);
}

// One attempt with a fixed K and window. Segment s (0-based) runs from start_of(s) to ends_[s];
// positions follow ProblemView (0 is the model start, end() the model end).
class GreedyPass {
 public:
  GreedyPass(const ProblemView& view, int k, int64_t low, int64_t high,
             std::vector<std::string>& log)
      : view_(view),
        prefix_(view.prefix()),
        k_(k),
        low_(low),
        high_(high),
        log_(log),
        retries_left_(4 * k + 16) {}

  // True when every segment ends up inside the window; ends() then holds the K - 1 cuts.
  bool run() {
    if (k_ - 1 > view_.cut_count()) {
      log_.push_back(std::to_string(k_) + " segments need more cuts than the " +
                     std::to_string(view_.cut_count()) + " candidates");
      return false;
    }
    ends_.assign(k_ - 1, 0);
    int s = 0;
    while (s < k_) {
      // Can the rest, from this segment's start, still be cut into the segments left?
      const int64_t excess = rest_excess(start_of(s), k_ - s);
      if (excess != 0) {
        if (s == k_ - 1) {
          log_.push_back(segment_name(s) + " (last) would be " +
                         bytes(view_.size(start_of(s), view_.end())) + ", " + outside(excess));
        } else {
          log_.push_back(segment_name(s) + ": the remaining " +
                         bytes(view_.size(start_of(s), view_.end())) + " from " +
                         view_.name(start_of(s)) + " cannot be cut into " + std::to_string(k_ - s) +
                         " segments within the window (" + outside(excess) + ")");
        }
        if (!across_segments(s, excess)) return false;
        continue;
      }
      if (s == k_ - 1) {
        log_.push_back(segment_name(s) + " (last): the rest, size " +
                       bytes(view_.size(start_of(s), view_.end())));
        return true;
      }
      int64_t shortfall = 0;
      const int end = choose_end(s, shortfall);
      if (end < 0) {
        if (!across_segments(s, shortfall)) return false;
        continue;
      }
      ends_[s] = end;
      ++s;
    }
    return true;
  }

  const std::vector<int>& ends() const { return ends_; }

 private:
  int start_of(int s) const { return s == 0 ? 0 : ends_[s - 1]; }
  // The latest end of segment s that leaves one candidate for each later segment's end.
  int latest_end(int s) const { return view_.cut_count() - (k_ - 2 - s); }
  bool inside(int64_t size) const { return low_ <= size && size <= high_; }

  // How far the rest from `position` is outside [segments * LOW, segments * HIGH]: positive when
  // too large, negative when too small, 0 when the rest can still be cut into `segments`.
  int64_t rest_excess(int position, int segments) const {
    const Wide rest = view_.size(position, view_.end());
    if (rest > Wide(segments) * high_) return clamp_to_int64(rest - Wide(segments) * high_);
    if (rest < Wide(segments) * low_) return clamp_to_int64(rest - Wide(segments) * low_);
    return 0;
  }

  std::string outside(int64_t excess) const {
    return excess > 0 ? bytes(excess) + " too large" : bytes(-excess) + " too small";
  }

  // Steps 2-4 for segment s: the end closest to the dynamic average, else the nearest end inside
  // the window (step 3's alternating scan, then fallback 1's one-sided walk). Returns -1 and the
  // preferred end's shortfall (as in rest_excess) when no end fits.
  int choose_end(int s, int64_t& shortfall) {
    const int start = start_of(s);
    const int first = start + 1;
    const int last = latest_end(s);
    const int segments = k_ - s;
    const int64_t rest = view_.size(start, view_.end());
    const int preferred =
        nearest_position(prefix_, first, last, prefix_[start], rest, Wide(segments));
    const int64_t preferred_size = view_.size(start, preferred);
    const std::string target = segment_name(s) + ": T = " + bytes(rest / segments);
    auto chosen = [&](int end, const std::string& note) {
      log_.push_back(target + ", cut at " + view_.name(end) + ", size " +
                     bytes(view_.size(start, end)) + note);
      return end;
    };
    if (inside(preferred_size)) return chosen(preferred, "");

    // Step 3: alternate one earlier, one later; the alternation ends where one side runs out.
    const std::string was = " (closest to T was " + view_.name(preferred) + ", size " +
                            bytes(preferred_size) + ", outside the window)";
    for (int step = 1;; ++step) {
      const bool earlier = preferred - step >= first;
      const bool later = preferred + step <= last;
      if (earlier && inside(view_.size(start, preferred - step))) {
        return chosen(preferred - step, was + "; scanned outward");
      }
      if (later && inside(view_.size(start, preferred + step))) {
        return chosen(preferred + step, was + "; scanned outward");
      }
      if (!earlier || !later) break;
    }

    // Fallback 1: walk the end one candidate at a time, earlier when too large, later when too
    // small, up to the range's own end (for the last two segments: the final candidates).
    const bool too_large = preferred_size > high_;
    const int direction = too_large ? -1 : 1;
    for (int end = preferred + direction; end >= first && end <= last; end += direction) {
      if (inside(view_.size(start, end))) {
        log_.push_back(
            "fallback 1: " + segment_name(s) + " at " + view_.name(preferred) + " is " +
            bytes(preferred_size) + ", " +
            (too_large ? "above HIGH; moved its end earlier" : "below LOW; moved its end later") +
            " to " + view_.name(end));
        return chosen(end, "");
      }
    }
    shortfall = too_large ? preferred_size - high_ : preferred_size - low_;
    log_.push_back("fallback 1: " + segment_name(s) + " has no end inside the window between " +
                   view_.name(first) + " and " + view_.name(last) +
                   " (closest to T: " + view_.name(preferred) + ", " + outside(shortfall) + ")");
    return -1;
  }

  // The new end for segment s - 1 that moves segment s's start by at least |shortfall| in its
  // direction, with the rest from there cuttable into the segments left; -1 if there is none.
  int absorbing_end(int s, int64_t shortfall) const {
    const int previous_end = ends_[s - 1];
    const int segments = k_ - s;
    if (shortfall > 0) {
      for (int x = previous_end + 1; x <= latest_end(s - 1); ++x) {
        if (view_.size(previous_end, x) < shortfall) continue;
        const int64_t excess = rest_excess(x, segments);
        if (excess == 0) return x;
        if (excess < 0) break;  // later ends only shrink the rest further
      }
    } else {
      for (int x = previous_end - 1; x > start_of(s - 1); --x) {
        if (view_.size(x, previous_end) < -shortfall) continue;
        const int64_t excess = rest_excess(x, segments);
        if (excess == 0) return x;
        if (excess > 0) break;  // earlier ends only grow the rest further
      }
    }
    return -1;
  }

  // Fallback 2: absorb the shortfall of segment s (positive: its start must move later) by
  // moving the previous segment's end, else by spreading it over the k previous segments.
  bool across_segments(int s, int64_t shortfall) {
    if (s == 0) {
      log_.push_back("fallback 2: not possible, " + segment_name(s) +
                     " is the first segment and has no previous segment to move");
      return false;
    }
    if (retries_left_-- <= 0) {
      log_.push_back("fallback 2: gave up after " + std::to_string(4 * k_ + 16) + " retries");
      return false;
    }
    const int old_end = ends_[s - 1];
    const int x = absorbing_end(s, shortfall);
    if (x < 0) {
      log_.push_back("fallback 2: no end for " + segment_name(s - 1) + " moves " +
                     bytes(shortfall < 0 ? -shortfall : shortfall) +
                     (shortfall > 0 ? " later" : " earlier") +
                     " and leaves a rest that fits the segments left");
      return false;
    }
    const int64_t moved = prefix_[x] - prefix_[old_end];  // signed, |moved| >= |shortfall|
    if (inside(view_.size(start_of(s - 1), x))) {
      ends_[s - 1] = x;
      log_.push_back("fallback 2: moved the end of " + segment_name(s - 1) + " from " +
                     view_.name(old_end) + " to " + view_.name(x) + " (size now " +
                     bytes(view_.size(start_of(s - 1), x)) + ") to absorb " +
                     bytes(shortfall < 0 ? -shortfall : shortfall) + "; redoing " +
                     segment_name(s));
      return true;
    }
    // Spread over segments s - k .. s - 1: the j-th end moves by about moved * (j + 1) / k.
    for (int k = 2; k <= s; ++k) {
      std::vector<int> moved_ends(k);
      moved_ends[k - 1] = x;
      bool fits = true;
      int from = start_of(s - k);
      for (int j = 0; j < k && fits; ++j) {
        if (j < k - 1) {
          const int first = from + 1;
          const int last = x - (k - 1 - j);
          if (first > last) {
            fits = false;
            break;
          }
          moved_ends[j] = nearest_position(prefix_, first, last, prefix_[ends_[s - k + j]],
                                           Wide(moved) * (j + 1), Wide(k));
        }
        fits = inside(view_.size(from, moved_ends[j]));
        from = moved_ends[j];
      }
      if (!fits) continue;
      std::string list;
      for (int j = 0; j < k; ++j) {
        ends_[s - k + j] = moved_ends[j];
        list += (j > 0 ? ", " : "") + view_.name(moved_ends[j]);
      }
      log_.push_back("fallback 2: " + segment_name(s - 1) + " cannot absorb " +
                     bytes(moved < 0 ? -moved : moved) + " alone; spread it over segments " +
                     std::to_string(s - k + 1) + "-" + std::to_string(s) + " (" +
                     bytes((moved < 0 ? -moved : moved) / k) + " each), ends now " + list +
                     "; redoing " + segment_name(s));
      return true;
    }
    log_.push_back("fallback 2: neither " + segment_name(s - 1) +
                   " nor the segments before it can absorb " + bytes(moved < 0 ? -moved : moved) +
                   " within the window");
    return false;
  }

  const ProblemView& view_;
  const std::vector<int64_t>& prefix_;
  const int k_;
  const int64_t low_;
  const int64_t high_;
  std::vector<std::string>& log_;
  int retries_left_;
  std::vector<int> ends_;
};

}  // namespace

Partition partition_greedy(const PartitionProblem& problem) {
  const ProblemView view(problem);
  std::vector<std::string> log;
  const bool given = problem.segments > 0;
  int k = given ? problem.segments : partition_internal::segments_for_high(view);
  log.push_back(
      "greedy: " + bytes(view.total()) + ", window " + window(problem.low, problem.high) +
      ", K = " + std::to_string(k) +
      (given ? " (given)" : " = ceil(" + bytes(view.total()) + " / " + bytes(problem.high) + ")"));
  const int most = view.cut_count() + 1;
  if (k > most) {
    log.push_back("only " + std::to_string(view.cut_count()) +
                  " candidate cuts: K = " + std::to_string(most));
    k = most;
  }
  // One pass with the given K and window; the cuts when it succeeds.
  auto attempt = [&](int segments, int64_t low, int64_t high) -> std::optional<std::vector<int>> {
    GreedyPass pass(view, segments, low, high, log);
    if (!pass.run()) return std::nullopt;
    return pass.ends();
  };

  if (auto ends = attempt(k, problem.low, problem.high)) {
    return view.result(Algorithm::kGreedy, *ends, problem.low, problem.high, std::move(log));
  }
  // Last resort, first: one more segment (not when the user fixed K), from the start again.
  if (!given && k + 1 <= most) {
    ++k;
    log.push_back("last resort: no partition into " + std::to_string(k - 1) +
                  " segments; one more segment, K = " + std::to_string(k) + ", starting again");
    if (auto ends = attempt(k, problem.low, problem.high)) {
      return view.result(Algorithm::kGreedy, *ends, problem.low, problem.high, std::move(log));
    }
  }
  // Then widen the window in 5% steps: LOW down and HIGH up by 5% of their values per step.
  // Once LOW is 0 and HIGH covers the whole model every pass succeeds, so the loop ends there.
  // Steps that round to the window already tried are skipped.
  const int64_t widest_high = std::max(problem.high, view.total());
  int64_t tried_low = problem.low;
  int64_t tried_high = problem.high;
  for (int step = 1;; ++step) {
    int64_t low = 0;
    int64_t high = widest_high;
    if (step <= kWidenSteps) {
      low = std::max<int64_t>(0, problem.low - clamp_to_int64(Wide(problem.low) * 5 * step / 100));
      high = clamp_to_int64(std::min<Wide>(
          Wide(problem.high) + (Wide(problem.high) * 5 * step + 99) / 100, widest_high));
      if (low == tried_low && high == tried_high) continue;
      log.push_back("last resort: window widened by " + std::to_string(5 * step) + "% to " +
                    window(low, high));
    } else {
      if (low == tried_low && high == tried_high) break;
      log.push_back("last resort: window opened to " + window(low, high));
    }
    tried_low = low;
    tried_high = high;
    if (auto ends = attempt(k, low, high)) {
      return view.result(Algorithm::kGreedy, *ends, low, high, std::move(log));
    }
    if (low == 0 && high == widest_high) break;
  }
  throw Error("greedy: internal error: no partition into " + std::to_string(k) +
              " segments even in the window " + window(0, widest_high));
}

}  // namespace pipecut
