// Placing stage threads on cores: the plan spreads the stages' work evenly (costliest first onto
// the least loaded core), and a pipeline given CPUs runs each stage's run(), and the threads it
// starts, bound to its CPU alone; without, on every CPU the process may use.
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pipecut/error.h"
#include "pipecut/pipeline.h"
#include "pipeline/stage_cores.h"
#include "support/pipeline_fakes.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

using pipeline_detail::allowed_cpus;
using pipeline_detail::cores_for_costs;
using pipeline_detail::cores_for_workers;
using testing::thread_cpus;

// ResNet-101's seven 7 MiB segments alone, in ms (docs/pipeline-api.md).
const std::vector<double> kResNet101 = {7.792, 3.400, 3.384, 3.381, 1.457, 0.652, 0.720};

TEST(PipelineCores, CostliestStagesGoFirstOntoTheLeastLoadedCore) {
  // 7.792 | 3.400 3.384 3.381 on the other, then the light ones back on the first: 10.62 and
  // 10.17 ms per frame, where stage order (1-4 | 5-7) would give 17.96 and 2.83.
  EXPECT_EQ(cores_for_costs(kResNet101, 2), (std::vector<size_t>{0, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(cores_for_costs(kResNet101, 4), (std::vector<size_t>{0, 1, 2, 3, 3, 1, 2}));
  EXPECT_EQ(cores_for_costs(kResNet101, 1), (std::vector<size_t>(7, 0)));
  EXPECT_EQ(cores_for_costs(kResNet101, 0), (std::vector<size_t>(7, 0)));  // as one core
  // Ties keep stage order and the lower core, so every process plans alike.
  EXPECT_EQ(cores_for_costs({1, 1, 1, 1}, 2), (std::vector<size_t>{0, 1, 0, 1}));
  EXPECT_EQ(cores_for_costs({2, 1}, 8), (std::vector<size_t>{0, 1}));
  EXPECT_TRUE(cores_for_costs({}, 2).empty());
}

// Every core's load stays within the costliest stage of the best balance: with the stages
// costliest first, greedy placement is within 4/3 of the optimum (Graham's bound).
TEST(PipelineCores, LoadsStayWithinAStageOfEven) {
  const std::vector<double> costs = {5, 5, 4, 4, 3, 3, 3, 2, 1, 1};
  for (size_t cores = 1; cores <= 4; ++cores) {
    std::vector<double> load(cores, 0.0);
    const auto placed = cores_for_costs(costs, cores);
    ASSERT_EQ(placed.size(), costs.size());
    for (size_t i = 0; i < costs.size(); ++i) {
      ASSERT_LT(placed[i], cores);
      load[placed[i]] += costs[i];
    }
    const double even = 32.0 / static_cast<double>(cores);
    EXPECT_LE(*std::max_element(load.begin(), load.end()), even + 5) << cores << " cores";
    EXPECT_LE(*std::max_element(load.begin(), load.end()), std::max(5.0, even) * 4 / 3)
        << cores << " cores";
  }
}

// Several workers per stage: a stage's workers go to different cores, so whichever core runs
// dry can take any stage's next frame; a core gets a second one of a stage only when every core
// has one.
TEST(PipelineCores, AStagesWorkersGoToDifferentCores) {
  using Placed = std::vector<std::vector<size_t>>;
  EXPECT_EQ(cores_for_workers(kResNet101, 2, 2), Placed(7, {0, 1}));
  // With one worker each it is the plan of one thread per stage.
  EXPECT_EQ(cores_for_workers(kResNet101, 1, 4), (Placed{{0}, {1}, {2}, {3}, {3}, {1}, {2}}));
  // Halves placed as independent units would put stage 2's two halves both on core 2 (loads 5, 5
  // and 0 after stage 1): here they go to cores 2 and then 0 (a tie at 5, the lower index).
  EXPECT_EQ(cores_for_workers({10, 4, 1}, 2, 3), (Placed{{0, 1}, {2, 0}, {2, 1}}));
  // More workers than cores: every core one before any gets a second.
  const Placed three = cores_for_workers({6, 3}, 3, 2);
  ASSERT_EQ(three.size(), 2u);
  for (const auto& stage : three) {
    ASSERT_EQ(stage.size(), 3u);
    EXPECT_NE(stage[0], stage[1]);
  }
  // The cores' loads stay within a stage of even, as with one worker per stage.
  const std::vector<double> costs = {5, 5, 4, 4, 3, 3, 3, 2, 1, 1};
  for (size_t cores = 1; cores <= 4; ++cores) {
    for (size_t workers = 1; workers <= 3; ++workers) {
      std::vector<double> load(cores, 0.0);
      const Placed placed = cores_for_workers(costs, workers, cores);
      ASSERT_EQ(placed.size(), costs.size());
      for (size_t i = 0; i < costs.size(); ++i) {
        ASSERT_EQ(placed[i].size(), workers);
        for (size_t w = 0; w < workers; ++w) {
          ASSERT_LT(placed[i][w], cores);
          load[placed[i][w]] += costs[i] / static_cast<double>(workers);
        }
        const std::set<size_t> distinct(placed[i].begin(), placed[i].end());
        EXPECT_EQ(distinct.size(), std::min(workers, cores)) << "stage " << i;
      }
      const double even = 32.0 / static_cast<double>(cores);
      EXPECT_LE(*std::max_element(load.begin(), load.end()), even + 5)
          << cores << " cores, " << workers << " workers";
    }
  }
}

TEST(PipelineCores, StageCpusAreCpusThisProcessMayUse) {
  const std::vector<int> allowed = allowed_cpus();
  ASSERT_FALSE(allowed.empty());
  EXPECT_TRUE(std::is_sorted(allowed.begin(), allowed.end()));
  const std::vector<int> cpus = stage_cpus(kResNet101);
  ASSERT_EQ(cpus.size(), kResNet101.size());
  for (int cpu : cpus) EXPECT_NE(std::find(allowed.begin(), allowed.end(), cpu), allowed.end());
  EXPECT_EQ(cpus, stage_cpus(kResNet101));
  for (const double bad : {0.0, -1.0, std::nan(""), HUGE_VAL})
    EXPECT_THROW(stage_cpus({1.0, bad}), Error) << bad;
  if (allowed.size() >= 2) {
    EXPECT_EQ(cpus[0], allowed[0]);
    EXPECT_EQ(cpus[1], allowed[1]);
  }
}

// in -> out, the bytes unchanged; `before` runs first.
class CopyStage : public Executable {
 public:
  CopyStage(const std::string& in, const std::string& out, std::function<void()> before)
      : in_{testing::tensor_spec(in, {1, 4})},
        out_{testing::tensor_spec(out, {1, 4})},
        before_(std::move(before)) {}
  const std::vector<TensorSpec>& inputs() const override { return in_; }
  const std::vector<TensorSpec>& outputs() const override { return out_; }
  std::vector<TensorValue> run(const std::vector<TensorValue>& inputs) override {
    before_();
    TensorValue r = inputs.at(0);
    r.name = out_[0].name;
    return {r};
  }
  std::string backend() const override { return "copy"; }

 private:
  std::vector<TensorSpec> in_, out_;
  std::function<void()> before_;
};

// One frame through `n` stages that each record the CPUs their worker thread, and a thread it
// starts, may run on.
struct Seen {
  std::vector<std::vector<int>> worker, helper;
  std::vector<int> stats_cpu;
};

Seen run_one_frame(size_t n, const PipelineOptions& options) {
  Seen seen;
  seen.worker.resize(n);
  seen.helper.resize(n);
  std::mutex mutex;
  std::vector<std::unique_ptr<Executable>> stages;
  for (size_t i = 0; i < n; ++i) {
    const std::string in = i == 0 ? "x" : "t" + std::to_string(i);
    const std::string out = "t" + std::to_string(i + 1);
    stages.push_back(std::make_unique<CopyStage>(in, out, [&seen, &mutex, i] {
      std::vector<int> helper;
      std::thread([&helper] { helper = thread_cpus(); }).join();
      const std::lock_guard lock(mutex);
      seen.worker[i] = thread_cpus();
      seen.helper[i] = helper;
    }));
  }
  Pipeline pipeline(std::move(stages), options);
  const auto outputs = run_pipeline(pipeline, {{testing::tensor_value("x", {1, 2, 3, 4})}});
  EXPECT_EQ(outputs.size(), 1u);
  for (const StageStats& s : pipeline.stats()) seen.stats_cpu.push_back(s.cpu);
  return seen;
}

TEST(PipelineCores, PinnedStagesRunOnTheirCpuAndTheirThreadsInheritIt) {
  const std::vector<int> allowed = allowed_cpus();
  PipelineOptions options;
  // Each stage on a different allowed CPU, in turn.
  for (size_t i = 0; i < 3; ++i) options.stage_cpus.push_back(allowed[i % allowed.size()]);
  const Seen pinned = run_one_frame(3, options);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(pinned.worker[i], std::vector<int>{options.stage_cpus[i]}) << "stage " << i;
    EXPECT_EQ(pinned.helper[i], std::vector<int>{options.stage_cpus[i]}) << "stage " << i;
  }
  EXPECT_EQ(pinned.stats_cpu, options.stage_cpus);

  const Seen free = run_one_frame(3, PipelineOptions{});
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(free.worker[i], thread_cpus()) << "stage " << i;
  EXPECT_EQ(free.stats_cpu, (std::vector<int>{-1, -1, -1}));
  EXPECT_EQ(thread_cpus(), allowed);  // the caller's thread is left alone
}

TEST(PipelineCores, ACpuPerStageOrNone) {
  PipelineOptions two;
  two.stage_cpus = {0, 0};
  try {
    run_one_frame(3, two);
    FAIL() << "two CPUs for three stages were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 stage CPUs for 3 stages"), std::string::npos)
        << e.what();
  }
  // A CPU the kernel refuses (no such CPU) leaves that stage unbound and says so.
  PipelineOptions refused;
  refused.stage_cpus = {allowed_cpus()[0], CPU_SETSIZE - 1};
  const Seen seen = run_one_frame(2, refused);
  EXPECT_EQ(seen.stats_cpu, (std::vector<int>{allowed_cpus()[0], -1}));
  EXPECT_EQ(seen.worker[1], thread_cpus());
}

}  // namespace
}  // namespace pipecut
