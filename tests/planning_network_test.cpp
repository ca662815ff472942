// Planning for CPU workers on a network: the units, the op costs, the worker memory against the
// runtime's own arena, and the exact speed objectives and granularity table against exhaustive
// search over every subset of cuts of real models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/model_writer.h"
#include "pipecut/network_plan.h"
#include "pipecut/runtime.h"
#include "pipecut/zoo.h"
#include "support/test_support.h"
#include "support/zoo_cache.h"

namespace pipecut {
namespace {

using testing::coral_model;
using testing::fresh_dir;

const Model& zoo(const std::string& name) {
  return testing::zoo_model(name);
}

// The message of the Error `f` throws; fails the test when it throws nothing.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(NetworkUnits, Links) {
  const NetworkLink gbit = parse_network_link("1Gbit,0.3ms");
  EXPECT_DOUBLE_EQ(gbit.bits_per_second, 1e9);
  EXPECT_DOUBLE_EQ(gbit.latency_ms, 0.3);
  EXPECT_DOUBLE_EQ(gbit.transfer_ms(125'000), 0.3 + 1.0);  // a megabit takes a millisecond
  const NetworkLink slow = parse_network_link("100Mbit,1ms");
  EXPECT_DOUBLE_EQ(slow.bits_per_second, 1e8);
  EXPECT_DOUBLE_EQ(slow.latency_ms, 1);
  const NetworkLink bytes = parse_network_link("125MB/s,50us");
  EXPECT_DOUBLE_EQ(bytes.bits_per_second, 1e9);
  EXPECT_DOUBLE_EQ(bytes.latency_ms, 0.05);
  const NetworkLink spaced = parse_network_link(" 10 Gbit/s , 0.05 ms ");
  EXPECT_DOUBLE_EQ(spaced.bits_per_second, 1e10);
  EXPECT_EQ(parse_network_link("2.5Gbps,0s").text(), "2.5 Gbit/s, 0 ms");
  for (const char* bad : {"1Gbit", "usb3", "1Gbit,0.3ms,2", "fast,1ms", "1Gbit,soon", "1Gbx,1ms",
                          "1Gbit,1hour", "0Gbit,1ms", "1Gbit,-1ms", "1,1ms", "1Gbit,1"}) {
    const std::string message = error_of([&] { parse_network_link(bad); });
    EXPECT_EQ(message.rfind("--link: ", 0), 0u) << bad << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(NetworkUnits, MacRates) {
  EXPECT_DOUBLE_EQ(parse_mac_rate("20GMAC/s"), 20e9);
  EXPECT_DOUBLE_EQ(parse_mac_rate("500 MMAC/s"), 500e6);
  EXPECT_DOUBLE_EQ(parse_mac_rate("2.5e10"), 2.5e10);
  EXPECT_DOUBLE_EQ(parse_mac_rate("1TMACs/s"), 1e12);
  for (const char* bad : {"fast", "20GB/s", "0GMAC/s", "-1GMAC/s", "20XMAC/s"}) {
    EXPECT_EQ(error_of([&] { parse_mac_rate(bad); }).rfind("--mac-rate: ", 0), 0u) << bad;
  }
}

TEST(OpCosts, FromMacs) {
  const Model& m = zoo("resnet18");
  const auto macs = op_macs(m);
  const auto ms = op_ms_from_macs(m, 1e9);
  ASSERT_EQ(ms.size(), m.ops().size());
  for (const Op& op : m.ops()) {
    const size_t i = static_cast<size_t>(op.index);
    if (macs[i] > 0)
      EXPECT_DOUBLE_EQ(ms[i], static_cast<double>(macs[i]) / 1e6);
    else if (m.op_type(op) == "RESHAPE")
      EXPECT_EQ(ms[i], 0);
    else
      EXPECT_GT(ms[i], 0) << m.op_type(op);  // one per output element
  }
  // A weight per element scales the ops without MACs alone (serve's weights count 60).
  const auto weighed = op_ms_from_macs(m, 1e9, 60);
  for (const Op& op : m.ops()) {
    const size_t i = static_cast<size_t>(op.index);
    EXPECT_DOUBLE_EQ(weighed[i], macs[i] > 0 ? ms[i] : 60 * ms[i]) << m.op_type(op);
  }
  EXPECT_THROW(op_ms_from_macs(m, 1e9, -1), Error);
}

// A profile file as `run --profile --json` writes it, with one op changed by `edit`.
std::filesystem::path profile_file(
    const Model& m, const std::string& name,
    const std::function<void(std::string&, int&, std::string&, double&)>& edit = {}) {
  const auto path = fresh_dir("planning_network_costs") / name;
  std::ofstream out(path);
  out << "{\"model\": \"x\", \"profile\": {\"runs\": 1, \"model_ops\": " << m.ops().size()
      << ", \"ops\": [";
  for (const Op& op : m.ops()) {
    std::string type = m.op_type(op), output = m.tensor(op.outputs[0]).name;
    int index = op.index;
    double ms = 0.1 * (op.index + 1);
    if (edit && op.index == 3) edit(type, index, output, ms);
    out << (op.index ? "," : "") << "{\"op_index\": " << index << ", \"op_type\": \"" << type
        << "\", \"output\": \"" << output << "\", \"ms\": " << ms << "}";
  }
  out << "]}}\n";
  return path;
}

TEST(OpCosts, ReadsProfilesOfTheSameModelOnly) {
  const Model& m = zoo("resnet18");
  const auto ms = read_op_costs(profile_file(m, "good.json"), m);
  ASSERT_EQ(ms.size(), m.ops().size());
  EXPECT_DOUBLE_EQ(ms[5], 0.6);
  // Another model, a changed op, a bad time: one line naming the file.
  const Model& other = zoo("resnet50");
  const auto expect_refused = [&](const std::filesystem::path& path, const Model& model,
                                  const std::string& what) {
    const std::string message = error_of([&] { read_op_costs(path, model); });
    EXPECT_EQ(message.rfind(path.string() + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  };
  expect_refused(profile_file(m, "r18.json"), other, "ops");
  expect_refused(profile_file(m, "type.json",
                              [](std::string& type, int&, std::string&, double&) { type = "ADD"; }),
                 m, "op 3 is ADD");
  expect_refused(profile_file(m, "output.json",
                              [](std::string&, int&, std::string& out, double&) { out = "other"; }),
                 m, "'other'");
  expect_refused(profile_file(m, "index.json",
                              [](std::string&, int& index, std::string&, double&) { index = 999; }),
                 m, "op 999");
  expect_refused(profile_file(m, "negative.json",
                              [](std::string&, int&, std::string&, double& ms) { ms = -1; }),
                 m, "time");
  const auto dir = fresh_dir("planning_network_costs_bad");
  std::ofstream(dir / "text.json") << "not json";
  expect_refused(dir / "text.json", m, "not JSON");
  std::ofstream(dir / "empty.json") << "{\"profile\": {\"ops\": 3}}";
  expect_refused(dir / "empty.json", m, "--profile --json");
  expect_refused(dir / "missing.json", m, "cannot read");
}

// The ops [first, last] as a model of their own, with the tensors crossing its ends.
Model segment_model(const Model& m, const Graph& g, int first, int last) {
  SubmodelSpec spec;
  for (int i = first; i <= last; ++i) spec.ops.push_back(i);
  spec.inputs = first == 0 ? m.inputs() : live_after(m, g, first - 1);
  spec.outputs =
      last + 1 == static_cast<int>(m.ops().size()) ? m.outputs() : live_after(m, g, last);
  return Model::from_bytes(write_submodel(m, spec), "segment");
}

TEST(WorkerMemory, WeightsAddUpAndTheArenaIsCloseToTheRuntimes) {
  for (const std::string name : {"resnet18", "resnet50", "mobilenet_v2"}) {
    const Model& m = zoo(name);
    const Graph g(m);
    const WorkerMemory memory(m, g);
    const int last_op = static_cast<int>(m.ops().size()) - 1;
    const auto params = op_param_bytes(m);
    EXPECT_EQ(memory.weight_bytes(0, last_op),
              std::accumulate(params.begin(), params.end(), int64_t{0}));
    // Segments between the usable cuts: every third candidate as a boundary.
    std::vector<int> bounds = {-1};
    const auto candidates = find_cut_candidates(m, g, {1, false});
    for (size_t i = 0; i < candidates.size(); i += 3) bounds.push_back(candidates[i].position);
    bounds.push_back(last_op);
    double lowest = 1e9, highest = 0;
    for (size_t s = 0; s + 1 < bounds.size(); ++s) {
      const int first = bounds[s] + 1, last = bounds[s + 1];
      if (first > last) continue;
      const Model segment = segment_model(m, g, first, last);
      const auto exec = load_cpu(segment);
      const double runtime = static_cast<double>(cpu_plan_stats(*exec).arena_bytes);
      const double estimate = static_cast<double>(memory.arena_bytes(first, last));
      lowest = std::min(lowest, estimate / runtime);
      highest = std::max(highest, estimate / runtime);
    }
    std::printf("%s: arena estimate / runtime arena over %zu segments: %.2f .. %.2f\n",
                name.c_str(), bounds.size() - 1, lowest, highest);
    EXPECT_GT(lowest, 0.6) << name;  // the runtime adds kernel scratch the estimate cannot see
    EXPECT_LT(highest, 1.1) << name;
  }
}

// Every usable cut of a CPU plan, for exhaustive search.
struct Cuts {
  std::vector<CutCandidate> usable;
  explicit Cuts(const Model& m, const Graph& g) {
    for (auto& c : find_cut_candidates(m, g, {1, false}))
      if (c.usable()) usable.push_back(c);
  }
  SplitPlan plan(const std::vector<int>& chosen) const {
    SplitPlan p;
    for (int i : chosen) {
      p.cut_positions.push_back(usable[static_cast<size_t>(i)].position);
      p.cut_tensors.push_back(usable[static_cast<size_t>(i)].tensors);
    }
    p.sizes.assign(p.cut_positions.size() + 1, 0);
    return p;
  }
  // Calls `f` with every ascending choice of at most `most` cuts.
  void each(size_t most, const std::function<void(const std::vector<int>&)>& f) const {
    std::vector<int> chosen;
    const std::function<void(int)> grow = [&](int from) {
      f(chosen);
      if (chosen.size() == most) return;
      for (int i = from; i < static_cast<int>(usable.size()); ++i) {
        chosen.push_back(i);
        grow(i + 1);
        chosen.pop_back();
      }
    };
    grow(0);
  }
};

bool fits(const Model& m, const SplitPlan& p, const SpeedModel& speed) {
  const int ops = static_cast<int>(m.ops().size());
  for (size_t i = 0; i <= p.cut_positions.size(); ++i) {
    const int first = i == 0 ? 0 : p.cut_positions[i - 1] + 1;
    const int last = i == p.cut_positions.size() ? ops - 1 : p.cut_positions[i];
    if (speed.memory_bytes(first, last) > speed.memory_limit) return false;
  }
  return true;
}

SplitOptions cpu_options(const Model& m, const SpeedModel& speed) {
  SplitOptions o;
  o.candidates = {1, false};
  const auto params = op_param_bytes(m);
  o.high = std::accumulate(params.begin(), params.end(), int64_t{0});
  o.speed = speed;
  return o;
}

// Random op times, links and worker memories on real models: the latency plan and every row of
// the granularity table against exhaustive search (zoo ResNet-18: all 2^14 subsets of its cuts;
// MobileNet v1: its 30 cuts taken up to 3 at a time, so rows K = 1..4 only), and the knee.
TEST(NetworkPlan, SpeedObjectivesMatchExhaustiveSearchOnRealModels) {
  struct Case {
    std::string name;
    Model model;
    size_t most_cuts;  // subsets searched: up to this many cuts
  };
  std::vector<Case> cases;
  cases.push_back({"zoo resnet18", Model::from_bytes(build_zoo_model("resnet18"), "resnet18"), 64});
  const auto mobilenet = coral_model("mobilenet_v1_0.25_128_quant.tflite");
  if (std::filesystem::exists(mobilenet))
    cases.push_back({"mobilenet_v1", Model::load(mobilenet), 3});
  std::mt19937 rng(11);
  int checked = 0, feasible_rows = 0, infeasible_rows = 0;
  for (const Case& c : cases) {
    const Model& m = c.model;
    const Graph g(m);
    const Cuts cuts(m, g);
    const bool all = c.most_cuts >= cuts.usable.size();
    ASSERT_TRUE(!all || cuts.usable.size() <= 16) << c.name;
    const WorkerMemory memory(m, g);
    const int64_t whole = memory.bytes(0, static_cast<int>(m.ops().size()) - 1);
    for (int trial = 0; trial < 6; ++trial) {
      NetworkTarget target;
      for (size_t i = 0; i < m.ops().size(); ++i)
        target.op_ms.push_back(static_cast<double>(rng() % 1000) / 100.0);
      target.link.bits_per_second = std::pow(10.0, 7 + static_cast<double>(rng() % 4));
      target.link.latency_ms = static_cast<double>(rng() % 20) / 10.0;
      target.worker_memory = whole * (30 + static_cast<int64_t>(rng() % 70)) / 100;
      const SpeedModel speed = network_speed_model(m, g, target);
      SplitOptions options = cpu_options(m, speed);
      const size_t k_max = std::min(cuts.usable.size(), c.most_cuts) + 1;
      double best_latency = INFINITY;
      std::vector<double> best_slowest(k_max + 1, INFINITY);
      cuts.each(c.most_cuts, [&](const std::vector<int>& chosen) {
        const SplitPlan p = cuts.plan(chosen);
        if (!fits(m, p, speed)) return;
        const PlanTiming t = time_plan(m, p, speed);
        best_latency = std::min(best_latency, t.latency_ms);
        double& slot = best_slowest[chosen.size() + 1];
        slot = std::min(slot, t.bottleneck_ms);
      });
      if (all) {
        options.algorithm = Algorithm::kLatency;
        if (best_latency == INFINITY) {
          EXPECT_THROW(plan_split(m, g, options), Error);
        } else {
          const SplitPlan p = plan_split(m, g, options);
          EXPECT_TRUE(fits(m, p, speed));
          EXPECT_NEAR(time_plan(m, p, speed).latency_ms, best_latency, 1e-9) << c.name << trial;
          ++checked;
        }
      }
      const Granularity table = plan_granularity(m, g, options, static_cast<int>(k_max));
      EXPECT_EQ(table.usable_cuts, static_cast<int>(cuts.usable.size()));
      ASSERT_EQ(table.rows.size(), k_max);
      double best_any = INFINITY;
      for (const GranularityRow& row : table.rows) {
        const size_t k = static_cast<size_t>(row.segments);
        EXPECT_EQ(row.plan.sizes.size(), k);
        EXPECT_EQ(row.feasible, best_slowest[k] != INFINITY) << c.name << " K " << k;
        EXPECT_EQ(row.feasible, row.max_worker_bytes <= target.worker_memory);
        ++(row.feasible ? feasible_rows : infeasible_rows);
        if (row.feasible) {
          EXPECT_NEAR(row.timing.bottleneck_ms, best_slowest[k], 1e-9) << c.name << " K " << k;
          best_any = std::min(best_any, best_slowest[k]);
        }
        ++checked;
      }
      // The knee: the fewest segments within 5 % of the best feasible slowest stage.
      if (best_any == INFINITY) {
        EXPECT_EQ(table.knee, -1);
        continue;
      }
      ASSERT_GE(table.knee, 0);
      size_t expected = 1;
      while (best_slowest[expected] > best_any * (1 + kKneeTolerance)) ++expected;
      EXPECT_EQ(table.rows[static_cast<size_t>(table.knee)].segments, static_cast<int>(expected));
      // split --objective throughput without --segments takes the knee.
      options.algorithm = Algorithm::kThroughput;
      options.max_segments = static_cast<int>(k_max);
      const SplitPlan knee = plan_split(m, g, options);
      EXPECT_EQ(knee.sizes.size(), expected);
      EXPECT_NEAR(time_plan(m, knee, speed).bottleneck_ms, best_slowest[expected], 1e-9);
    }
  }
  EXPECT_GT(checked, 100);
  EXPECT_GT(feasible_rows, 20);  // the memory limit both binds and leaves room
  EXPECT_GT(infeasible_rows, 5);
}

TEST(NetworkPlan, MemoryLimitErrorsSayWhy) {
  const Model& m = zoo("resnet18");
  const Graph g(m);
  NetworkTarget target;
  target.op_ms = op_ms_from_macs(m, 20e9);
  target.worker_memory = 1 << 20;  // 1 MiB: no segment of resnet18 fits
  SplitOptions options = cpu_options(m, network_speed_model(m, g, target));
  options.algorithm = Algorithm::kLatency;
  EXPECT_NE(error_of([&] { plan_split(m, g, options); }).find("keeps every worker within 1.00 MiB"),
            std::string::npos);
  options.algorithm = Algorithm::kThroughput;
  options.max_segments = 4;
  const std::string message = error_of([&] { plan_split(m, g, options); });
  EXPECT_NE(message.find("into 1..4 segments"), std::string::npos) << message;
  const Granularity table = plan_granularity(m, g, options, 4);
  ASSERT_EQ(table.rows.size(), 4u);
  EXPECT_EQ(table.knee, -1);
  for (const auto& row : table.rows) EXPECT_FALSE(row.feasible);
}

TEST(NetworkPlan, SlowerLinksChooseFewerWorkers) {
  const Model& m = zoo("resnet50");
  const Graph g(m);
  std::vector<int> knees;
  for (const char* link : {"100Mbit,1ms", "1Gbit,0.3ms", "10Gbit,0.05ms"}) {
    NetworkTarget target;
    target.op_ms = op_ms_from_macs(m, 20e9);
    target.link = parse_network_link(link);
    target.worker_memory = 16 << 20;
    const SplitOptions options = cpu_options(m, network_speed_model(m, g, target));
    const Granularity table = plan_granularity(m, g, options, 16);
    ASSERT_GE(table.knee, 0) << link;
    knees.push_back(table.rows[static_cast<size_t>(table.knee)].segments);
    // More segments never cross fewer bytes on the wire than one.
    EXPECT_EQ(table.rows.front().wire_bytes, 0);
  }
  EXPECT_LE(knees[0], knees[1]);
  EXPECT_LE(knees[1], knees[2]);
  EXPECT_LT(knees[0], knees[2]);
}

}  // namespace
}  // namespace pipecut
