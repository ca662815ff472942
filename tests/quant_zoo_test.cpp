// The zoo's float models through the native quantizer, as `make demo` runs them: the zoo ResNet-50
// and ResNet-101 in float32, calibrated on 16 seeded inputs and quantized, answer like the float
// model on 16 other seeded inputs, and the quantized ResNet-101 keeps the published greedy cuts
// and splits bit-exact.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "pipecut/analysis.h"
#include "pipecut/graph.h"
#include "pipecut/inputs.h"
#include "pipecut/layout.h"
#include "pipecut/planner.h"
#include "pipecut/quant.h"
#include "pipecut/runtime.h"
#include "pipecut/verify.h"
#include "pipecut/zoo.h"
#include "support/published_cuts.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLogits = "model/predictions/MatMul;model/predictions/BiasAdd";

std::vector<double> real_values(const TensorValue& v) {
  std::vector<double> out;
  if (v.type == DType::kFloat32) {
    out.resize(v.data.size() / 4);
    for (size_t i = 0; i < out.size(); ++i) {
      float x;
      std::memcpy(&x, v.data.data() + 4 * i, 4);
      out[i] = x;
    }
    return out;
  }
  for (uint8_t b : v.data)
    out.push_back(static_cast<double>(v.quant.scale.at(0)) *
                  (static_cast<int8_t>(b) - static_cast<double>(v.quant.zero_point.at(0))));
  return out;
}

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

struct Closeness {
  double logits_min = 1, output_min = 1, logits_mean = 0;
  int top1 = 0, n = 0;
};

// The float model against its quantization on seeded inputs 1001.. (calibration used 1..16).
void compare(const Model& float_model, const Model& int8_model, int inputs, Closeness& c) {
  CpuOptions keep;
  keep.keep = {kLogits};
  const auto f = load_cpu(float_model, keep);
  const auto q = load_cpu(int8_model, keep);
  for (int i = 0; i < inputs; ++i) {
    const auto in = random_inputs(f->inputs(), 1001 + static_cast<uint64_t>(i));
    const auto fo = real_values(f->run(in).at(0));
    const auto fl = real_values(f->kept().at(0));
    const auto qo = real_values(q->run(in).at(0));
    const auto ql = real_values(q->kept().at(0));
    ASSERT_EQ(fl.size(), 1000u);
    ASSERT_EQ(ql.size(), 1000u);
    const double logits = cosine(fl, ql);
    c.logits_min = std::min(c.logits_min, logits);
    c.logits_mean += logits / inputs;
    c.output_min = std::min(c.output_min, cosine(fo, qo));
    c.top1 += std::max_element(fl.begin(), fl.end()) - fl.begin() ==
              std::max_element(ql.begin(), ql.end()) - ql.begin();
    ++c.n;
  }
}

class QuantizeZoo : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantizeZoo, StaysCloseToTheFloatModel) {
  const std::string name = GetParam();
  const Model float_model = Model::from_bytes(
      build_zoo_model(name, ZooOptions{.seed = 1, .float_model = true}), name + " float");
  const auto specs = load_cpu(float_model)->inputs();
  // As `pipecut quantize --random 16` calibrates.
  const Ranges ranges = calibrate(
      float_model, 16, [&](int i) { return random_inputs(specs, static_cast<uint64_t>(1 + i)); });
  for (bool per_tensor : {false, true}) {
    QuantizeOptions options;
    options.per_tensor = per_tensor;
    options.io_type = IoType::kFloat32;  // the same float inputs go to both models
    const Model int8_model = Model::from_bytes(quantize_model(float_model, ranges, options),
                                               name + (per_tensor ? " per-tensor" : " int8"));
    Closeness c;
    ASSERT_NO_FATAL_FAILURE(compare(float_model, int8_model, 16, c));
    std::cout << name << (per_tensor ? " per-tensor" : " per-channel") << ": logits cosine min "
              << c.logits_min << " mean " << c.logits_mean << ", output cosine min " << c.output_min
              << ", top-1 agree " << c.top1 << "/" << c.n << "\n";
    // The goal, on the logits (the softmax outputs of synthetic weights put almost all the
    // probability on one class, so their cosine says little); per-tensor is reported beside it.
    if (!per_tensor) {
      EXPECT_GE(c.logits_min, 0.98) << name;
    }
    EXPECT_EQ(c.n, 16);
  }
}

INSTANTIATE_TEST_SUITE_P(Zoo, QuantizeZoo, ::testing::Values("resnet50", "resnet101"));

TEST(QuantizeZooSplit, QuantizedResNet101KeepsThePublishedGreedyCuts) {
  const Model float_model = Model::from_bytes(
      build_zoo_model("resnet101", ZooOptions{.seed = 1, .float_model = true}), "r101 float");
  const auto specs = load_cpu(float_model)->inputs();
  const Ranges ranges = calibrate(
      float_model, 4, [&](int i) { return random_inputs(specs, static_cast<uint64_t>(1 + i)); });
  const fs::path dir = testing::fresh_dir("quant_zoo_split");
  const fs::path file = dir / "resnet101_int8.tflite";
  write_model_file(file, quantize_model(float_model, ranges), true);
  const Model m = Model::load(file);
  const Graph g(m);
  std::vector<std::string> names;
  const SplitPlan greedy = testing::resnet101_greedy_plan(m, g, &names);
  EXPECT_EQ(names, testing::kResNet101PublishedCuts);
  // The split computes what the whole quantized model computes, byte for byte.
  write_split_tree(m, g, greedy, dir / "split", TreeOptions{});
  VerifyOptions verify;
  verify.random_inputs = 1;
  verify.model = file;
  const VerifyReport report = verify_split_tree(read_split_tree(dir / "split"), verify);
  EXPECT_TRUE(report.ok()) << report.first_mismatch();
  EXPECT_EQ(report.files.size(), 34u);  // full_split's 7, and pairs_k2..k7's 2 + 3 + ... + 7
}

}  // namespace
}  // namespace pipecut
