// Agreement with an independent TFLite implementation: Arm NN's TfLite parser on its CpuRef
// backend runs the small Coral models on one input each, and pipecut's CPU interpreter must give
// the same outputs within 2 quantization steps per byte (|a - b| <= 2 as integers of the output's
// type) and the same top-1 class. Each case prints its largest difference, how many bytes differ
// and the time each side took. This file builds only where Arm NN is installed
// (tests/CMakeLists.txt); the test is labelled "slow" (MobileNet v2 takes Arm NN about 5 s).
//
// Arm NN computes quantized layers its own way (it dequantizes, works in float and requantizes),
// so the two differ by a rounding step here and there, and those steps add up along a deep
// network. For the classifiers the comparison therefore also covers the logits, the input of the
// final SOFTMAX, exposed as a second output of the same model (write_submodel): they are held to
// the same 2 steps. The softmax itself magnifies a logit step by e^scale: see kCases. Fed the
// same logits, the two softmaxes agree. EveryOpAloneAgreesWithinOneStep shows that each op, fed
// the same bytes, is at most one step from Arm NN, and FirstDifferenceIsARoundingTie where the
// first step comes from.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pipecut/model.h"
#include "pipecut/model_writer.h"
#include "pipecut/quant.h"
#include "pipecut/runtime.h"
#include "support/armnn_reference.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

using testing::bird_crop;
using testing::coral_model;
using testing::run_armnn_reference;

constexpr int kMaxSteps = 2;
constexpr size_t kChickadee = 20;  // bird.rgb's class in imagenet_labels.txt

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Outputs {
  std::vector<TensorSpec> specs;
  std::vector<std::vector<uint8_t>> ours;
  std::vector<std::vector<uint8_t>> armnn;
};

// Runs the model stored at `path` on `inputs` (raw bytes per model input) with both
// implementations.
Outputs run_both(const std::string& label, const std::filesystem::path& path,
                 const std::vector<std::vector<uint8_t>>& inputs) {
  const Model model = Model::load(path);
  const std::unique_ptr<Executable> exe = load_cpu(model);
  Outputs out;
  out.specs = exe->outputs();

  std::vector<TensorValue> values;
  EXPECT_EQ(exe->inputs().size(), inputs.size());
  for (size_t i = 0; i < inputs.size() && i < exe->inputs().size(); ++i) {
    const TensorSpec& spec = exe->inputs()[i];
    EXPECT_EQ(spec.byte_size(), static_cast<int64_t>(inputs[i].size())) << spec.name;
    values.push_back({spec.name, spec.type, spec.shape, spec.quant, inputs[i]});
  }

  auto start = std::chrono::steady_clock::now();
  for (TensorValue& v : exe->run(values)) out.ours.push_back(std::move(v.data));
  const double our_seconds = seconds_since(start);
  start = std::chrono::steady_clock::now();
  out.armnn = run_armnn_reference(path, inputs);
  const double armnn_seconds = seconds_since(start);
  std::printf("%s: pipecut %.3f s, Arm NN %.3f s\n", label.c_str(), our_seconds, armnn_seconds);
  EXPECT_EQ(out.ours.size(), out.specs.size());
  EXPECT_EQ(out.armnn.size(), out.specs.size());
  return out;
}

// Runs both implementations and checks that output o agrees within max_steps[o] on every byte.
Outputs run_and_compare(const std::string& label, const std::filesystem::path& path,
                        const std::vector<std::vector<uint8_t>>& inputs,
                        const std::vector<int>& max_steps) {
  Outputs out = run_both(label, path, inputs);
  EXPECT_EQ(max_steps.size(), out.specs.size());
  const size_t count =
      std::min({out.specs.size(), out.ours.size(), out.armnn.size(), max_steps.size()});
  for (size_t o = 0; o < count; ++o) {
    const TensorSpec& spec = out.specs[o];
    const std::vector<uint8_t>& a = out.ours[o];
    const std::vector<uint8_t>& b = out.armnn[o];
    EXPECT_TRUE(spec.type == DType::kUInt8 || spec.type == DType::kInt8)
        << spec.name << " is " << dtype_name(spec.type) << ", not an 8-bit output";
    EXPECT_EQ(a.size(), static_cast<size_t>(spec.byte_size())) << spec.name;
    EXPECT_EQ(b.size(), a.size()) << spec.name << ": Arm NN's output has another size";
    const bool is_int8 = spec.type == DType::kInt8;
    const testing::ByteGap gap = testing::byte_gap(a, b, is_int8, max_steps[o]);
    std::printf(
        "%s output %zu '%s': %zu bytes, max difference %d steps (allowed %d), "
        "%zu bytes differ\n",
        label.c_str(), o, spec.name.c_str(), a.size(), gap.max, max_steps[o], gap.differing);
    EXPECT_LE(gap.max, max_steps[o])
        << spec.name << ": the first byte beyond " << max_steps[o] << " steps is " << gap.first_over
        << " (pipecut " << testing::byte_value(a[gap.first_over], is_int8) << ", Arm NN "
        << testing::byte_value(b[gap.first_over], is_int8) << ")";
  }
  return out;
}

struct ClassifierCase {
  const char* model;
  int side;         // input side: the centre crop of bird.rgb
  int final_steps;  // allowed difference of the final (softmax) output
};

// The final outputs are held to kMaxSteps except where the logits' scale makes that impossible
// for two implementations whose logits are a step apart: mobilenet_v1_0.25_128's logit scale is
// 0.131, so one logit step scales a probability by e^0.131 = 1.14, which moves its 0.64 top class
// by 9 output steps (1/256 each). Measured: its logits agree within 2 steps (328 of 1001 bytes
// differ by 1 or 2), its softmax outputs within 9 (6 bytes differ), while its softmax alone on
// either side's logits gives the same bytes in both. The steps start where Arm NN rounds an exact
// 88.4999996 up (see FirstDifferenceIsARoundingTie).
constexpr ClassifierCase kCases[] = {
    {"mobilenet_v1_0.25_128_quant.tflite", 128, 10},
    {"mobilenet_v1_0.5_160_quant.tflite", 160, kMaxSteps},
    {"mobilenet_v2_1.0_224_quant.tflite", 224, kMaxSteps},
};

// A classifier on the bird picture: logits and probabilities agree and both pick the chickadee.
void check_classifier(const ClassifierCase& c) {
  const Model source = Model::load(coral_model(c.model));
  ASSERT_FALSE(source.ops().empty());
  const Op& last = source.ops().back();
  ASSERT_EQ(source.op_type(last), "SOFTMAX");
  ASSERT_EQ(source.outputs().size(), 1u);

  // The same model with the logits as a second output.
  SubmodelSpec spec;
  for (const Op& op : source.ops()) spec.ops.push_back(op.index);
  spec.inputs = source.inputs();
  spec.outputs = {source.outputs()[0], last.inputs[0]};
  const std::filesystem::path path =
      testing::fresh_dir(std::string("runtime_armnn_") + c.model) / c.model;
  testing::write_bytes(path, write_submodel(source, spec));

  const Outputs out = run_and_compare(c.model, path, {bird_crop(c.side)}, {c.final_steps, 2});
  ASSERT_EQ(out.ours.size(), 2u);
  ASSERT_EQ(out.armnn.size(), 2u);
  const bool is_int8 = out.specs[0].type == DType::kInt8;
  const size_t ours = testing::top1(out.ours[0], is_int8);
  const size_t armnn = testing::top1(out.armnn[0], is_int8);
  std::printf("%s top-1: pipecut %zu (%d), Arm NN %zu (%d)\n", c.model, ours,
              testing::byte_value(out.ours[0][ours], is_int8), armnn,
              testing::byte_value(out.armnn[0][armnn], is_int8));
  EXPECT_EQ(armnn, kChickadee) << "Arm NN's own answer is off";
  EXPECT_EQ(ours, armnn);

  // The final SOFTMAX alone, fed the same logits on both sides, gives the same bytes (measured;
  // kMaxSteps would do): what final_steps allows beyond kMaxSteps is the logits' steps
  // magnified, not a softmax that differs.
  SubmodelSpec tail;
  tail.ops = {last.index};
  tail.inputs = {last.inputs[0]};
  tail.outputs = {source.outputs()[0]};
  const std::filesystem::path tail_path = path.parent_path() / "softmax_alone.tflite";
  testing::write_bytes(tail_path, write_submodel(source, tail));
  const std::string label = std::string(c.model) + " softmax alone";
  // Arm NN's own logits: its softmax gives what its whole model gave, and pipecut's the same.
  const Outputs on_armnn =
      run_and_compare(label + " on Arm NN's logits", tail_path, {out.armnn[1]}, {0});
  ASSERT_EQ(on_armnn.armnn.size(), 1u);
  EXPECT_EQ(on_armnn.armnn[0], out.armnn[0]) << "Arm NN's softmax alone differs from its model's";
  // pipecut's own logits: a segment computes what the whole model computes, byte for byte.
  const Outputs on_ours =
      run_and_compare(label + " on pipecut's logits", tail_path, {out.ours[1]}, {0});
  ASSERT_EQ(on_ours.ours.size(), 1u);
  EXPECT_EQ(on_ours.ours[0], out.ours[0]) << "pipecut's softmax alone differs from its model's";
}

TEST(RuntimeArmnn, MobilenetV1_025_128MatchesArmnn) {
  check_classifier(kCases[0]);
}

TEST(RuntimeArmnn, MobilenetV1_05_160MatchesArmnn) {
  check_classifier(kCases[1]);
}

TEST(RuntimeArmnn, MobilenetV2_10_224MatchesArmnn) {
  check_classifier(kCases[2]);
}

// The tiny SPLIT/CONCATENATION graph on a fixed pseudo-random input (std::mt19937's sequence is
// fixed by the standard, so every platform feeds the same bytes).
TEST(RuntimeArmnn, SplitConcatMatchesArmnn) {
  const std::filesystem::path path = coral_model("split_concat.tflite");
  const Model model = Model::load(path);
  std::mt19937 rng(20240611);
  std::vector<std::vector<uint8_t>> inputs;
  for (int index : model.inputs()) {
    std::vector<uint8_t> bytes(static_cast<size_t>(model.tensor(index).byte_size()));
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng() & 0xFF);
    inputs.push_back(std::move(bytes));
  }
  run_and_compare("split_concat.tflite", path, inputs,
                  std::vector<int>(model.outputs().size(), kMaxSteps));
}

// The same chain with every op's output as a model output, written to a fresh folder of the
// calling test's own (`test`): ctest runs the tests of this file at the same time.
std::filesystem::path with_every_op_output(const Model& source, const std::string& name,
                                           const std::string& test) {
  SubmodelSpec spec;
  spec.inputs = source.inputs();
  for (const Op& op : source.ops()) {
    if (op.outputs.size() != 1)  // (a throw fails the test, as an ASSERT cannot here)
      throw std::runtime_error(
          name + ": op " + std::to_string(op.index) +
          " does not have one output; a chain of single-output ops is expected");
    spec.ops.push_back(op.index);
    spec.outputs.push_back(op.outputs[0]);
  }
  const std::filesystem::path path =
      testing::fresh_dir("runtime_armnn_layers_" + test + "_" + name) / name;
  testing::write_bytes(path, write_submodel(source, spec));
  return path;
}

// Every op alone, fed the bytes Arm NN gave its inputs, on each classifier: the two agree within
// one step on every byte of every layer. The steps the final outputs differ by are therefore
// single roundings carried along the network, not an op that computes something else.
// Models pipecut quantize makes (the three real float models of ../shared/models/float,
// calibrated on seeded inputs) load in Arm NN's TFLite parser, and their outputs there are within
// kMaxSteps of pipecut's runtime on seeded 8-bit inputs.
// Seeded inputs of the specs' shapes: floats in [-1, 1] for float inputs, any byte for 8-bit ones.
std::vector<TensorValue> seeded_inputs(const std::vector<TensorSpec>& specs, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<TensorValue> values;
  for (const TensorSpec& spec : specs) {
    TensorValue v{spec.name, spec.type, spec.shape, spec.quant, {}};
    const auto n = static_cast<size_t>(spec.byte_size());
    if (spec.type == DType::kFloat32) {
      std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
      std::vector<float> f(n / 4);
      for (float& x : f) x = uniform(rng);
      v.data.resize(n);
      std::memcpy(v.data.data(), f.data(), n);
    } else {
      for (size_t i = 0; i < n; ++i) v.data.push_back(static_cast<uint8_t>(rng()));
    }
    values.push_back(std::move(v));
  }
  return values;
}

TEST(RuntimeArmnn, PipecutQuantizedModelsMatchArmnn) {
  for (const std::string name : {"cifar10_tiny_resnet8", "vww_tiny_mobilenet_v1_0.25_96",
                                 "imagenet_mobilenet_v1_0.25_224"}) {
    const auto source =
        std::filesystem::path(PIPECUT_SHARED_DIR) / "models" / "float" / (name + ".tflite");
    if (!std::filesystem::exists(source)) GTEST_SKIP() << source << " is absent";
    const Model fmodel = Model::load(source);
    std::vector<std::vector<TensorValue>> calibration;
    const auto specs = load_cpu(fmodel)->inputs();
    for (uint32_t seed = 1; seed <= 8; ++seed) calibration.push_back(seeded_inputs(specs, seed));
    const std::vector<uint8_t> bytes = quantize_model(fmodel, calibrate(fmodel, calibration));
    const std::filesystem::path path =
        testing::fresh_dir("runtime_armnn_quantized_" + name) / (name + "_int8.tflite");
    testing::write_bytes(path, bytes);
    const Model q = Model::load(path);
    auto exe = load_cpu(q);
    for (uint32_t seed = 100; seed < 103; ++seed) {
      const auto inputs = seeded_inputs(exe->inputs(), seed);
      std::vector<std::vector<uint8_t>> raw;
      for (const auto& v : inputs) raw.push_back(v.data);
      run_and_compare(name + " (pipecut int8) seed " + std::to_string(seed), path, raw,
                      std::vector<int>(exe->outputs().size(), kMaxSteps));
    }
  }
}

TEST(RuntimeArmnn, EveryOpAloneAgreesWithinOneStep) {
  for (const ClassifierCase& c : kCases) {
    const Model source = Model::load(coral_model(c.model));
    const std::vector<uint8_t> picture = bird_crop(c.side);
    const Outputs out =
        run_both(c.model, with_every_op_output(source, c.model, "every_op"), {picture});
    ASSERT_EQ(out.armnn.size(), source.ops().size());
    ASSERT_EQ(source.inputs().size(), 1u);

    // Arm NN's bytes of each tensor: the model input, then each op's output.
    std::map<int, const std::vector<uint8_t>*> armnn_bytes{{source.inputs()[0], &picture}};
    for (size_t k = 0; k < source.ops().size(); ++k) {
      armnn_bytes[source.ops()[k].outputs[0]] = &out.armnn[k];
    }
    const std::filesystem::path dir =
        testing::fresh_dir(std::string("runtime_armnn_ops_") + c.model);
    size_t ops_differing = 0, bytes_differing = 0, bytes = 0;
    int max_steps = 0;
    for (size_t k = 0; k < source.ops().size(); ++k) {
      const Op& op = source.ops()[k];
      SubmodelSpec spec;
      spec.ops = {op.index};
      spec.outputs = {op.outputs[0]};
      std::vector<TensorValue> values;
      for (int t : op.inputs) {
        if (t < 0 || source.tensor(t).is_constant()) continue;
        ASSERT_TRUE(armnn_bytes.count(t))
            << c.model << " op " << k << ": no bytes for tensor " << t;
        spec.inputs.push_back(t);
        const Tensor& in = source.tensor(t);
        values.push_back({in.name, in.type, in.shape, in.quant, *armnn_bytes.at(t)});
      }
      const std::filesystem::path path = dir / ("op" + std::to_string(k) + ".tflite");
      testing::write_bytes(path, write_submodel(source, spec));
      const std::unique_ptr<Executable> exe = load_cpu(Model::load(path));
      const std::vector<TensorValue> ours = exe->run(values);
      ASSERT_EQ(ours.size(), 1u);
      ASSERT_EQ(ours[0].data.size(), out.armnn[k].size()) << c.model << " op " << k;
      const bool is_int8 = out.specs[k].type == DType::kInt8;
      const testing::ByteGap gap = testing::byte_gap(ours[0].data, out.armnn[k], is_int8, 1);
      ops_differing += gap.differing != 0;
      bytes_differing += gap.differing;
      bytes += ours[0].data.size();
      max_steps = std::max(max_steps, gap.max);
      EXPECT_LE(gap.max, 1) << c.model << " op " << k << " " << source.op_type(op)
                            << ": the first byte beyond 1 step is " << gap.first_over;
    }
    std::printf("%s: %zu ops alone, %zu of them apart on %zu of %zu bytes, max %d steps\n", c.model,
                source.ops().size(), ops_differing, bytes_differing, bytes, max_steps);
  }
}

// Where the two implementations part ways, on the model whose softmax differs most. With every
// op output made a model output, one run of each shows the first layer whose bytes differ. That
// layer reads identical bytes on both sides, so its exact result can be computed here in double
// precision: each byte the two disagree on must be one where the exact value lies within 1e-4 of
// a rounding tie (x.5), which float arithmetic on either side may round either way, and pipecut's
// bytes must be the correctly rounded ones. The later layers only carry those steps forward.
TEST(RuntimeArmnn, FirstDifferenceIsARoundingTie) {
  const ClassifierCase& c = kCases[0];
  const Model source = Model::load(coral_model(c.model));
  const Outputs out = run_both(c.model, with_every_op_output(source, c.model, "first_difference"),
                               {bird_crop(c.side)});
  ASSERT_EQ(out.ours.size(), source.ops().size());
  ASSERT_EQ(out.armnn.size(), source.ops().size());

  size_t first = source.ops().size();
  for (size_t k = 0; k < source.ops().size(); ++k) {
    const DType type = out.specs[k].type;
    ASSERT_EQ(out.ours[k].size(), out.armnn[k].size()) << out.specs[k].name;
    const testing::ByteGap gap = testing::byte_gap(out.ours[k], out.armnn[k], type == DType::kInt8);
    std::printf("op %2zu %-17s %6zu bytes, %5zu differ, max %2d steps\n", k,
                source.op_type(source.ops()[k]).c_str(), out.ours[k].size(), gap.differing,
                gap.max);
    if (gap.differing != 0 && first == source.ops().size()) first = k;
  }
  if (first == source.ops().size())  // not one byte apart: nothing to explain, and said so
    GTEST_SKIP() << "every layer agrees bit for bit";

  // The first differing layer: a 1x1 convolution over the bytes of the op before it.
  const Op& op = source.ops()[first];
  ASSERT_EQ(source.op_type(op), "CONV_2D")
      << "the first difference moved to a " << source.op_type(op) << " (op " << first
      << "): this check covers 1x1 convolutions";
  ASSERT_GT(first, 0u);
  ASSERT_EQ(op.inputs[0], source.ops()[first - 1].outputs[0]);
  // Identical on both sides: `first` is the first layer that differs.
  const std::vector<uint8_t>& x = out.ours[first - 1];
  const Tensor& in = source.tensor(op.inputs[0]);
  const Tensor& w = source.tensor(op.inputs[1]);
  const Tensor& bias = source.tensor(op.inputs[2]);
  const Tensor& o = source.tensor(op.outputs[0]);
  ASSERT_EQ(in.type, DType::kUInt8);
  ASSERT_EQ(w.shape.size(), 4u);
  ASSERT_TRUE(w.shape[1] == 1 && w.shape[2] == 1) << "not a 1x1 convolution";
  ASSERT_EQ(in.shape[1], o.shape[1]);  // 1x1 and the same height: stride 1
  const int64_t channels = in.shape[3], filters = w.shape[0];
  ASSERT_EQ(static_cast<int64_t>(out.ours[first].size()) % filters, 0);
  const auto* b = reinterpret_cast<const int32_t*>(bias.data.data());
  const double zin = static_cast<double>(in.quant.zero_point[0]);
  const double zout = static_cast<double>(o.quant.zero_point[0]);

  size_t ours_wrong = 0, armnn_wrong = 0, disagree = 0;
  for (size_t i = 0; i < out.ours[first].size(); ++i) {
    const int64_t pixel = static_cast<int64_t>(i) / filters, f = static_cast<int64_t>(i) % filters;
    const size_t qi = w.quant.scale.size() > 1 ? static_cast<size_t>(f) : 0;
    double acc = b[f];
    for (int64_t ch = 0; ch < channels; ++ch) {
      acc += (x[static_cast<size_t>(pixel * channels + ch)] - zin) *
             (w.data[static_cast<size_t>(f * channels + ch)] -
              static_cast<double>(w.quant.zero_point[qi]));
    }
    const double exact = acc * static_cast<double>(in.quant.scale[0]) *
                             static_cast<double>(w.quant.scale[qi]) /
                             static_cast<double>(o.quant.scale[0]) +
                         zout;
    // The output is clamped to [0, 255] (RELU6 reaches 255 at this scale, NONE by the type).
    const int correct = static_cast<int>(std::clamp(std::round(exact), 0.0, 255.0));
    const int ours = out.ours[first][i], armnn = out.armnn[first][i];
    ours_wrong += ours != correct;
    armnn_wrong += armnn != correct;
    if (ours == armnn) continue;
    ++disagree;
    const double from_tie = std::abs(exact - std::floor(exact) - 0.5);
    EXPECT_EQ(std::abs(ours - armnn), 1) << "byte " << i << " exact " << exact;
    EXPECT_LT(from_tie, 1e-4) << "byte " << i << ": pipecut " << ours << ", Arm NN " << armnn
                              << ", exact " << exact << " is no rounding tie";
    std::printf("op %zu byte %zu: exact %.7f, pipecut %d, Arm NN %d\n", first, i, exact, ours,
                armnn);
  }
  std::printf(
      "op %zu: %zu bytes, %zu differ; not the correctly rounded value: pipecut %zu, "
      "Arm NN %zu\n",
      first, out.ours[first].size(), disagree, ours_wrong, armnn_wrong);
  EXPECT_EQ(ours_wrong, 0u);  // (disagree > 0 by the choice of `first`)
}

}  // namespace
}  // namespace pipecut
