// dequantize_model on real Coral models: the float32 model reads back, keeps its tensor names,
// has no QUANTIZE/DEQUANTIZE left, and, run by our CPU runtime on real photographs, gives the
// 8-bit model's answers (the same class) with outputs close to the 8-bit model's dequantized ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "pipecut/error.h"
#include "pipecut/inputs.h"
#include "pipecut/quant.h"
#include "pipecut/runtime.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

int argmax_float(const TensorValue& v) {
  const auto* p = reinterpret_cast<const float*>(v.data.data());
  return static_cast<int>(std::max_element(p, p + v.data.size() / 4) - p);
}

int argmax_8bit(const TensorValue& v) {
  int best = 0;
  for (size_t i = 1; i < v.data.size(); ++i) {
    const int a = v.type == DType::kInt8 ? static_cast<int8_t>(v.data[i]) : v.data[i];
    const int b = v.type == DType::kInt8 ? static_cast<int8_t>(v.data[best]) : v.data[best];
    if (a > b) best = static_cast<int>(i);
  }
  return best;
}

TEST(Dequantize, MobileNetV2AsFloatNamesTheSameThings) {
  const Model q = Model::load(testing::coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const Model f = Model::from_bytes(dequantize_model(q), "dequantized");
  for (const Tensor& t : f.tensors()) {
    if (t.type == DType::kInt32 && !t.quant.present()) continue;  // shapes and axes
    EXPECT_EQ(t.type, DType::kFloat32) << t.name;
  }
  for (const Op& op : f.ops()) {
    EXPECT_NE(f.op_type(op), "QUANTIZE");
    EXPECT_NE(f.op_type(op), "DEQUANTIZE");
  }
  // Names survive: every op's output name is the 8-bit model's.
  ASSERT_EQ(f.ops().size(), q.ops().size());
  for (size_t i = 0; i < f.ops().size(); ++i)
    EXPECT_EQ(f.tensor(f.ops()[i].outputs[0]).name, q.tensor(q.ops()[i].outputs[0]).name);

  auto int8 = load_cpu(q), fp32 = load_cpu(f);
  ASSERT_EQ(fp32->inputs()[0].type, DType::kFloat32);
  int same = 0, n = 0;
  for (const char* name : {"cat.bmp", "parrot.jpg", "hot_dog.jpg", "burger.jpg", "dragonfly.bmp",
                           "grace_hopper.bmp"}) {
    const auto path = std::filesystem::path(PIPECUT_SHARED_DIR) / "images" / name;
    const auto qin = image_input(int8->inputs()[0], path);
    // The float model's input is the dequantized picture: scale x (pixel - zero point).
    TensorValue fin = image_input(fp32->inputs()[0], path);
    const auto& iq = int8->inputs()[0].quant;
    for (size_t i = 0; i < qin.data.size(); ++i) {
      const float v =
          iq.scale[0] * (static_cast<float>(qin.data[i]) - static_cast<float>(iq.zero_point[0]));
      std::memcpy(fin.data.data() + 4 * i, &v, 4);
    }
    const auto qout = int8->run({qin})[0];
    const auto fout = fp32->run({fin})[0];
    ++n;
    same += argmax_8bit(qout) == argmax_float(fout);
    // The probabilities agree to a few 8-bit steps.
    const auto& oq = int8->outputs()[0].quant;
    const auto* p = reinterpret_cast<const float*>(fout.data.data());
    float worst = 0;
    for (size_t i = 0; i < qout.data.size(); ++i) {
      const float real =
          oq.scale[0] * (static_cast<float>(qout.data[i]) - static_cast<float>(oq.zero_point[0]));
      worst = std::max(worst, std::abs(real - p[i]));
    }
    EXPECT_LT(worst, 0.02f) << name;
    std::cout << name << ": top-1 " << argmax_8bit(qout) << " / " << argmax_float(fout)
              << ", largest probability gap " << worst << "\n";
  }
  EXPECT_EQ(same, n) << "the float model names what the 8-bit one names";
}

TEST(Dequantize, EveryRealCoralModelReadsBackAsFloat) {
  for (const std::string& name : testing::coral_splittable_models()) {
    const Model q = Model::load(testing::coral_model(name));
    const Model f = Model::from_bytes(dequantize_model(q), name + " dequantized");
    int quantized = 0;
    for (size_t i = 0; i < f.tensors().size(); ++i) {
      quantized += f.tensors()[i].quant.present();
      if (q.tensors()[i].quant.present()) {  // every quantized tensor is float now
        EXPECT_EQ(f.tensors()[i].type, DType::kFloat32) << name << ": " << f.tensors()[i].name;
      }
    }
    EXPECT_EQ(quantized, 0) << name;
    // Where our runtime runs the 8-bit model, it runs the float one too.
    bool runs_8bit = true;
    try {
      load_cpu(q);
    } catch (const Error&) {
      runs_8bit = false;
    }
    if (runs_8bit) {
      auto run = load_cpu(f);
      EXPECT_FALSE(run->run(random_inputs(run->inputs(), 3)).empty()) << name;
    }
  }
}

}  // namespace
}  // namespace pipecut
