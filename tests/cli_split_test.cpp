// The acceptance of `split` on every real and zoo model, through the library and the binary:
// trees that read back, every op once, identical boundaries, parameters that add up, the
// published ResNet-101 greedy result, and clean failures on bad input.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/layout.h"
#include "pipecut/zoo.h"
#include "support/cli_support.h"
#include "support/published_cuts.h"
#include "support/test_support.h"
#include "support/zoo_cache.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::coral_model;
using testing::read_json;
using testing::run_cli;

const Model& zoo(const std::string& name) {
  return testing::zoo_model(name);
}

int64_t total_params(const Model& m) {
  int64_t total = 0;
  for (int64_t b : op_param_bytes(m)) total += b;
  return total;
}

// The smallest HIGH any partition can meet: the largest piece between usable candidates.
int64_t smallest_feasible_high(const Model& m, const Graph& g) {
  int64_t previous = 0, largest = 0;
  for (const auto& c : find_cut_candidates(m, g)) {
    if (!c.usable()) continue;
    largest = std::max(largest, c.params_before - previous);
    previous = c.params_before;
  }
  return std::max(largest, total_params(m) - previous);
}

void expect_same_boundary(const nlohmann::json& a, const nlohmann::json& b) {
  EXPECT_EQ(a["name"], b["name"]);
  EXPECT_EQ(a["shape"], b["shape"]);
  EXPECT_EQ(a["type"], b["type"]);
  EXPECT_EQ(a["quantization"], b["quantization"]);
}

// Reads a written tree back and checks it against the source model.
void check_tree(const Model& m, const fs::path& dir, int segments) {
  const auto full = read_json(dir / "full_split" / "meta.json");
  ASSERT_EQ(static_cast<int>(full["files"].size()), segments);
  EXPECT_EQ(full["source"]["hash"], content_hash(m.bytes()));
  EXPECT_EQ(full["source"]["hash"].get<std::string>().rfind("xxh3_128:", 0), 0u);
  int next_op = 0;
  int64_t params = 0;
  std::map<std::string, nlohmann::json> boundary;  // tensor name -> as the producer wrote it
  for (int t : m.inputs()) boundary[m.tensor(t).name] = nullptr;
  for (const auto& f : full["files"]) {
    EXPECT_EQ(f["ops"]["first"].get<int>(), next_op);
    next_op = f["ops"]["last"].get<int>() + 1;
    params += f["param_bytes"].get<int64_t>();
    const fs::path file = dir / "full_split" / f["file"].get<std::string>();
    const auto bytes = read_file(file);
    EXPECT_EQ(content_hash(bytes), f["hash"]);
    EXPECT_EQ(static_cast<int64_t>(bytes.size()), f["file_bytes"].get<int64_t>());
    const Model seg = Model::from_bytes(bytes, file.string());  // passes our own reader
    EXPECT_EQ(static_cast<int>(seg.ops().size()), f["ops"]["count"].get<int>());
    for (const auto& in : f["inputs"]) {
      const std::string name = in["name"];
      ASSERT_TRUE(boundary.count(name)) << name << " is read before it is made";
      if (!boundary[name].is_null()) expect_same_boundary(boundary[name], in);
      // ... and the file itself carries the same tensor.
      bool found = false;
      for (int t : seg.inputs()) {
        if (seg.tensor(t).name != name) continue;
        found = true;
        EXPECT_EQ(seg.tensor(t).shape, in["shape"].get<std::vector<int32_t>>());
      }
      EXPECT_TRUE(found) << name;
    }
    for (const auto& out : f["outputs"]) boundary[out["name"].get<std::string>()] = out;
  }
  EXPECT_EQ(next_op, static_cast<int>(m.ops().size()));
  EXPECT_EQ(params, total_params(m));
  for (int k = 2; k <= segments; ++k) {
    const fs::path folder = dir / ("pairs_k" + std::to_string(k));
    const auto meta = read_json(folder / "meta.json");
    ASSERT_EQ(static_cast<int>(meta["files"].size()), k);
    const auto& tail = meta["files"][static_cast<size_t>(k - 1)];
    EXPECT_EQ(tail["role"], "tail");
    EXPECT_EQ(tail["file"], "tflite/tail_seg" + std::to_string(k) + "_to_" +
                                std::to_string(segments) + "_int8.tflite");
    EXPECT_EQ(tail["ops"]["last"].get<int>(), static_cast<int>(m.ops().size()) - 1);
    // Prefix segments are byte-identical to full_split's.
    for (int s = 0; s + 1 < k; ++s)
      EXPECT_EQ(meta["files"][static_cast<size_t>(s)]["hash"],
                full["files"][static_cast<size_t>(s)]["hash"]);
    Model::load(folder / tail["file"].get<std::string>());
    EXPECT_TRUE(fs::exists(folder / "note.txt"));
  }
  EXPECT_FALSE(fs::exists(dir / ("pairs_k" + std::to_string(segments + 1))));
}

void split_and_check(const Model& m, const std::string& label, const SplitOptions& options) {
  const Graph g(m);
  const SplitPlan plan = plan_split(m, g, options);
  const fs::path dir = testing::fresh_dir("split-" + label) / "out";
  TreeOptions tree;
  write_split_tree(m, g, plan, dir, tree);
  check_tree(m, dir, static_cast<int>(plan.sizes.size()));
  if (options.algorithm == Algorithm::kOptimal) {
    for (int64_t s : plan.sizes) {
      EXPECT_LE(s, options.high);
      EXPECT_GE(s, options.low);
    }
  } else if (options.algorithm == Algorithm::kGreedy) {
    // The published greedy's last resort widens the window (resnet152_cifar at 7 MiB: 7.48 MiB
    // segments where optimal fits 6.41); it then says so, and keeps to the window it used.
    bool inside = true;
    for (int64_t s : plan.sizes) {
      inside = inside && s <= options.high && s >= options.low;
      EXPECT_LE(s, plan.partition.high);
      EXPECT_GE(s, plan.partition.low);
    }
    EXPECT_EQ(inside, plan.partition.within_window);
  }
}

TEST(Split, EveryRealModelWithEveryAlgorithm) {
  for (const std::string& file : testing::coral_splittable_models()) {
    const Model m = Model::load(coral_model(file));
    const Graph g(m);
    for (Algorithm a : {Algorithm::kGreedy, Algorithm::kOptimal, Algorithm::kBalanced}) {
      SCOPED_TRACE(file + " " + algorithm_name(a));
      SplitOptions options;
      options.algorithm = a;
      options.high = std::max(total_params(m) * 2 / 5, smallest_feasible_high(m, g));
      split_and_check(m, file + "-" + algorithm_name(a), options);
    }
  }
}

TEST(Split, EveryZooModelWithEveryAlgorithm) {
  for (const std::string& name : zoo_model_names()) {
    if (name == "vgg19") continue;  // vgg16's layout with more of the same: only time
    const Model& m = zoo(name);
    const Graph g(m);
    for (Algorithm a : {Algorithm::kGreedy, Algorithm::kOptimal, Algorithm::kBalanced}) {
      SCOPED_TRACE(name + " " + algorithm_name(a));
      SplitOptions options;
      options.algorithm = a;
      options.high = std::max(int64_t{7} << 20, smallest_feasible_high(m, g));
      split_and_check(m, name + "-" + algorithm_name(a), options);
    }
  }
}

TEST(Split, UnetNeedsMultiTensorCuts) {
  const Model& m = zoo("unet");
  const Graph g(m);
  SplitOptions options;
  options.high = total_params(m) * 3 / 5;  // the bottleneck alone holds more than half
  options.candidates.max_tensors = 4;
  const SplitPlan plan = plan_split(m, g, options);
  bool multi = false;
  for (const auto& t : plan.cut_tensors) multi = multi || t.size() > 1;
  EXPECT_TRUE(multi);
  split_and_check(m, "unet-multi", options);
}

TEST(Split, ResNet101PublishedGreedyResult) {
  const Model& m = zoo("resnet101");
  const Graph g(m);
  std::vector<std::string> names;
  const SplitPlan greedy = testing::resnet101_greedy_plan(m, g, &names);
  EXPECT_EQ(names, testing::kResNet101PublishedCuts);
  SplitOptions options;
  options.high = 7 << 20;
  options.low = 2 << 20;
  options.algorithm = Algorithm::kOptimal;
  const SplitPlan optimal = plan_split(m, g, options);
  EXPECT_EQ(optimal.sizes.size(), 7u);
  EXPECT_LE(*std::max_element(optimal.sizes.begin(), optimal.sizes.end()),
            *std::max_element(greedy.sizes.begin(), greedy.sizes.end()));
  // The same cuts given by name reproduce the same segments.
  options.cuts = names;
  const SplitPlan named = plan_split(m, g, options);
  EXPECT_EQ(named.cut_positions, greedy.cut_positions);
  EXPECT_EQ(named.sizes, greedy.sizes);
}

TEST(Split, FileMetricEstimatesTheRealFiles) {
  struct Case {
    const Model* model;
    int64_t high;
  };
  const Model mobilenet = Model::load(coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const Model deeplab = Model::load(coral_model("deeplabv3_mnv2_dm05_pascal_quant.tflite"));
  for (const Case& c : {Case{&zoo("resnet101"), 7 << 20}, Case{&mobilenet, 1500 << 10},
                        Case{&deeplab, 400 << 10}}) {
    SCOPED_TRACE(c.model->origin());
    const Graph g(*c.model);
    SplitOptions options;
    options.metric = SizeMetric::kFile;
    options.high = c.high;
    options.candidates.require_edgetpu_op = false;
    const SplitPlan plan = plan_split(*c.model, g, options);
    const auto segments = plan_segments(*c.model, g, plan.cut_positions);
    ASSERT_EQ(segments.size(), plan.sizes.size());
    ASSERT_GT(segments.size(), 1u);
    for (size_t i = 0; i < segments.size(); ++i) {
      const auto real = static_cast<int64_t>(write_segment(*c.model, segments[i]).size());
      // Within 1% plus 16 KiB of the file actually written.
      EXPECT_NEAR(static_cast<double>(plan.sizes[i]), static_cast<double>(real),
                  0.01 * static_cast<double>(real) + 16384.0)
          << "segment " << i + 1;
    }
  }
}

TEST(Split, FixedSegmentCount) {
  const Model& m = zoo("resnet50");
  const Graph g(m);
  for (Algorithm a : {Algorithm::kGreedy, Algorithm::kOptimal, Algorithm::kBalanced}) {
    SplitOptions options;
    options.algorithm = a;
    options.segments = 5;
    options.high = 8 << 20;
    const SplitPlan plan = plan_split(m, g, options);
    EXPECT_EQ(plan.sizes.size(), 5u) << algorithm_name(a);
    EXPECT_EQ(std::accumulate(plan.sizes.begin(), plan.sizes.end(), int64_t{0}), total_params(m));
  }
}

TEST(Split, CpuTargetAllowsCutsAfterAnyOp) {
  // The LSTM model's cut after UNIDIRECTIONAL_SEQUENCE_LSTM is refused for the Edge TPU only.
  const Model m = Model::load(coral_model("keras_lstm_mnist_ptq.tflite"));
  const Graph g(m);
  CandidateOptions cpu;
  cpu.require_edgetpu_op = false;
  const auto tpu_cuts = find_cut_candidates(m, g);
  const auto cpu_cuts = find_cut_candidates(m, g, cpu);
  ASSERT_EQ(tpu_cuts.size(), cpu_cuts.size());
  int refused_for_tpu = 0;
  for (size_t i = 0; i < tpu_cuts.size(); ++i) {
    EXPECT_TRUE(cpu_cuts[i].usable()) << i;
    if (!tpu_cuts[i].usable()) {
      ++refused_for_tpu;
      EXPECT_NE(tpu_cuts[i].reasons[0].find("UNIDIRECTIONAL_SEQUENCE_LSTM"), std::string::npos);
    }
  }
  EXPECT_EQ(refused_for_tpu, 1);
}

class CliFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  // The command fails with one line that names `what`, and leaves no output behind.
  void expect_clean_failure(const std::string& args, const std::string& what) {
    const CliResult r = run_cli(args);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "out"));
    for (const auto& entry : fs::directory_iterator(dir_)) {
      EXPECT_EQ(entry.path().filename().string().find(".out"), std::string::npos)
          << "left behind: " << entry.path();
    }
  }

  fs::path model_file(const std::vector<uint8_t>& bytes, const std::string& name) {
    const fs::path path = dir_ / name;
    testing::write_bytes(path, bytes);
    return path;
  }

  fs::path dir_;
};

TEST_F(CliFailure, TruncatedFile) {
  auto bytes = testing::read_bytes(coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  bytes.resize(bytes.size() / 2);
  const auto path = model_file(bytes, "truncated.tflite");
  expect_clean_failure("split " + path.string() + " -o " + (dir_ / "out").string(),
                       "truncated.tflite");
}

TEST_F(CliFailure, RandomBytes) {
  std::vector<uint8_t> bytes(5000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7919 % 251);
  const auto path = model_file(bytes, "random.tflite");
  expect_clean_failure("inspect " + path.string(), "random.tflite");
  expect_clean_failure("split " + path.string() + " -o " + (dir_ / "out").string(),
                       "random.tflite");
}

TEST_F(CliFailure, MissingFile) {
  expect_clean_failure(
      "split " + (dir_ / "nothing.tflite").string() + " -o " + (dir_ / "out").string(),
      "nothing.tflite");
}

TEST_F(CliFailure, CompiledEdgeTpuModel) {
  expect_clean_failure("split " +
                           coral_model("mobilenet_v1_0.25_128_quant_edgetpu.tflite").string() +
                           " -o " + (dir_ / "out").string(),
                       "edgetpu-custom-op");
}

TEST_F(CliFailure, CutNameThatMatchesNothing) {
  expect_clean_failure("split " + coral_model("mobilenet_v2_1.0_224_quant.tflite").string() +
                           " --cuts expanded_conv_3/ad,no_such_layer -o " + (dir_ / "out").string(),
                       "close matches");
}

TEST_F(CliFailure, WindowNoPartitionFits) {
  const fs::path model = dir_ / "vgg16.tflite";
  ASSERT_EQ(run_cli("zoo vgg16 -o " + model.string()).status, 0);
  // fc1 alone holds 98 MiB.
  expect_clean_failure("split " + model.string() + " --max-size 7MiB -o " + (dir_ / "out").string(),
                       "fc1");
  expect_clean_failure("split " + coral_model("mobilenet_v2_1.0_224_quant.tflite").string() +
                           " --max-size 1MiB --min-size 900KiB --segments 2 -o " +
                           (dir_ / "out").string(),
                       "mobilenet_v2_1.0_224_quant.tflite");
}

TEST_F(CliFailure, ExistingOutputNeedsForce) {
  const std::string model = coral_model("mobilenet_v1_0.25_128_quant.tflite").string();
  const fs::path out = dir_ / "kept";
  ASSERT_EQ(run_cli("split " + model + " --max-size 300KiB -o " + out.string()).status, 0);
  const auto before = read_json(out / "full_split" / "meta.json");
  const CliResult again = run_cli("split " + model + " --max-size 400KiB -o " + out.string());
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("--force"), std::string::npos);
  EXPECT_EQ(read_json(out / "full_split" / "meta.json"), before);
  ASSERT_EQ(run_cli("split " + model + " --max-size 400KiB --force -o " + out.string()).status, 0);
  EXPECT_NE(read_json(out / "full_split" / "meta.json"), before);
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".kept."), std::string::npos) << entry.path();
  }
}

TEST(Cli, InspectJsonAndTables) {
  const std::string model = coral_model("mobilenet_v2_1.0_224_quant.tflite").string();
  const CliResult r = run_cli("inspect --json " + model);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ops"].size(), 66u);
  EXPECT_GT(j["candidates"].size(), 20u);
  int64_t sum = 0;
  for (const auto& op : j["ops"]) sum += op["param_bytes"].get<int64_t>();
  EXPECT_EQ(sum, j["totals"]["param_bytes"].get<int64_t>());
  int64_t macs = 0;
  for (const auto& op : j["ops"]) macs += op["macs"].get<int64_t>();
  EXPECT_EQ(macs, j["totals"]["macs"].get<int64_t>());
  EXPECT_GT(macs, 299'000'000);
  const CliResult text = run_cli("inspect " + model);
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("cut candidates"), std::string::npos);
  const CliResult plan = run_cli("plan --json --max-size 1MiB " + model);
  ASSERT_EQ(plan.status, 0) << plan.err;
  EXPECT_EQ(nlohmann::json::parse(plan.out)["plans"].size(), 3u);
  for (const char* command : {"inspect", "plan", "split", "slice", "zoo"}) {
    const CliResult help = run_cli(std::string(command) + " --help");
    EXPECT_EQ(help.status, 0) << command;
    EXPECT_NE(help.out.find("--"), std::string::npos) << command;
  }
}

TEST(Cli, SliceOneRange) {
  const fs::path dir = testing::fresh_dir("slice-cli");
  const std::string model = coral_model("mobilenet_v2_1.0_224_quant.tflite").string();
  const CliResult r =
      run_cli("slice " + model + " --from expanded_conv_2/add --to expanded_conv_4/add --json -o " +
              (dir / "part.tflite").string());
  ASSERT_EQ(r.status, 0) << r.err;
  const Model part = Model::load(dir / "part.tflite");
  ASSERT_EQ(part.inputs().size(), 1u);
  EXPECT_EQ(part.tensor(part.inputs()[0]).name, "MobilenetV2/expanded_conv_2/add");
  EXPECT_EQ(part.tensor(part.outputs()[0]).name, "MobilenetV2/expanded_conv_4/add");
}

// A prefix segment appears in full_split and in every later pairs_kN folder: after the first it
// is a hard link (meta.json says so), and a folder survives the removal of another; verify stays
// bit-exact on the tree.
TEST(Cli, RepeatedSegmentsAreHardLinksAndFoldersStandAlone) {
  const fs::path dir = testing::fresh_dir("split-links") / "out";
  const std::string model = coral_model("mobilenet_v2_1.0_224_quant.tflite").string();
  const CliResult r = run_cli("split " + model + " --segments 4 --json -o " + dir.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto meta = read_json(dir / "pairs_k4" / "meta.json");
  int linked = 0;
  for (const auto& f : meta["files"]) {
    if (f["role"] == "tail") {
      EXPECT_FALSE(f.contains("hard_link_of"));
      continue;
    }
    ASSERT_TRUE(f.contains("hard_link_of")) << f.dump();
    const fs::path file = dir / "pairs_k4" / f["file"].get<std::string>();
    const fs::path first = dir / "pairs_k4" / f["hard_link_of"].get<std::string>();
    EXPECT_TRUE(fs::equivalent(file, first)) << file;
    EXPECT_EQ(fs::hard_link_count(file), 4u) << file;  // full_split, pairs_k2..k4 (seg1)
    ++linked;
    break;
  }
  EXPECT_EQ(linked, 1);
  const auto tree = read_json(dir / "meta.json");
  EXPECT_GT(tree["bytes_hard_linked"].get<int64_t>(), 0);
  EXPECT_LT(tree["bytes_hard_linked"].get<int64_t>(), tree["bytes_written"].get<int64_t>());

  const CliResult v = run_cli("verify " + dir.string() + " --inputs 1");
  EXPECT_EQ(v.status, 0) << v.out << v.err;

  fs::remove_all(dir / "full_split");
  for (const auto& f : meta["files"]) {
    const fs::path file = dir / "pairs_k4" / f["file"].get<std::string>();
    EXPECT_EQ(content_hash(testing::read_bytes(file)), f["hash"].get<std::string>()) << file;
    EXPECT_NO_THROW(Model::load(file)) << file;
  }
}

}  // namespace
}  // namespace pipecut
