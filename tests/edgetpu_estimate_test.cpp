// The Edge TPU estimate against real compiler reports and latencies measured on hardware
// (../shared/edgetpu-data): every model and segment there is rebuilt with the zoo's stack
// builders and estimated; the errors per family and regime must stay within the goals of
// docs/estimate.md. Also the simulator against Coral's published single-TPU latencies.
#include "pipecut/edgetpu_estimate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "pipecut/edgetpu_simulate.h"
#include "pipecut/graph.h"
#include "pipecut/planner.h"
#include "pipecut/slicer.h"
#include "pipecut/zoo.h"

namespace pipecut {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

using Row = std::map<std::string, std::string>;

// RFC 4180 lines: fields may be quoted and hold commas.
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

std::vector<Row> read_csv(const std::string& name) {
  std::ifstream in(std::string(PIPECUT_SHARED_DIR) + "/edgetpu-data/" + name);
  if (!in) throw std::runtime_error("missing edgetpu-data/" + name);
  std::string line;
  std::getline(in, line);
  const auto header = csv_fields(line);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto fields = csv_fields(line);
    if (fields.size() != header.size())
      throw std::runtime_error("bad row in " + name + ": " + line);
    Row row;
    for (size_t i = 0; i < header.size(); ++i) row[header[i]] = fields[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

// The model of a row's segment (its layers seg_layers of model_kind), as the README describes.
std::vector<uint8_t> build_row_model(const Row& r) {
  const std::string kind = r.at("model_kind");
  const int value = std::stoi(r.at("value"));
  const std::string range = r.at("seg_layers");
  const int first = std::stoi(range.substr(0, range.find('-')));
  const int last = std::stoi(range.substr(range.find('-') + 1));
  if (kind.rfind("conv3x3same_relu_in64x64x3_L", 0) == 0) {
    const int channels = first == 1 ? 3 : value;
    return build_conv_stack(64, 64, channels, last - first + 1, value);
  }
  std::vector<int> dims;  // every layer's input width, then the last output
  if (kind.rfind("dense_tanh_in6912_N_then_", 0) == 0) {
    const int k = std::stoi(kind.substr(std::string("dense_tanh_in6912_N_then_").size()));
    dims = {6912, value};
    for (int i = 0; i <= k; ++i) dims.push_back(10);
  } else {
    const int in = std::stoi(kind.substr(std::string("dense_tanh_in").size()));
    const int hidden = std::stoi(kind.substr(kind.find("_H") + 2));
    dims = {in};
    for (int i = 0; i < hidden; ++i) dims.push_back(value);
    dims.push_back(10);
  }
  const int layers = static_cast<int>(dims.size()) - 1;
  const std::vector<int> widths(dims.begin() + first - 1, dims.begin() + last + 1);
  return build_dense_stack(widths, /*tanh_after_last=*/last < layers);
}

struct Errors {
  std::vector<double> values;
  void add(double e) { values.push_back(e); }
  double quantile(double q) {
    std::sort(values.begin(), values.end());
    return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
  }
};

class Calibration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* file : {"conv.csv", "fc.csv"}) {
      for (auto& r : read_csv(file)) rows_.push_back(std::move(r));
    }
    for (const auto& r : rows_) {
      const std::string key = r.at("model_kind") + "/" + r.at("value") + "/" + r.at("seg_layers");
      if (estimates_.count(key)) continue;
      const Model model = Model::from_bytes(build_row_model(r), key);
      estimates_[key] = estimate_edgetpu(model);
    }
  }
  static const EdgeTpuEstimate& estimate(const Row& r) {
    return estimates_.at(r.at("model_kind") + "/" + r.at("value") + "/" + r.at("seg_layers"));
  }
  static inline std::vector<Row> rows_;
  static inline std::map<std::string, EdgeTpuEstimate> estimates_;
};

TEST_F(Calibration, MemoryPerFamilyAndRegime) {
  std::map<std::string, Errors> total, off;
  int split_right = 0, split_rows = 0;
  for (const auto& r : rows_) {
    const auto& e = estimate(r);
    const double on = std::stod(r.at("on_chip_mib")) * kMiB;
    if (r.at("off_chip_mib").empty()) continue;  // the compiler's off-chip line was not recorded
    const double real_off = std::stod(r.at("off_chip_mib")) * kMiB;
    const std::string key = r.at("family") + (real_off > 0 ? " streamed" : " cached");
    total[key].add(std::abs(static_cast<double>(e.param_bytes) - (on + real_off)) /
                   (on + real_off));
    ++split_rows;
    if ((e.off_chip_bytes > 0) == (real_off > 0)) ++split_right;
    if (real_off > 0)
      off[key].add(std::abs(static_cast<double>(e.off_chip_bytes) - real_off) / real_off);
  }
  ASSERT_GT(split_rows, 1000);
  for (auto& [key, errors] : total) {
    EXPECT_LE(errors.quantile(0.99), 0.02) << key << ": total parameter MiB within 2 %";
    std::cout << key << ": parameter MiB error median " << errors.quantile(0.5) * 100 << " %, p99 "
              << errors.quantile(0.99) * 100 << " %, n " << errors.values.size() << "\n";
  }
  for (auto& [key, errors] : off) {
    EXPECT_LE(errors.quantile(0.9), 0.10) << key << ": off-chip MiB within 10 % in 9 of 10 rows";
    std::cout << key << ": off-chip MiB error median " << errors.quantile(0.5) * 100 << " %, p90 "
              << errors.quantile(0.9) * 100 << " %\n";
  }
  EXPECT_GE(static_cast<double>(split_right) / split_rows, 0.97)
      << split_right << " of " << split_rows << " rows with the on/off-chip split right";
  std::cout << "on/off-chip split right in " << split_right << " of " << split_rows << " rows\n";
}

TEST_F(Calibration, SingleTpuLatencyPerFamilyAndRegime) {
  std::map<std::string, Errors> errors;
  for (const auto& r : rows_) {
    if (r.at("quality") != "ok" || r.at("segments") != "1" || r.at("latency_scope") != "model" ||
        r.at("latency_ms").empty() || r.at("latency_kind").rfind("single_tpu", 0) != 0)
      continue;
    const auto& e = estimate(r);
    const double real = std::stod(r.at("latency_ms"));
    const std::string key = r.at("family") + (e.off_chip_bytes > 0 ? " streamed" : " cached");
    errors[key].add(std::abs(e.latency.total() - real) / real);
  }
  ASSERT_EQ(errors.size(), 4u);
  for (auto& [key, e] : errors) {
    std::cout << key << ": latency error median " << e.quantile(0.5) * 100 << " %, p90 "
              << e.quantile(0.9) * 100 << " %, n " << e.values.size() << "\n";
    EXPECT_LE(e.quantile(0.5), 0.15) << key << ": median single-TPU latency error";
  }
}

TEST_F(Calibration, TwoTpuPipelines) {
  // Rows of one measurement share dataset, value, kind and latency; one row per segment. Rows the
  // data flag as outliers (sub-millisecond FC pipelines whose times jump by milliseconds with the
  // host's threads, README) are left out, and so are fresh-runner runs of a single input: the
  // same model measured that way in two sweeps differs by a third (65.5 and 87.2 ms).
  std::map<std::string, std::vector<const Row*>> runs;
  for (const auto& r : rows_) {
    if (r.at("segments") != "2" || r.at("quality") != "ok" || r.at("latency_ms").empty()) continue;
    const bool fresh = r.at("latency_kind").rfind("pipeline_stream_per_item_fresh", 0) == 0;
    if (fresh && (r.at("batch").empty() || std::stoi(r.at("batch")) < 10)) continue;
    if (!r.at("flag_latency_outlier").empty()) continue;
    runs[r.at("dataset") + "|" + r.at("value") + "|" + r.at("latency_kind") + "|" +
         r.at("latency_ms")]
        .push_back(&r);
  }
  std::map<std::string, Errors> errors;
  for (const auto& [key, rows] : runs) {
    if (rows.size() != 2) continue;
    std::vector<PipelineStageInput> stages(2);
    bool streams = false;
    for (const Row* r : rows) {
      const int index = std::stoi(r->at("segment_index"));
      stages[static_cast<size_t>(index)] = {"seg" + std::to_string(index + 1), estimate(*r)};
      streams = streams || estimate(*r).off_chip_bytes > 0;
    }
    const auto sim = simulate_pipeline(stages, EdgeTpuDevice{}, SimulationOptions{});
    const std::string kind = rows[0]->at("latency_kind");
    const double real = std::stod(rows[0]->at("latency_ms"));
    // `batch` inputs pushed back to back: the first takes the latency, each other one a period.
    const bool one_item = kind == "pipeline_one_item_latency_median";
    const int batch =
        one_item || rows[0]->at("batch").empty() ? 1 : std::stoi(rows[0]->at("batch"));
    const double predicted = (sim.latency_ms + (batch - 1) * sim.period_ms) / batch;
    const bool fresh = kind.rfind("pipeline_stream_per_item_fresh", 0) == 0;
    const std::string measure = batch == 1 ? "one input at a time"
                                : fresh    ? "a stream through a fresh runner, time per frame"
                                           : "a stream, time per frame";
    errors[rows[0]->at("family") + (streams ? " streamed, " : " cached, ") + measure].add(
        std::abs(predicted - real) / real);
  }
  ASSERT_EQ(errors.size(), 10u) << "conv and fc, cached and streamed, one input and a stream, "
                                   "and conv streams through a fresh runner";
  for (auto& [key, e] : errors) {
    std::cout << key << ": error median " << e.quantile(0.5) * 100 << " %, p90 "
              << e.quantile(0.9) * 100 << " %, worst " << e.quantile(1.0) * 100 << " %, n "
              << e.values.size() << "\n";
    if (key == "fc streamed, one input at a time") {
      // Known gap (docs/simulate.md): these take a steady 3.7 ms more than both invokes and
      // three host hops, which the streamed stream of the same models does not show.
      EXPECT_LE(e.quantile(0.5), 0.20) << key;
    } else {
      EXPECT_LE(e.quantile(0.5), 0.15) << key;
    }
  }
}

TEST(EdgeTpuPublished, ZooModelsWithinAQuarterOfCoralsFigures) {
  // Coral's published single-TPU latencies over USB 3 (coral.ai/docs/edgetpu/benchmarks), on the
  // zoo's model of each architecture at the input size Coral measured. The zoo's ResNet-152 is
  // v1; it stands in for the v2 Coral measured.
  struct Published {
    std::string name;
    int input_size;
    double ms;
  };
  const std::vector<Published> published = {{"mobilenet_v2", 0, 2.6},
                                            {"resnet50", 299, 49.0},
                                            {"resnet152", 299, 128.0},
                                            {"vgg16", 0, 296.0},
                                            {"inception_v4", 0, 85.0}};
  const EdgeTpuDevice coral_host = edgetpu_device("usb3-coral");
  // For the fit of Coral's streaming rate: each model's time but streaming, and its MiB streamed.
  std::vector<double> rest, mib, real;
  for (const auto& p : published) {
    ZooOptions options;
    options.input_size = p.input_size;
    const Model model = Model::from_bytes(build_zoo_model(p.name, options), p.name);
    const auto lab = estimate_edgetpu(model);
    const auto coral = estimate_edgetpu(model, coral_host);
    const double error = std::abs(coral.latency.total() - p.ms) / p.ms;
    std::cout << p.name << ": estimated " << coral.latency.total() << " ms on Coral's host ("
              << lab.latency.total() << " ms on the calibration host), published " << p.ms
              << " ms, error " << error * 100 << " %\n";
    EXPECT_LE(error, 0.25) << p.name;
    EXPECT_EQ(coral.ops_on_cpu, 0) << p.name << " maps whole";
    EXPECT_EQ(coral.off_chip_bytes, lab.off_chip_bytes) << "the host changes no caching";
    if (lab.off_chip_bytes > 0) {
      // Why the host has a profile of its own: at the calibration host's rate every model that
      // streams comes out slower than Coral measured it.
      EXPECT_GT(lab.latency.total(), p.ms) << p.name;
      rest.push_back(lab.latency.total() - lab.latency.stream);
      mib.push_back(static_cast<double>(lab.off_chip_bytes) / kMiB);
      real.push_back(p.ms);
    }
  }
  ASSERT_EQ(rest.size(), 4u) << "ResNet-50, ResNet-152, VGG16 and Inception v4 stream";
  // Least squares on the relative error of rest + MiB x rate, leaving out model `skip` (or none).
  const auto fit = [&](size_t skip) {
    double num = 0, den = 0;
    for (size_t i = 0; i < rest.size(); ++i) {
      if (i == skip) continue;
      const double a = mib[i] / real[i], b = (real[i] - rest[i]) / real[i];
      num += a * b;
      den += a * a;
    }
    return num / den;
  };
  // The constant is this fit, rounded.
  EXPECT_NEAR(fit(rest.size()), kCoralHostStreamMsPerMib, 0.05);
  // Left out of the fit, each streamed model is still predicted within 12 % (docs/estimate.md),
  // by a rate within 5 % of the constant.
  for (size_t i = 0; i < rest.size(); ++i) {
    const double rate = fit(i);
    const double error = std::abs(rest[i] + mib[i] * rate - real[i]) / real[i];
    std::cout << "left out: model " << i << " at " << rate << " ms/MiB, error " << error * 100
              << " %\n";
    EXPECT_LE(error, 0.12) << "model " << i << " left out of the fit";
    EXPECT_NEAR(rate, kCoralHostStreamMsPerMib, 0.05 * kCoralHostStreamMsPerMib) << i;
  }
}

TEST(EdgeTpuEstimate, CpuFallbackAfterTheFirstUnsupportedOp) {
  // The Coral LSTM test model has ops the Edge TPU cannot run; everything after the first of
  // them must be on the CPU and the reason said.
  const Model model =
      Model::load(std::string(PIPECUT_SHARED_DIR) + "/models/coral/keras_lstm_mnist_ptq.tflite");
  const auto e = estimate_edgetpu(model);
  ASSERT_GT(e.ops_on_cpu, 0);
  bool seen_cpu_after_tpu = false, seen_tpu = false;
  for (const auto& op : e.ops) {
    if (op.on_tpu) {
      EXPECT_FALSE(seen_cpu_after_tpu) << "op " << op.op << " mapped after a CPU op";
      seen_tpu = true;
    } else {
      EXPECT_FALSE(op.cpu_reason.empty());
      if (seen_tpu) seen_cpu_after_tpu = true;
    }
  }
  EXPECT_EQ(e.ops_on_tpu + e.ops_on_cpu, static_cast<int>(model.ops().size()));
  EXPECT_LE(e.subgraphs, 1);
}

TEST(EdgeTpuEstimate, ResNet50FirstSegmentMatchesTheCompilersReport) {
  // ../shared/edgetpu-logs/v16-resnet50-segment1.stdout.txt: a Keras ResNet50 cut after
  // conv3_block4_out (34 ops), "On-chip memory used for caching model parameters: 1.41MiB".
  const Model full = Model::from_bytes(build_zoo_model("resnet50"), "resnet50");
  const auto e = estimate_edgetpu(full);
  int64_t bytes = 0;
  int ops = 0;
  for (const auto& op : e.ops) {
    bytes += op.param_bytes;
    ++ops;
    if (op.layer == "conv3_block4_out") break;
  }
  EXPECT_EQ(ops, 34);
  EXPECT_NEAR(static_cast<double>(bytes) / kMiB, 1.41, 0.005);
}

}  // namespace
}  // namespace pipecut

namespace pipecut {
namespace {

TEST(EdgeTpuPlanning, ThroughputSplitOfResNet101IsNoSlowerThanTheSizePlans) {
  const Model model = Model::from_bytes(build_zoo_model("resnet101"), "resnet101");
  const Graph graph(model);
  SplitOptions options;
  options.high = 7 << 20;
  options.low = 2 << 20;
  options.speed = edgetpu_speed_model(model, EdgeTpuDevice{});
  std::map<Algorithm, PlanTiming> timing;
  for (Algorithm a : {Algorithm::kOptimal, Algorithm::kBalanced, Algorithm::kGreedy,
                      Algorithm::kThroughput, Algorithm::kLatency}) {
    options.algorithm = a;
    timing[a] = time_plan(model, plan_split(model, graph, options), options.speed);
  }
  for (Algorithm a : {Algorithm::kOptimal, Algorithm::kBalanced, Algorithm::kGreedy}) {
    EXPECT_LE(timing[Algorithm::kThroughput].bottleneck_ms, timing[a].bottleneck_ms + 1e-9)
        << algorithm_name(a);
    EXPECT_LE(timing[Algorithm::kLatency].latency_ms, timing[a].latency_ms + 1e-9)
        << algorithm_name(a);
  }
  // The planner's figures are what the simulator says of the same segments as files of their own.
  options.algorithm = Algorithm::kThroughput;
  const SplitPlan plan = plan_split(model, graph, options);
  EXPECT_EQ(plan.method, "throughput");
  std::vector<PipelineStageInput> stages;
  for (const SegmentPlan& segment : plan_segments(model, graph, plan.cut_positions)) {
    const Model file = Model::from_bytes(write_segment(model, segment), "segment");
    stages.push_back({"segment", estimate_edgetpu(file)});
  }
  const auto sim = simulate_pipeline(stages, EdgeTpuDevice{}, SimulationOptions{});
  EXPECT_NEAR(sim.period_ms, timing[Algorithm::kThroughput].bottleneck_ms, 1e-6);
  EXPECT_NEAR(sim.latency_ms, timing[Algorithm::kThroughput].latency_ms, 1e-6);
}

TEST(EdgeTpuSimulate, FilesSharingATpuCountEachHandOffOnce) {
  // Three files of 4, 6 and 2 ms, each 1 MiB cached and handing on 0.5 MiB.
  std::vector<PipelineStageInput> stages;
  for (double ms : {4.0, 6.0, 2.0}) {
    EdgeTpuEstimate e;
    e.latency.compute = ms;
    e.on_chip_bytes = int64_t{1} << 20;
    e.output_bytes = int64_t{1} << 19;
    stages.push_back({"f" + std::to_string(static_cast<int>(ms)), e});
  }
  const EdgeTpuDevice device;
  const SimulationOptions base;
  const double hop = base.host_hop_ms, hand = base.handoff_ms + 0.5 * base.handoff_ms_per_mib;
  const double reload = device.stream_ms_per_mib;
  // One TPU each: the busiest stage with its hops on both sides.
  const auto each = simulate_pipeline(stages, device, base);
  EXPECT_NEAR(each.period_ms, hand + 6.0 + hand, 1e-9);
  EXPECT_EQ(each.bottleneck, 1);
  EXPECT_NEAR(each.latency_ms, 2 * hop + 12.0 + 2 * hand, 1e-9);
  // One TPU for all: a frame keeps it busy for exactly one input's latency, reloads included.
  SimulationOptions one = base;
  one.tpus = 1;
  const auto alone = simulate_pipeline(stages, device, one);
  EXPECT_NEAR(alone.period_ms, alone.latency_ms, 1e-9);
  EXPECT_NEAR(alone.latency_ms, 2 * hop + 12.0 + 3 * reload + 2 * hand, 1e-9);
  // Two TPUs: the split that balances them best, {4} and {6, 2} or {4, 6} and {2}.
  SimulationOptions two = base;
  two.tpus = 2;
  const auto pair = simulate_pipeline(stages, device, two);
  const double first_alone =
      std::max(hop + 4.0 + hand, hand + 6.0 + reload + hand + 2.0 + reload + hop);
  const double last_alone =
      std::max(hop + 4.0 + reload + hand + 6.0 + reload + hand, hand + 2.0 + hop);
  EXPECT_NEAR(pair.period_ms, std::min(first_alone, last_alone), 1e-9);
  // The timeline agrees with the period: frame k+1 leaves the busiest TPU one period later.
  for (const auto* sim : {&each, &alone, &pair}) {
    std::vector<double> last_end(static_cast<size_t>(sim->stages.size()), -1);
    double gap = 0;
    for (const auto& span : sim->timeline) {
      if (span.frame >= 4 && span.stage == sim->bottleneck) {
        gap = span.end_ms - last_end[static_cast<size_t>(span.stage)];
      }
      last_end[static_cast<size_t>(span.stage)] = span.end_ms;
    }
    EXPECT_NEAR(gap, sim->period_ms, 1e-9) << sim->tpus << " TPUs";
  }
}

}  // namespace
}  // namespace pipecut
