// The native quantizer on real trained float models (../shared/models/float), calibrated on real
// photographs (../shared/images): the 8-bit model follows the TFLite scheme, runs on our CPU
// runtime, and answers like the float model about as well as TensorFlow's own INT8 model does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "pipecut/error.h"
#include "pipecut/inputs.h"
#include "pipecut/quant.h"
#include "pipecut/runtime.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kPhotos = {
    "cat.bmp",           "bird.bmp",           "grace_hopper.bmp",  "parrot.jpg",
    "hot_dog.jpg",       "dragonfly.bmp",      "owl.jpg",           "burger.jpg",
    "fox_original.jpg",  "husky_original.jpg", "sparrow.png",       "pets.jpg",
    "face.jpg",          "squat.bmp",          "kite_and_cold.jpg", "cats_and_dogs.jpg",
    "multi_objects.jpg", "sunflower.bmp"};

fs::path photo(const std::string& name) {
  return fs::path(PIPECUT_SHARED_DIR) / "images" / name;
}
fs::path float_model(const std::string& name) {
  return fs::path(PIPECUT_SHARED_DIR) / "models" / "float" / name;
}

std::vector<float> as_floats(const TensorValue& v, const Quantization& q) {
  std::vector<float> out;
  if (v.type == DType::kFloat32) {
    out.resize(v.data.size() / 4);
    std::memcpy(out.data(), v.data.data(), v.data.size());
    return out;
  }
  for (uint8_t b : v.data) {
    const int x = v.type == DType::kInt8 ? static_cast<int8_t>(b) : b;
    out.push_back(q.scale[0] * static_cast<float>(x - q.zero_point[0]));
  }
  return out;
}

int argmax(const std::vector<float>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

// The float input of a photo, then the same values quantized for an 8-bit input.
TensorValue int8_input(const TensorSpec& spec, const TensorValue& real) {
  TensorValue v{spec.name, spec.type, spec.shape, spec.quant, {}};
  const size_t n = real.data.size() / 4;
  for (size_t i = 0; i < n; ++i) {
    float x;
    std::memcpy(&x, real.data.data() + 4 * i, 4);
    const long q = std::lround(x / spec.quant.scale[0]) + spec.quant.zero_point[0];
    v.data.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -128L, 127L))));
  }
  return v;
}

struct Agreement {
  int top1 = 0, n = 0;
  int in_top5 = 0;  // the float model's answer among the 8-bit model's five best
  float worst = 0;  // largest probability gap to the float model
};

Agreement compare(Executable& fp32, Executable& int8, float mean, float std) {
  Agreement a;
  for (const auto& name : kPhotos) {
    const TensorValue real = image_input_normalised(fp32.inputs()[0], photo(name), mean, std);
    const auto f = as_floats(fp32.run({real})[0], {});
    const bool float_input = int8.inputs()[0].type == DType::kFloat32;  // a dequantized model
    const auto q = as_floats(int8.run({float_input ? real : int8_input(int8.inputs()[0], real)})[0],
                             int8.outputs()[0].quant);
    ++a.n;
    a.top1 += argmax(f) == argmax(q);
    std::vector<int> order(q.size());
    for (size_t i = 0; i < q.size(); ++i) order[i] = static_cast<int>(i);
    const size_t k = std::min<size_t>(5, q.size());
    std::partial_sort(
        order.begin(), order.begin() + static_cast<long>(k), order.end(),
        [&](int x, int y) { return q[static_cast<size_t>(x)] > q[static_cast<size_t>(y)]; });
    a.in_top5 += std::find(order.begin(), order.begin() + static_cast<long>(k), argmax(f)) !=
                 order.begin() + static_cast<long>(k);
    for (size_t i = 0; i < f.size(); ++i) a.worst = std::max(a.worst, std::abs(f[i] - q[i]));
  }
  return a;
}

struct Case {
  std::string float_file, tf_int8_file;
  float mean, std;
};

class Quantize : public ::testing::TestWithParam<Case> {};

TEST_P(Quantize, AnswersLikeTheFloatModelAsWellAsTensorFlowsInt8) {
  const Case c = GetParam();
  const Model fmodel = Model::load(float_model(c.float_file));
  auto fp32 = load_cpu(fmodel);
  std::vector<std::vector<TensorValue>> calibration;
  for (const auto& name : kPhotos)
    calibration.push_back({image_input_normalised(fp32->inputs()[0], photo(name), c.mean, c.std)});
  const Ranges ranges = calibrate(fmodel, calibration);
  EXPECT_EQ(ranges.inputs, static_cast<int>(kPhotos.size()));
  const Model qmodel = Model::from_bytes(quantize_model(fmodel, ranges), "quantized");

  // The scheme: 8-bit activations, int32 biases at input x weight scale, softmax 1/256.
  for (const Op& op : qmodel.ops()) {
    for (int t : op.outputs)
      EXPECT_EQ(qmodel.tensor(t).type, DType::kInt8) << qmodel.tensor(t).name;
    const std::string type = qmodel.op_type(op);
    if (type == "SOFTMAX") {
      EXPECT_FLOAT_EQ(qmodel.tensor(op.outputs[0]).quant.scale[0], 1.0f / 256);
      EXPECT_EQ(qmodel.tensor(op.outputs[0]).quant.zero_point[0], -128);
    }
    if ((type == "CONV_2D" || type == "DEPTHWISE_CONV_2D" || type == "FULLY_CONNECTED") &&
        op.inputs.size() > 2) {
      const auto& x = qmodel.tensor(op.inputs[0]).quant;
      const auto& w = qmodel.tensor(op.inputs[1]).quant;
      const auto& b = qmodel.tensor(op.inputs[2]);
      EXPECT_EQ(b.type, DType::kInt32);
      // Per channel for convolutions (one scale per output channel), per tensor for dense.
      EXPECT_EQ(w.scale.size(), type == "FULLY_CONNECTED" ? 1u : b.num_elements()) << type;
      ASSERT_EQ(b.quant.scale.size(), w.scale.size()) << type;
      for (size_t i = 0; i < b.quant.scale.size(); ++i)
        EXPECT_NEAR(b.quant.scale[i], x.scale[0] * w.scale[i], 1e-6 * b.quant.scale[i]);
    }
  }
  EXPECT_EQ(qmodel.tensors().size(), fmodel.tensors().size());
  // Each weight once, in 8 bits: about a quarter of the float file.
  EXPECT_LT(qmodel.bytes().size(), fmodel.bytes().size() * 2 / 5);
  for (size_t t = 0; t < fmodel.tensors().size(); ++t)
    EXPECT_EQ(qmodel.tensors()[t].name, fmodel.tensors()[t].name);

  auto ours = load_cpu(qmodel);
  const Agreement mine = compare(*fp32, *ours, c.mean, c.std);
  std::cout << c.float_file << ": pipecut int8 agrees on top 1 with float on " << mine.top1
            << " of " << mine.n << ", largest probability gap " << mine.worst << "\n";
  if (!c.tf_int8_file.empty()) {
    auto theirs = load_cpu(Model::load(float_model("tensorflow-int8/" + c.tf_int8_file)));
    const Agreement tf = compare(*fp32, *theirs, c.mean, c.std);
    std::cout << c.float_file << ": TensorFlow int8 agrees on " << tf.top1 << " of " << tf.n
              << ", largest probability gap " << tf.worst << "\n";
    EXPECT_GE(mine.top1, tf.top1 - 1);
  }
  if (c.tf_int8_file.empty()) {
    // ImageNet's 1001 classes at width 0.25 are close calls (about 50 % top-1), and 8 bits cost
    // this network much (Google's own 8-bit MobileNet v1 0.25 224 loses 10 points of top-1):
    // today 11 of 18 top-1 (the same with float activations: the weights' rounding decides),
    // 15 of 18 in the top 5.
    EXPECT_GE(mine.top1, mine.n / 2);
    EXPECT_GE(mine.in_top5, mine.n * 3 / 4);
  } else {
    EXPECT_GE(mine.top1, mine.n * 3 / 4);
    EXPECT_GE(mine.in_top5, mine.n - 1);
  }
}

INSTANTIATE_TEST_SUITE_P(
    RealFloatModels, Quantize,
    ::testing::Values(Case{"cifar10_tiny_resnet8.tflite", "cifar10_tiny_resnet8_int8.tflite", 0, 1},
                      Case{"vww_tiny_mobilenet_v1_0.25_96.tflite",
                           "vww_tiny_mobilenet_v1_0.25_96_int8.tflite", 0, 255},
                      Case{"imagenet_mobilenet_v1_0.25_224.tflite", "", 127.5f, 127.5f}),
    [](const auto& info) {
      return info.param.float_file.substr(0, info.param.float_file.find('_'));
    });

// The three ways of drawing activation ranges from calibration, side by side on the three real
// models (calibrated on the 18 photos, measured on them): the figures docs/quantize.md gives, and
// the check that the default is not beaten by the others on top-1 agreement with float.
TEST(QuantizeRanges, MethodsSideBySide) {
  const std::vector<Case> cases = {{"cifar10_tiny_resnet8.tflite", "", 0, 1},
                                   {"vww_tiny_mobilenet_v1_0.25_96.tflite", "", 0, 255},
                                   {"imagenet_mobilenet_v1_0.25_224.tflite", "", 127.5f, 127.5f}};
  const std::vector<std::pair<std::string, CalibrateOptions>> methods = {
      {"minmax", {RangeMethod::kMinMax, 0}},
      {"percentile 99.99", {RangeMethod::kPercentile, 99.99}},
      {"percentile 99.9", {RangeMethod::kPercentile, 99.9}},
      {"mse", {RangeMethod::kMse, 0}}};
  for (const Case& c : cases) {
    const Model fmodel = Model::load(float_model(c.float_file));
    auto fp32 = load_cpu(fmodel);
    std::vector<std::vector<TensorValue>> calibration;
    for (const auto& name : kPhotos)
      calibration.push_back(
          {image_input_normalised(fp32->inputs()[0], photo(name), c.mean, c.std)});
    const Ranges minmax = calibrate(fmodel, calibration, {}, {RangeMethod::kMinMax, 0});
    QuantizeOptions plain;  // the range methods alone, without bias correction
    plain.bias_correction = false;
    for (const auto& [label, options] : methods) {
      const Ranges ranges = calibrate(fmodel, calibration, {}, options);
      // Clipping methods only narrow: every range inside minmax's, and some strictly so.
      int narrower = 0;
      for (const auto& [t, range] : ranges.min_max) {
        const auto& full = minmax.min_max.at(t);
        const float slack = 1e-6f * (full.second - full.first);
        EXPECT_GE(range.first, full.first - slack) << label << " " << fmodel.tensor(t).name;
        EXPECT_LE(range.second, full.second + slack) << label << " " << fmodel.tensor(t).name;
        narrower += range.second - range.first < 0.999f * (full.second - full.first);
      }
      if (options.method == RangeMethod::kMinMax) {
        EXPECT_EQ(narrower, 0);
      } else {
        EXPECT_GT(narrower, 0) << label;
      }
      const Model q = Model::from_bytes(quantize_model(fmodel, ranges, plain), "quantized");
      auto exec = load_cpu(q);
      const Agreement a = compare(*fp32, *exec, c.mean, c.std);
      std::cout << c.float_file << " " << label << ": top-1 " << a.top1 << " of " << a.n
                << ", in top 5 " << a.in_top5 << ", largest probability gap " << a.worst << "\n";
      if (options.method == RangeMethod::kMse) {  // and the default: mse with bias correction
        const Model d = Model::from_bytes(quantize_model(fmodel, ranges), "default");
        auto dexec = load_cpu(d);
        const Agreement b = compare(*fp32, *dexec, c.mean, c.std);
        std::cout << c.float_file << " mse + bias correction (default): top-1 " << b.top1 << " of "
                  << b.n << ", in top 5 " << b.in_top5 << ", largest probability gap " << b.worst
                  << "\n";
        EXPECT_GE(b.top1, a.n / 2) << "the default";
      }
      // Measured: minmax 11 of 18 on the ImageNet model, a tight 99.9 percentile 7 (docs).
      EXPECT_GE(a.top1, options.method == RangeMethod::kMinMax ? a.n / 2 : a.n / 3) << label;
    }
  }
}

// Per-tensor weights on the VWW MobileNet (depthwise convolutions, where per-tensor loses most):
// without and with cross-layer equalization and bias correction, side by side. Equalization
// keeps the float function; the printed figures are docs/quantize.md's.
TEST(QuantizePerTensor, EqualizationAndBiasCorrectionOnVww) {
  const Case c{"vww_tiny_mobilenet_v1_0.25_96.tflite", "", 0, 255};
  const Model fmodel = Model::load(float_model(c.float_file));
  auto fp32 = load_cpu(fmodel);
  int pairs = 0;
  const Model equalized = Model::from_bytes(equalize_model(fmodel, &pairs), "equalized");
  EXPECT_GE(pairs, 10);
  auto eq32 = load_cpu(equalized);
  std::vector<std::vector<TensorValue>> calibration;
  for (const auto& name : kPhotos) {
    calibration.push_back({image_input_normalised(fp32->inputs()[0], photo(name), c.mean, c.std)});
    // The same function in float (up to rounding).
    const auto a = as_floats(fp32->run(calibration.back())[0], {});
    const auto b = as_floats(eq32->run(calibration.back())[0], {});
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4f) << name;
  }
  const Ranges plain_ranges = calibrate(fmodel, calibration);
  const Ranges eq_ranges = calibrate(equalized, calibration);
  struct Row {
    std::string label;
    bool equalize, correct;
  };
  std::map<std::string, Agreement> got;
  for (const Row& row : {Row{"per-tensor", false, false}, Row{"--equalize", true, false},
                         Row{"--bias-correction", false, true}, Row{"both", true, true}}) {
    QuantizeOptions options;
    options.per_tensor = true;
    options.bias_correction = row.correct;
    const Model& source = row.equalize ? equalized : fmodel;
    const Model q = Model::from_bytes(
        quantize_model(source, row.equalize ? eq_ranges : plain_ranges, options), "q");
    auto exec = load_cpu(q);
    const Agreement a = compare(*fp32, *exec, c.mean, c.std);
    got[row.label] = a;
    std::cout << "VWW per-tensor " << row.label << ": top-1 " << a.top1 << " of " << a.n
              << ", largest probability gap " << a.worst << "\n";
  }
  // Each must help per-tensor: no photo lost, a narrower largest gap (measured: 0.185 plain,
  // 0.047 equalized, 0.059 bias-corrected, 0.064 both).
  for (const std::string label : {"--equalize", "--bias-correction", "both"}) {
    EXPECT_GE(got[label].top1, got["per-tensor"].top1) << label;
    EXPECT_LT(got[label].worst, got["per-tensor"].worst * 0.6f) << label;
  }
}

TEST(QuantizeErrors, PerTensorWeightsHaveOneScaleAndTheirBiasesToo) {
  const Model fmodel = Model::load(float_model("cifar10_tiny_resnet8.tflite"));
  const Ranges ranges = calibrate(fmodel, {random_inputs(load_cpu(fmodel)->inputs(), 7)});
  QuantizeOptions options;
  options.per_tensor = true;
  const Model q = Model::from_bytes(quantize_model(fmodel, ranges, options), "per tensor");
  int convs = 0;
  for (const Op& op : q.ops()) {
    if (q.op_type(op) != "CONV_2D") continue;
    ++convs;
    EXPECT_EQ(q.tensor(op.inputs[1]).quant.scale.size(), 1u);
    EXPECT_EQ(q.tensor(op.inputs[2]).quant.scale.size(), 1u);
  }
  EXPECT_GT(convs, 0);
  EXPECT_NO_THROW(load_cpu(q));
}

TEST(QuantizeIo, Float32AndUint8EdgesComputeWhatTheInt8ModelComputes) {
  const Model fmodel = Model::load(float_model("cifar10_tiny_resnet8.tflite"));
  auto fp32 = load_cpu(fmodel);
  std::vector<std::vector<TensorValue>> calibration;
  for (const auto& name : kPhotos)
    calibration.push_back({image_input_normalised(fp32->inputs()[0], photo(name), 0, 1)});
  const Ranges ranges = calibrate(fmodel, calibration);
  auto int8 = load_cpu(Model::from_bytes(quantize_model(fmodel, ranges), "int8 io"));
  QuantizeOptions as_float, as_uint8;
  as_float.io_type = IoType::kFloat32;
  as_uint8.io_type = IoType::kUInt8;
  const Model fq = Model::from_bytes(quantize_model(fmodel, ranges, as_float), "float io");
  const Model uq = Model::from_bytes(quantize_model(fmodel, ranges, as_uint8), "uint8 io");
  EXPECT_EQ(fq.op_type(fq.ops().front()), "QUANTIZE");
  EXPECT_EQ(fq.op_type(fq.ops().back()), "DEQUANTIZE");
  EXPECT_EQ(uq.op_type(uq.ops().back()), "QUANTIZE");
  auto fexec = load_cpu(fq), uexec = load_cpu(uq);
  ASSERT_EQ(fexec->inputs()[0].type, DType::kFloat32);
  ASSERT_EQ(fexec->outputs()[0].type, DType::kFloat32);
  ASSERT_EQ(uexec->inputs()[0].type, DType::kUInt8);
  ASSERT_EQ(uexec->outputs()[0].type, DType::kUInt8);
  for (const char* name : {"cat.bmp", "parrot.jpg", "pets.jpg"}) {
    const TensorValue real = image_input_normalised(fp32->inputs()[0], photo(name), 0, 1);
    const TensorValue q = int8_input(int8->inputs()[0], real);
    const auto expected = as_floats(int8->run({q})[0], int8->outputs()[0].quant);
    // Float edges: the QUANTIZE in makes the same int8 input, the DEQUANTIZE out the same reals.
    EXPECT_EQ(as_floats(fexec->run({real})[0], {}), expected) << name;
    // uint8 edges: the same values shifted by 128.
    TensorValue u = q;
    u.type = DType::kUInt8;
    u.quant = uexec->inputs()[0].quant;
    for (auto& b : u.data) b = static_cast<uint8_t>(static_cast<int8_t>(b) + 128);
    EXPECT_EQ(as_floats(uexec->run({u})[0], uexec->outputs()[0].quant), expected) << name;
  }
}

TEST(QuantizeErrors, AnOpItCannotQuantizeIsNamed) {
  // An 8-bit model is not float: the quantizer says which tensor is not float32.
  const Model q = Model::load(testing::coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  Ranges none;
  try {
    quantize_model(q, none);
    ADD_FAILURE() << "an 8-bit model was quantized again";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not float32"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pipecut
