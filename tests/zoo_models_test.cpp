// The model zoo: every model verifies and loads, is deterministic in its seed, is fully int8 with
// per-channel weights and consistent bias scales, and matches the Keras architectures (parameter
// bytes, op counts, tensor names, shapes).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/model.h"
#include "pipecut/zoo.h"
#include "zoo/layer_table.h"

namespace pipecut {
namespace {

// Each model is built once per process (resnet152 and vgg16 take a moment).
const Model& zoo_model(const std::string& name) {
  static std::map<std::string, Model> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    it = cache.emplace(name, Model::from_bytes(build_zoo_model(name), "zoo:" + name)).first;
  }
  return it->second;
}

bool is_weighted(const Model& m, const Op& op) {
  const std::string type = m.op_type(op);
  return type == "CONV_2D" || type == "DEPTHWISE_CONV_2D" || type == "FULLY_CONNECTED";
}

// Weights (1 byte each) + int32 biases of every conv and dense layer.
int64_t parameter_bytes(const Model& m) {
  int64_t total = 0;
  for (const Op& op : m.ops()) {
    if (!is_weighted(m, op)) continue;
    total += m.tensor(op.inputs.at(1)).byte_size() + m.tensor(op.inputs.at(2)).byte_size();
  }
  return total;
}

std::map<std::string, int> op_counts(const Model& m) {
  std::map<std::string, int> counts;
  for (const Op& op : m.ops()) ++counts[m.op_type(op)];
  return counts;
}

const Tensor* find_tensor(const Model& m, const std::string& name) {
  for (const Tensor& t : m.tensors()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

bool same_bytes(const Model& m, const std::vector<uint8_t>& bytes) {
  return std::equal(m.bytes().begin(), m.bytes().end(), bytes.begin(), bytes.end());
}

TEST(ZooNames, ListsTheModelsWithOneLineSummaries) {
  const std::vector<std::string> expected = {"resnet18",
                                             "resnet34",
                                             "resnet50",
                                             "resnet101",
                                             "resnet152",
                                             "mobilenet_v2",
                                             "vgg16",
                                             "inception_v4",
                                             "vgg19",
                                             "inception_v3",
                                             "alexnet",
                                             "alexnet_bn",
                                             "vgg16_cifar",
                                             "vgg19_cifar",
                                             "inception_bn",
                                             "resnet18_cifar",
                                             "resnet50_cifar",
                                             "resnet152_cifar",
                                             "mobilenet_v2_cifar",
                                             "unet"};
  EXPECT_EQ(zoo_model_names(), expected);
  for (const std::string& name : zoo_model_names()) {
    const std::string summary = zoo_model_summary(name);
    EXPECT_FALSE(summary.empty()) << name;
    EXPECT_EQ(summary.find('\n'), std::string::npos) << name;
  }
}

TEST(ZooNames, UnknownNameListsTheKnownOnes) {
  try {
    build_zoo_model("resnet1000");
    FAIL() << "no error for an unknown model";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("resnet1000"), std::string::npos) << message;
    for (const std::string& name : zoo_model_names()) {
      EXPECT_NE(message.find(name), std::string::npos) << message;
    }
  }
  EXPECT_THROW(zoo_model_summary("nope"), Error);
}

bool is_cifar(const std::string& name) {
  return name.ends_with("_cifar") || name.starts_with("alexnet") || name == "inception_bn";
}

class ZooModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooModel, IsAValidFullyInt8Model) {
  const Model& m = zoo_model(GetParam());
  EXPECT_EQ(m.schema_version(), 3u);
  EXPECT_NE(m.description().find("analytic estimate"), std::string::npos) << m.description();
  EXPECT_NE(m.description().find("not calibrated"), std::string::npos) << m.description();
  EXPECT_NE(m.description().find("seed 1"), std::string::npos) << m.description();

  ASSERT_EQ(m.inputs().size(), 1u);
  ASSERT_EQ(m.outputs().size(), 1u);
  const Tensor& input = m.tensor(m.inputs()[0]);
  const bool slim = GetParam() == "inception_v4";  // TF-slim names, 299x299, 1001 classes
  EXPECT_EQ(input.name, slim ? "input" : "input_1");
  EXPECT_EQ(input.type, DType::kInt8);
  EXPECT_EQ(input.quant.scale, std::vector<float>{static_cast<float>(1.0 / 127.5)});
  const Tensor& output = m.tensor(m.outputs()[0]);
  EXPECT_EQ(output.type, DType::kInt8);
  EXPECT_EQ(output.quant.scale, std::vector<float>{1.0f / 256.0f});
  EXPECT_EQ(output.quant.zero_point, std::vector<int64_t>{-128});
  if (GetParam() == "unet") {
    EXPECT_EQ(input.shape, (std::vector<int32_t>{1, 128, 128, 3}));
    EXPECT_EQ(output.shape, (std::vector<int32_t>{1, 128, 128, 4}));
    EXPECT_EQ(output.name, "model/softmax/Softmax");
  } else if (slim) {
    EXPECT_EQ(input.shape, (std::vector<int32_t>{1, 299, 299, 3}));
    EXPECT_EQ(output.shape, (std::vector<int32_t>{1, 1001}));
    EXPECT_EQ(output.name, "InceptionV4/Logits/Predictions");
  } else if (GetParam() == "inception_v3") {
    EXPECT_EQ(input.shape, (std::vector<int32_t>{1, 299, 299, 3}));
    EXPECT_EQ(output.shape, (std::vector<int32_t>{1, 1000}));
    EXPECT_EQ(output.name, "model/predictions/Softmax");
  } else if (is_cifar(GetParam())) {
    EXPECT_EQ(input.shape, (std::vector<int32_t>{1, 32, 32, 3}));
    EXPECT_EQ(output.shape, (std::vector<int32_t>{1, 10}));
    EXPECT_EQ(output.name, "model/predictions/Softmax");
  } else {
    EXPECT_EQ(input.shape, (std::vector<int32_t>{1, 224, 224, 3}));
    EXPECT_EQ(output.shape, (std::vector<int32_t>{1, 1000}));
    EXPECT_EQ(output.name, "model/predictions/Softmax");
  }

  // Activations: int8, one scale and zero point; a fused ReLU starts at the lowest code.
  for (const Op& op : m.ops()) {
    for (int out : op.outputs) {
      const Tensor& t = m.tensor(out);
      EXPECT_EQ(t.type, DType::kInt8) << t.name;
      ASSERT_EQ(t.quant.scale.size(), 1u) << t.name;
      ASSERT_EQ(t.quant.zero_point.size(), 1u) << t.name;
      EXPECT_GT(t.quant.scale[0], 0.0f) << t.name;
      EXPECT_TRUE(t.has_static_shape()) << t.name;
      const std::string first = t.name.substr(0, t.name.find(';'));
      const bool relu = first.ends_with("/Relu"), relu6 = first.ends_with("/Relu6");
      if (relu || relu6) {
        EXPECT_EQ(t.quant.zero_point[0], -128) << t.name;
      }
      if (relu6) {
        EXPECT_FLOAT_EQ(t.quant.scale[0], 6.0f / 255.0f) << t.name;
      }
    }
  }

  // Weighted ops: per-channel symmetric int8 weights and int32 biases with
  // bias_scale[c] = input_scale * weight_scale[c].
  int weighted = 0;
  for (const Op& op : m.ops()) {
    if (!is_weighted(m, op)) continue;
    ++weighted;
    const std::string type = m.op_type(op);
    ASSERT_EQ(op.inputs.size(), 3u);
    const Tensor& in = m.tensor(op.inputs[0]);
    const Tensor& w = m.tensor(op.inputs[1]);
    const Tensor& b = m.tensor(op.inputs[2]);
    const Tensor& out = m.tensor(op.outputs.at(0));
    EXPECT_EQ(w.type, DType::kInt8) << w.name;
    EXPECT_EQ(b.type, DType::kInt32) << b.name;
    ASSERT_TRUE(w.is_constant() && b.is_constant()) << w.name;
    const bool depthwise = type == "DEPTHWISE_CONV_2D";
    const int32_t axis = depthwise ? 3 : 0;
    const size_t channels = static_cast<size_t>(w.shape.at(static_cast<size_t>(axis)));
    EXPECT_EQ(static_cast<size_t>(out.shape.back()), channels) << out.name;
    EXPECT_EQ(w.quant.axis, axis) << w.name;
    ASSERT_EQ(w.quant.scale.size(), channels) << w.name;
    EXPECT_EQ(w.quant.zero_point, std::vector<int64_t>(channels, 0)) << w.name;
    ASSERT_EQ(b.shape, std::vector<int32_t>{static_cast<int32_t>(channels)}) << b.name;
    ASSERT_EQ(b.quant.scale.size(), channels) << b.name;
    EXPECT_EQ(b.quant.zero_point, std::vector<int64_t>(channels, 0)) << b.name;
    for (size_t c = 0; c < channels; ++c) {
      const double expected = static_cast<double>(in.quant.scale.at(0)) * w.quant.scale[c];
      EXPECT_NEAR(b.quant.scale[c], expected, 1e-6 * expected) << b.name << " channel " << c;
    }
    // Symmetric weights use [-127, 127] and every channel reaches its extreme.
    const auto* q = reinterpret_cast<const int8_t*>(w.data.data());
    EXPECT_EQ(std::count(q, q + w.data.size(), int8_t{-128}), 0) << w.name;
    EXPECT_EQ(type == "CONV_2D" ? 3 : type == "DEPTHWISE_CONV_2D" ? 3 : 4, op.version) << type;
  }
  EXPECT_GT(weighted, 0);

  // The versions the TFLite converter writes for int8 ops.
  const std::map<std::string, int> versions = {
      {"ADD", 2},           {"MAX_POOL_2D", 2},     {"MEAN", 2},
      {"SOFTMAX", 2},       {"AVERAGE_POOL_2D", 2}, {"PAD", 2},
      {"CONCATENATION", 2}, {"RESHAPE", 1},         {"RESIZE_NEAREST_NEIGHBOR", 2}};
  for (const Op& op : m.ops()) {
    const auto it = versions.find(m.op_type(op));
    if (it != versions.end()) {
      EXPECT_EQ(op.version, it->second) << it->first;
    }
  }
}

// SHA-256 of each model's bytes at seed 1, as `pipecut zoo NAME` writes them (sha256sum gives the
// same). The builder draws its numbers from its own generator, not the standard library's
// distributions, so g++ and clang (the sanitizer runs) give the same bytes with Debian 12's libm;
// a change to the builder that changes a model fails here, and one that is meant to updates this
// table, saying why.
const std::map<std::string, std::string>& golden_int8() {
  static const std::map<std::string, std::string> table = {
      {"alexnet", "9c16e079150731fab590ec143616746936b95d911a1193b91638b5e92fb72b61"},
      {"alexnet_bn", "d36504092b0e01d7abf9380a81e4bb1fa30b8c3092857a130b7064050087d3ef"},
      {"inception_bn", "cb96910030d4a8e62fe4243531fc931f8f22b2ceab3cc494fb3342a763529fc5"},
      {"inception_v3", "eef7c7e87a39f9b2fb1deb4d8f0ba3aa5a8baf08d400156baecb2008eb798a2c"},
      {"inception_v4", "b97c4f3ad6bee883ce8afc8439b606f63d96257ae20ee72e70130021a197d139"},
      {"mobilenet_v2", "bf7dab7e664072e428ca2e4223962b63c019f96a824ce680982bcb54f4983e57"},
      {"mobilenet_v2_cifar", "6eda0f7f8268a71c23ca3963ec07faf54d40e902144e03a3f37ba0d1a4088a4d"},
      {"resnet101", "ea958a9fe7af0b8bf584ced2552234d0e8588c99e5b6d0babd173c1257e686fb"},
      {"resnet152", "4d36cc0b34ca3f815a1fec5adbec697b77cc0029c1ed5f79d0cadd188b7b7d23"},
      {"resnet152_cifar", "48200e3c13a6e044751d26f779d9f30f0050140208673042040cc4e14c87b797"},
      {"resnet18", "4877341c96bd2ce61d2fc8ef83a8fd83b6da0a03b73484804ef76ca20e416999"},
      {"resnet18_cifar", "779e3316bdee7b0b461d277c0a7732208bda8bc2114a4a1d2299553929d99dce"},
      {"resnet34", "6a7267a9ff107c5cf44d0ddce8fa81d5c892254c3d4ba883faa96e6cdaf034ac"},
      {"resnet50", "55941766f4734544c3afa0983c2e56a16482e43f6b200726383f9501a18b0c23"},
      {"resnet50_cifar", "1c813d52a52262ec73b0d05918793a42efce25dde108256ad61837ce9931828a"},
      {"unet", "20002323794211ff4465e883e310a0f699349856f0f49002de3432e75f5b7f74"},
      {"vgg16", "678e246b7d5c0d1f4d88b7d49df90da901e433662f86d862c233e4f110604486"},
      {"vgg16_cifar", "22e4b0b6ea2a8ada51f35187d11d38175f88f6f134cd236c7c44f98dd8d45112"},
      {"vgg19", "a61e70bcec13d7c1f6ce0f4e6a1b8d1d3f22c598dd9e7accf80a69cb16b23f2b"},
      {"vgg19_cifar", "dfcbcf171c27a9dd9f624b6c9c04d7a51dfa31522415e5b55443447c5d3d0ad8"},
  };
  return table;
}

TEST_P(ZooModel, IsDeterministicInTheSeed) {
  const Model& m = zoo_model(GetParam());
  EXPECT_TRUE(same_bytes(m, build_zoo_model(GetParam(), ZooOptions{.seed = 1})));
  ASSERT_TRUE(golden_int8().count(GetParam())) << "a new zoo model: add its hash above";
  EXPECT_EQ(sha256_hex(m.bytes()), golden_int8().at(GetParam()));
  const std::vector<uint8_t> other = build_zoo_model(GetParam(), ZooOptions{.seed = 2});
  EXPECT_FALSE(same_bytes(m, other));
  const Model m2 = Model::from_bytes(other, "zoo:" + GetParam() + ":seed2");
  EXPECT_NE(m2.description().find("seed 2"), std::string::npos);
  // Same graph, different numbers.
  ASSERT_EQ(m2.tensors().size(), m.tensors().size());
  EXPECT_EQ(op_counts(m2), op_counts(m));
  EXPECT_EQ(parameter_bytes(m2), parameter_bytes(m));
}

INSTANTIATE_TEST_SUITE_P(All, ZooModel, ::testing::ValuesIn(zoo_model_names()),
                         [](const auto& info) { return info.param; });

TEST(ZooFloat, BytesAreTheRecordedOnes) {
  // As golden_int8(), for float builds of a depthwise, an upsampling and a dense network.
  const std::map<std::string, std::string> golden = {
      {"alexnet", "a06bdabf1597d62b1497f7a0e966abcc47764a308d5e05a3540dc198a763f488"},
      {"mobilenet_v2", "1e11d0f9ab0bf435f5479ad279b22f8a0edf3bb04421893e5a13924a092f6972"},
      {"unet", "9f2a1c749f2aae661a73853f1d370582950ae42cf98277aded9d1f3ce2724d82"},
  };
  for (const auto& [name, hash] : golden) {
    EXPECT_EQ(sha256_hex(build_zoo_model(name, ZooOptions{.float_model = true})), hash) << name;
  }
}

TEST(ZooResNet, ResNet101MatchesKeras) {
  const Model& m = zoo_model("resnet101");
  // Keras ResNet101: 44,707,176 parameters, of which 4 x 52,672 batch-norm values fold into
  // 52,672 conv biases; plus the dense layer.
  EXPECT_EQ(parameter_bytes(m), 44'657'504);
  const auto counts = op_counts(m);
  EXPECT_EQ(counts.at("CONV_2D"), 104);
  EXPECT_EQ(counts.at("ADD"), 33);
  EXPECT_EQ(counts.at("PAD"), 2);
  EXPECT_EQ(counts.at("MAX_POOL_2D"), 1);
  EXPECT_EQ(counts.at("MEAN"), 1);
  EXPECT_EQ(counts.at("FULLY_CONNECTED"), 1);
  EXPECT_EQ(counts.at("SOFTMAX"), 1);
  EXPECT_EQ(m.ops().size(), 143u);
  const Tensor* out = find_tensor(m, "model/conv4_block4_out/Relu;model/conv4_block4_add/add");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->shape, (std::vector<int32_t>{1, 14, 14, 1024}));
  EXPECT_NE(find_tensor(m, "model/conv4_block23_out/Relu;model/conv4_block23_add/add"), nullptr);
}

TEST(ZooResNet, ResNet50MatchesKeras) {
  const Model& m = zoo_model("resnet50");
  // Keras ResNet50: 25,636,712 parameters, 26,560 batch-norm channels.
  EXPECT_EQ(parameter_bytes(m), 25'613'152);
  EXPECT_EQ(op_counts(m).at("CONV_2D"), 53);
  EXPECT_EQ(op_counts(m).at("ADD"), 16);

  const Tensor* pad = find_tensor(m, "model/conv1_pad/Pad");
  ASSERT_NE(pad, nullptr);
  EXPECT_EQ(pad->shape, (std::vector<int32_t>{1, 230, 230, 3}));
  const Tensor* conv1 = find_tensor(
      m, "model/conv1_relu/Relu;model/conv1_bn/FusedBatchNormV3;model/conv1_conv/Conv2D");
  ASSERT_NE(conv1, nullptr);
  EXPECT_EQ(conv1->shape, (std::vector<int32_t>{1, 112, 112, 64}));
  const Tensor* pool = find_tensor(m, "model/pool1_pool/MaxPool");
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->shape, (std::vector<int32_t>{1, 56, 56, 64}));
  const Tensor* c1 = find_tensor(m,
                                 "model/conv2_block1_1_relu/Relu;model/conv2_block1_1_bn/"
                                 "FusedBatchNormV3;model/conv2_block1_1_conv/Conv2D");
  ASSERT_NE(c1, nullptr);
  EXPECT_EQ(c1->shape, (std::vector<int32_t>{1, 56, 56, 64}));
  const Tensor* w = find_tensor(m, "model/conv2_block1_1_conv/Conv2D/ReadVariableOp");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int32_t>{64, 1, 1, 64}));
  EXPECT_NE(find_tensor(m, "model/conv2_block1_1_conv/BiasAdd/ReadVariableOp"), nullptr);
  EXPECT_NE(
      find_tensor(m, "model/conv2_block1_0_bn/FusedBatchNormV3;model/conv2_block1_0_conv/Conv2D"),
      nullptr);
  // Stages 3-5 stride on the first 1x1 conv of block1.
  const Tensor* s3 = find_tensor(m,
                                 "model/conv3_block1_1_relu/Relu;model/conv3_block1_1_bn/"
                                 "FusedBatchNormV3;model/conv3_block1_1_conv/Conv2D");
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->shape, (std::vector<int32_t>{1, 28, 28, 128}));
  const Tensor* last = find_tensor(m, "model/conv5_block3_out/Relu;model/conv5_block3_add/add");
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->shape, (std::vector<int32_t>{1, 7, 7, 2048}));
  const Tensor* avg = find_tensor(m, "model/avg_pool/Mean");
  ASSERT_NE(avg, nullptr);
  EXPECT_EQ(avg->shape, (std::vector<int32_t>{1, 2048}));
  const Tensor* logits = find_tensor(m, "model/predictions/MatMul;model/predictions/BiasAdd");
  ASSERT_NE(logits, nullptr);
  EXPECT_EQ(logits->shape, (std::vector<int32_t>{1, 1000}));
}

TEST(ZooResNet, InputSizeChangesEveryShapeButNoWeight) {
  // Coral measured its ResNets at 299x299; Keras' layout is the same at any size.
  ZooOptions options;
  options.input_size = 299;
  const Model m = Model::from_bytes(build_zoo_model("resnet50", options), "resnet50 at 299");
  EXPECT_EQ(parameter_bytes(m), parameter_bytes(zoo_model("resnet50")));
  EXPECT_EQ(m.ops().size(), zoo_model("resnet50").ops().size());
  EXPECT_EQ(m.tensors()[static_cast<size_t>(m.inputs()[0])].shape,
            (std::vector<int32_t>{1, 299, 299, 3}));
  // 299 -> 150 (conv1, stride 2 after a pad of 3) -> 75 (pool) -> 38 -> 19 -> 10.
  const Tensor* out = find_tensor(m, "model/conv5_block3_out/Relu;model/conv5_block3_add/add");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->shape, (std::vector<int32_t>{1, 10, 10, 2048}));
  EXPECT_NE(m.description().find("299x299x3"), std::string::npos) << m.description();
  // Sizes an architecture cannot take are refused in one line.
  for (const auto& [name, size] : std::vector<std::pair<std::string, int>>{
           {"unet", 100}, {"inception_v4", 298}, {"vgg16", 16}, {"alexnet", 20}, {"resnet50", 8}}) {
    options.input_size = size;
    try {
      build_zoo_model(name, options);
      ADD_FAILURE() << name << " built at " << size;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

TEST(ZooResNet, ResNet152MatchesKeras) {
  // Keras ResNet152: 60,419,944 parameters, 75,712 batch-norm channels.
  const Model& m = zoo_model("resnet152");
  EXPECT_EQ(parameter_bytes(m), 60'347'232);
  EXPECT_EQ(op_counts(m).at("CONV_2D"), 155);
  EXPECT_EQ(op_counts(m).at("ADD"), 50);
  EXPECT_NE(find_tensor(m, "model/conv4_block36_out/Relu;model/conv4_block36_add/add"), nullptr);
}

TEST(ZooResNet, BasicBlockResNets) {
  // torchvision's ResNet-18: 11,689,512 parameters = conv and fc weights + 1,000 fc biases +
  // gamma and beta of 4,800 batch-norm channels; we store one int32 bias per channel instead.
  EXPECT_EQ(parameter_bytes(zoo_model("resnet18")),
            11'689'512 - 2 * 4'800 - 1'000 + 4 * (4'800 + 1'000));
  EXPECT_EQ(op_counts(zoo_model("resnet18")).at("CONV_2D"), 20);
  EXPECT_EQ(op_counts(zoo_model("resnet34")).at("CONV_2D"), 36);
  EXPECT_NE(
      find_tensor(zoo_model("resnet34"), "model/conv4_block6_out/Relu;model/conv4_block6_add/add"),
      nullptr);
}

TEST(ZooMobileNetV2, MatchesKeras) {
  const Model& m = zoo_model("mobilenet_v2");
  // Keras MobileNetV2: 3,538,984 parameters, 17,056 batch-norm channels, no conv biases.
  EXPECT_EQ(parameter_bytes(m), 3'541'984);
  const auto counts = op_counts(m);
  EXPECT_EQ(counts.at("CONV_2D"), 35);
  EXPECT_EQ(counts.at("DEPTHWISE_CONV_2D"), 17);
  EXPECT_EQ(counts.at("ADD"), 10);
  EXPECT_EQ(counts.at("PAD"), 4);
  const Tensor* project =
      find_tensor(m, "model/block_16_project_BN/FusedBatchNormV3;model/block_16_project/Conv2D");
  ASSERT_NE(project, nullptr);
  EXPECT_EQ(project->shape, (std::vector<int32_t>{1, 7, 7, 320}));
  const Tensor* dw = find_tensor(m,
                                 "model/block_1_depthwise_relu/Relu6;model/block_1_depthwise_BN/"
                                 "FusedBatchNormV3;model/block_1_depthwise/depthwise");
  ASSERT_NE(dw, nullptr);
  EXPECT_EQ(dw->shape, (std::vector<int32_t>{1, 56, 56, 96}));
  const Tensor* expand = find_tensor(m,
                                     "model/block_1_expand_relu/Relu6;model/block_1_expand_BN/"
                                     "FusedBatchNormV3;model/block_1_expand/Conv2D");
  ASSERT_NE(expand, nullptr);
  EXPECT_EQ(expand->shape, (std::vector<int32_t>{1, 112, 112, 96}));
  EXPECT_NE(find_tensor(m, "model/block_2_add/add"), nullptr);
  const Tensor* out_relu =
      find_tensor(m, "model/out_relu/Relu6;model/Conv_1_bn/FusedBatchNormV3;model/Conv_1/Conv2D");
  ASSERT_NE(out_relu, nullptr);
  EXPECT_EQ(out_relu->shape, (std::vector<int32_t>{1, 7, 7, 1280}));
  EXPECT_NE(find_tensor(m, "model/global_average_pooling2d/Mean"), nullptr);
  const Tensor* dw_weights = find_tensor(m, "model/block_1_depthwise/depthwise/ReadVariableOp");
  ASSERT_NE(dw_weights, nullptr);
  EXPECT_EQ(dw_weights->shape, (std::vector<int32_t>{1, 3, 3, 96}));
  EXPECT_EQ(dw_weights->quant.axis, 3);
}

TEST(ZooVgg16, MatchesKeras) {
  const Model& m = zoo_model("vgg16");
  // Keras VGG16: 138,357,544 parameters, 13,416 of them biases.
  EXPECT_EQ(parameter_bytes(m), 138'397'792);
  const auto counts = op_counts(m);
  EXPECT_EQ(counts.at("CONV_2D"), 13);
  EXPECT_EQ(counts.at("MAX_POOL_2D"), 5);
  EXPECT_EQ(counts.at("FULLY_CONNECTED"), 3);
  EXPECT_EQ(counts.at("RESHAPE"), 1);
  const Tensor* flatten = find_tensor(m, "model/flatten/Reshape");
  ASSERT_NE(flatten, nullptr);
  EXPECT_EQ(flatten->shape, (std::vector<int32_t>{1, 25088}));
  const Tensor* pool = find_tensor(m, "model/block5_pool/MaxPool");
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->shape, (std::vector<int32_t>{1, 7, 7, 512}));
  EXPECT_NE(find_tensor(m, "model/fc2/Relu;model/fc2/MatMul;model/fc2/BiasAdd"), nullptr);
}

TEST(ZooTables, ParameterCountsMatchTheirSources) {
  // Weights plus one bias per output channel (batch norms folded). The sources count batch norms
  // apart: Keras VGG19 143,667,240 (no batch norm); bearpaw's CIFAR AlexNet 2,472,266; kuangliu's
  // ResNet18 11,173,962 (bias-free convs, 2 values per batch-norm channel: 4,800 channels),
  // MobileNetV2 2,296,922 (17,544 channels), VGG16 14,728,266 and GoogLeNet 6,166,250 (convs with
  // a bias and a batch norm: 3 values per channel, 4,224 and 7,904 channels).
  // Keras InceptionV3: 23,851,784, of which 2 x 17,216 are batch-norm statistics (its convs have
  // no bias and its batch norms no scale: one value per channel stays, as our bias).
  const std::map<std::string, int64_t> counts = {{"vgg19", 143'667'240},
                                                 {"inception_v3", 23'851'784 - 2 * 17'216},
                                                 {"alexnet", 2'472'266},
                                                 {"resnet18_cifar", 11'173'962 - 4'800},
                                                 {"mobilenet_v2_cifar", 2'296'922 - 17'544},
                                                 {"vgg16_cifar", 14'728'266 - 2 * 4'224},
                                                 {"inception_bn", 6'166'250 - 2 * 7'904}};
  for (const auto& [name, want] : counts) {
    const Model& m = zoo_model(name);
    int64_t values = 0;
    for (const Op& op : m.ops()) {
      if (!is_weighted(m, op)) continue;
      values += m.tensor(op.inputs.at(1)).byte_size() + m.tensor(op.inputs.at(2)).byte_size() / 4;
    }
    EXPECT_EQ(values, want) << name;
  }
  // The tables' blocks: residual adds where the shape stays, inception concatenations.
  EXPECT_EQ(op_counts(zoo_model("resnet18_cifar")).at("ADD"), 8);
  EXPECT_EQ(op_counts(zoo_model("resnet152_cifar")).at("ADD"), 50);
  EXPECT_EQ(op_counts(zoo_model("mobilenet_v2_cifar")).at("ADD"), 14);  // every stride-1 block
  EXPECT_EQ(op_counts(zoo_model("inception_bn")).at("CONCATENATION"), 9);
  EXPECT_EQ(op_counts(zoo_model("vgg19")).at("CONV_2D"), 16);
  // Inception v3's blocks as Keras names them, at the paper's grid sizes; mixed9 and mixed10 hold
  // a split branch inside a branch (a block table inside a block table).
  const std::map<std::string, std::vector<int32_t>> mixed = {
      {"mixed0", {1, 35, 35, 256}}, {"mixed2", {1, 35, 35, 288}}, {"mixed3", {1, 17, 17, 768}},
      {"mixed7", {1, 17, 17, 768}}, {"mixed8", {1, 8, 8, 1280}},  {"mixed10", {1, 8, 8, 2048}}};
  for (const auto& [block, shape] : mixed) {
    const Tensor* t = find_tensor(zoo_model("inception_v3"), "model/" + block + "/concat");
    ASSERT_NE(t, nullptr) << block;
    EXPECT_EQ(t->shape, shape) << block;
  }
  EXPECT_EQ(op_counts(zoo_model("inception_v3")).at("CONV_2D"), 94);
  EXPECT_EQ(op_counts(zoo_model("inception_v3")).at("CONCATENATION"), 15);
  const Tensor* out = find_tensor(zoo_model("resnet50_cifar"),
                                  "model/bottleneck16_out/Relu;model/bottleneck16_add/add");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->shape, (std::vector<int32_t>{1, 4, 4, 2048}));
}

TEST(ZooTables, BadRowsAreNamed) {
  for (const auto& [rows, what] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"conv 8 3x3"}, "first row must be the input"},
           {{"input 8x8x3", "conv 8 3x3 sideways"}, "unknown word 'sideways'"},
           {{"input 8x8x3", "conv 0 3x3"}, "not a count"},
           {{"input 8x8x3", "conv 8"}, "conv needs"},
           {{"input 8x8x3", "dense 10"}, "flat input"},
           {{"input 8x8x3", "block 4"}, "unknown kind 'block'"},
           {{"input 8x8x3", "conv 8 3x3 x3"}, "only block rows repeat"},
           {{"input 8x8x3", "conv 8 3x"}, "unknown word '3x'"},
           {{"input 8x8x3", "conv 1000*1000*1000 3x3"}, "not a count"},
           {{"input 8x8x3", "gap", "dense 10 relu6"}, "'relu6' does not apply to dense"},
           {{"input 8x8x3", "maxpool 2 bn"}, "'bn' does not apply to maxpool"},
           {{"input 8x8x3", "res 8"}, "res needs its stride"},
           {{"input 8x8x3", "res 8 s1 name=a$b"}, "cannot hold '$'"},
           {{"input 8x8x3", "res 8 s1 x2 name=r"}, "need a % in the name"}}) {
    zoo::LayerTable t;
    t.blocks = {
        zoo::BlockTable{"res", {{"conv $1 3x3 s$2 bn relu"}, {"shortcut $1 s$2"}}, "add", 2}};
    t.rows = rows;
    zoo::GraphBuilder g(1);
    try {
      zoo::build_from_table(g, t);
      ADD_FAILURE() << "no error for " << rows.back();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  }
}

TEST(ZooFloat, TheSameGraphWithTheWeightsTheInt8ModelQuantizes) {
  // VGG16 and the deep ResNets are left out for time and memory (4 bytes a weight); the graph
  // code is shared, so these cover every layer kind.
  for (const std::string name :
       {"resnet18", "mobilenet_v2", "unet", "inception_v4", "inception_bn", "mobilenet_v2_cifar"}) {
    SCOPED_TRACE(name);
    const Model& q = zoo_model(name);
    const Model f = Model::from_bytes(
        build_zoo_model(name, ZooOptions{.seed = 1, .float_model = true}), name + " float");
    EXPECT_NE(f.description().find("float32"), std::string::npos) << f.description();
    EXPECT_EQ(f.tensor(f.inputs().at(0)).type, DType::kFloat32);
    EXPECT_EQ(f.tensor(f.outputs().at(0)).type, DType::kFloat32);
    ASSERT_EQ(f.ops().size(), q.ops().size());
    EXPECT_EQ(op_counts(f), op_counts(q));
    for (size_t i = 0; i < f.ops().size(); ++i) {
      const Op& fo = f.ops()[i];
      const Op& qo = q.ops()[i];
      ASSERT_EQ(fo.inputs.size(), qo.inputs.size());
      EXPECT_EQ(fo.version, 1) << f.op_type(fo);
      for (size_t k = 0; k < fo.inputs.size(); ++k) {
        const Tensor& ft = f.tensor(fo.inputs[k]);
        const Tensor& qt = q.tensor(qo.inputs[k]);
        EXPECT_EQ(ft.name, qt.name);
        EXPECT_EQ(ft.shape, qt.shape) << ft.name;
      }
      EXPECT_EQ(f.tensor(fo.outputs.at(0)).name, q.tensor(qo.outputs.at(0)).name);
      EXPECT_EQ(f.tensor(fo.outputs.at(0)).type, DType::kFloat32);
      if (!is_weighted(q, qo)) continue;
      // Each int8 weight and int32 bias is its float value rounded to the nearest step.
      for (size_t k : {size_t{1}, size_t{2}}) {
        const Tensor& ft = f.tensor(fo.inputs[k]);
        const Tensor& qt = q.tensor(qo.inputs[k]);
        ASSERT_EQ(ft.type, DType::kFloat32) << ft.name;
        const size_t n = ft.data.size() / 4;
        ASSERT_EQ(n * (k == 1 ? 1 : 4), qt.data.size()) << ft.name;
        const size_t axis = static_cast<size_t>(qt.quant.axis);
        size_t inner = 1;
        for (size_t d = axis + 1; d < qt.shape.size(); ++d)
          inner *= static_cast<size_t>(qt.shape[d]);
        const size_t channels = static_cast<size_t>(qt.shape[axis]);
        size_t off_by_more = 0;
        for (size_t e = 0; e < n; ++e) {
          float real;
          std::memcpy(&real, ft.data.data() + 4 * e, 4);
          int32_t code;
          if (k == 1) {
            code = static_cast<int8_t>(qt.data[e]);
          } else {
            std::memcpy(&code, qt.data.data() + 4 * e, 4);
          }
          const double step = qt.quant.scale.at((e / inner) % channels);
          if (std::abs(real - step * code) > 0.5001 * step + 1e-7) ++off_by_more;
        }
        EXPECT_EQ(off_by_more, 0u) << ft.name << ": values off by more than half a step";
      }
    }
  }
  EXPECT_THROW(build_conv_stack(8, 8, 3, 2, 16, ZooOptions{.seed = 1, .float_model = true}), Error);
}

TEST(ZooInceptionV4, MatchesTfSlim) {
  // TF-slim's inception_v4 with 1001 classes has 42.648 M parameters (OpenVINO's model card for
  // the frozen slim graph); folded batch norms leave one bias per conv channel, so weights plus
  // biases count the same.
  const Model& m = zoo_model("inception_v4");
  int64_t weights = 0, biases = 0;
  for (const Op& op : m.ops()) {
    if (!is_weighted(m, op)) continue;
    weights += m.tensor(op.inputs.at(1)).byte_size();
    biases += m.tensor(op.inputs.at(2)).byte_size() / 4;
  }
  EXPECT_NEAR(static_cast<double>(weights + biases), 42.648e6, 0.002e6);
  EXPECT_EQ(weights, 42'617'184);  // sum of kh x kw x in x out over the layers, as drawn
  EXPECT_EQ(biases, 32'585);       // one per conv channel, 1001 for the logits
  const auto counts = op_counts(m);
  EXPECT_EQ(counts.at("CONV_2D"), 149);  // stem 11, A 4x7, red. A 4, B 7x10, red. B 6, C 3x10
  EXPECT_EQ(counts.at("AVERAGE_POOL_2D"), 15);  // one per A, B and C block, and the logits'
  EXPECT_EQ(counts.at("MAX_POOL_2D"), 4);
  EXPECT_EQ(counts.at("CONCATENATION"), 25);  // 19 blocks, and two split branches in each C
  EXPECT_EQ(counts.at("FULLY_CONNECTED"), 1);
  // The grid sizes of the paper's figure 9: 35x35x384, 17x17x1024, 8x8x1536.
  const std::map<std::string, std::vector<int32_t>> shapes = {
      {"Mixed_5a", {1, 35, 35, 384}},  {"Mixed_5e", {1, 35, 35, 384}},
      {"Mixed_6a", {1, 17, 17, 1024}}, {"Mixed_6h", {1, 17, 17, 1024}},
      {"Mixed_7a", {1, 8, 8, 1536}},   {"Mixed_7d", {1, 8, 8, 1536}}};
  for (const auto& [block, shape] : shapes) {
    const Tensor* t = find_tensor(m, "InceptionV4/InceptionV4/" + block + "/concat");
    ASSERT_NE(t, nullptr) << block;
    EXPECT_EQ(t->shape, shape) << block;
  }
  const Tensor* seven =
      find_tensor(m, "InceptionV4/InceptionV4/Mixed_6b/Branch_1/Conv2d_0b_1x7/weights");
  ASSERT_NE(seven, nullptr);
  EXPECT_EQ(seven->shape, (std::vector<int32_t>{224, 1, 7, 192}));  // 1 high, 7 wide
  const std::map<std::string, std::vector<int32_t>> kernels = {
      {"Mixed_6b/Branch_1/Conv2d_0c_7x1", {256, 7, 1, 224}},
      {"Mixed_6b/Branch_2/Conv2d_0b_7x1", {192, 7, 1, 192}},
      {"Mixed_4a/Branch_1/Conv2d_0c_7x1", {64, 7, 1, 64}},
      {"Mixed_7a/Branch_1/Conv2d_0b_1x7", {256, 1, 7, 256}},
      {"Mixed_7b/Branch_1/Conv2d_0c_3x1", {256, 3, 1, 384}},
      {"Mixed_7b/Branch_2/Conv2d_0b_3x1", {448, 3, 1, 384}},
      {"Mixed_7b/Branch_2/Conv2d_0c_1x3", {512, 1, 3, 448}}};
  for (const auto& [layer, shape] : kernels) {
    const Tensor* w = find_tensor(m, "InceptionV4/InceptionV4/" + layer + "/weights");
    ASSERT_NE(w, nullptr) << layer;
    EXPECT_EQ(w->shape, shape) << layer;
  }
}

TEST(ZooUNet, HasTheSkipConnections) {
  const Model& m = zoo_model("unet");
  const auto counts = op_counts(m);
  EXPECT_EQ(counts.at("CONCATENATION"), 4);
  EXPECT_EQ(counts.at("RESIZE_NEAREST_NEIGHBOR"), 4);
  EXPECT_EQ(counts.at("MAX_POOL_2D"), 4);
  EXPECT_EQ(counts.at("CONV_2D"), 23);
  const Tensor* concat = find_tensor(m, "model/up1_concat/concat");
  ASSERT_NE(concat, nullptr);
  EXPECT_EQ(concat->shape, (std::vector<int32_t>{1, 128, 128, 32}));
  const Tensor* skip = find_tensor(
      m,
      "model/down1_conv2_relu/Relu;model/down1_conv2_bn/FusedBatchNormV3;model/down1_conv2/Conv2D");
  ASSERT_NE(skip, nullptr);
  // The long skip connection feeds the concatenation.
  bool skip_feeds_concat = false;
  for (const Op& op : m.ops()) {
    if (m.op_type(op) == "CONCATENATION" && op.outputs.at(0) == concat->index) {
      skip_feeds_concat =
          std::find(op.inputs.begin(), op.inputs.end(), skip->index) != op.inputs.end();
    }
  }
  EXPECT_TRUE(skip_feeds_concat);
  const Tensor* bottleneck =
      find_tensor(m,
                  "model/bottleneck_conv2_relu/Relu;model/bottleneck_conv2_bn/"
                  "FusedBatchNormV3;model/bottleneck_conv2/Conv2D");
  ASSERT_NE(bottleneck, nullptr);
  EXPECT_EQ(bottleneck->shape, (std::vector<int32_t>{1, 8, 8, 256}));
}

}  // namespace
}  // namespace pipecut
