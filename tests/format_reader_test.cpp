// The reader on real models and on broken ones.
#include <gtest/gtest.h>

#include <random>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "pipecut/model.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

using testing::coral_model;
using testing::read_bytes;

std::string load_error(std::vector<uint8_t> bytes) {
  try {
    Model::from_bytes(std::move(bytes), "bad.tflite");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<uint8_t> pack(const tflite::ModelT& model) {
  flatbuffers::FlatBufferBuilder fbb;
  tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, &model));
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::unique_ptr<tflite::ModelT> unpack(const std::vector<uint8_t>& bytes) {
  return std::unique_ptr<tflite::ModelT>(tflite::GetModel(bytes.data())->UnPack());
}

TEST(Reader, LoadsEveryRealModel) {
  struct Expect {
    std::string file;
    size_t ops;
  };
  for (const Expect& e :
       {Expect{"mobilenet_v1_0.25_128_quant.tflite", 31},
        Expect{"mobilenet_v2_1.0_224_quant.tflite", 66},
        Expect{"tf2_mobilenet_v2_1.0_224_ptq.tflite", 68},
        Expect{"deeplabv3_mnv2_dm05_pascal_quant.tflite", 72},
        Expect{"keras_lstm_mnist_ptq.tflite", 6}, Expect{"split_concat.tflite", 3}}) {
    const Model m = Model::load(coral_model(e.file));
    EXPECT_EQ(m.ops().size(), e.ops) << e.file;
    EXPECT_FALSE(m.inputs().empty()) << e.file;
    EXPECT_FALSE(m.outputs().empty()) << e.file;
  }
}

TEST(Reader, ReadsTensorsOfMobilenetV2) {
  const Model m = Model::load(coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const Tensor& input = m.tensor(m.inputs()[0]);
  EXPECT_EQ(input.shape, (std::vector<int32_t>{1, 224, 224, 3}));
  EXPECT_EQ(input.type, DType::kUInt8);
  ASSERT_TRUE(input.quant.present());
  const Tensor& output = m.tensor(m.outputs()[0]);
  EXPECT_EQ(output.shape, (std::vector<int32_t>{1, 1001}));
  EXPECT_EQ(m.op_type(m.ops()[0]), "CONV_2D");
  // The first conv's weights are constant with the size their shape says.
  const Tensor& weights = m.tensor(m.ops()[0].inputs[1]);
  EXPECT_TRUE(weights.is_constant());
  EXPECT_EQ(static_cast<int64_t>(weights.data.size()), weights.byte_size());
}

TEST(Reader, ReadsOldOpcodeField) {
  // split_concat stores its op codes in the old int8 field only.
  const Model m = Model::load(coral_model("split_concat.tflite"));
  EXPECT_EQ(m.op_type(m.ops()[0]), "CONCATENATION");
  EXPECT_EQ(m.op_type(m.ops()[1]), "SPLIT");
  EXPECT_EQ(m.op_type(m.ops()[2]), "CONCATENATION");
}

TEST(Reader, PerChannelQuantizationOfTf2Model) {
  const Model m = Model::load(coral_model("tf2_mobilenet_v2_1.0_224_ptq.tflite"));
  int per_channel = 0;
  for (const Tensor& t : m.tensors()) {
    if (t.is_constant() && t.quant.per_channel()) {
      ++per_channel;
      EXPECT_EQ(static_cast<int32_t>(t.quant.scale.size()),
                t.shape[static_cast<size_t>(t.quant.axis)]);
    }
  }
  EXPECT_GT(per_channel, 50);
}

TEST(Reader, RefusesEdgeTpuModel) {
  try {
    Model::load(coral_model("mobilenet_v1_0.25_128_quant_edgetpu.tflite"));
    FAIL() << "an Edge TPU model was accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("edgetpu-custom-op"), std::string::npos) << what;
    EXPECT_NE(what.find("mobilenet_v1_0.25_128_quant_edgetpu.tflite"), std::string::npos) << what;
  }
}

TEST(Reader, RefusesTruncatedAndRandomFiles) {
  auto bytes = read_bytes(coral_model("mobilenet_v1_0.25_128_quant.tflite"));
  // Cuts that remove data the model refers to (the last bytes can be mere padding).
  for (size_t keep : {size_t{0}, size_t{4}, size_t{100}, bytes.size() / 2, bytes.size() * 3 / 4}) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep));
    const std::string error = load_error(cut);
    EXPECT_NE(error.find("bad.tflite: "), std::string::npos) << keep;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<uint8_t> noise(1000 + static_cast<size_t>(trial) * 37);
    for (auto& b : noise) b = static_cast<uint8_t>(rng());
    if (trial % 2 == 0) std::copy_n("TFL3", 4, noise.begin() + 4);  // pass the identifier check
    EXPECT_FALSE(load_error(noise).empty()) << trial;
  }
  // Random byte flips in a real file: either a clean error or a model that verifies.
  for (int trial = 0; trial < 200; ++trial) {
    auto flipped = bytes;
    for (int i = 0; i < 8; ++i)
      flipped[rng() % flipped.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    try {
      Model::from_bytes(flipped, "flipped.tflite");
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("flipped.tflite: ", 0), 0u);
    }
  }
}

TEST(Reader, RefusesOutOfRangeIndices) {
  const auto bytes = read_bytes(coral_model("mobilenet_v1_0.25_128_quant.tflite"));
  {
    auto m = unpack(bytes);
    m->subgraphs[0]->operators[3]->inputs[0] = 99999;
    EXPECT_NE(load_error(pack(*m)).find("refers to tensor 99999"), std::string::npos);
  }
  {
    auto m = unpack(bytes);
    m->subgraphs[0]->operators[0]->opcode_index = 77;
    EXPECT_NE(load_error(pack(*m)).find("opcode 77"), std::string::npos);
  }
  {
    auto m = unpack(bytes);
    m->subgraphs[0]->tensors[5]->buffer = 123456;
    EXPECT_NE(load_error(pack(*m)).find("buffer 123456"), std::string::npos);
  }
  {
    auto m = unpack(bytes);
    m->subgraphs[0]->outputs[0] = -3;
    EXPECT_NE(load_error(pack(*m)).find("refers to tensor -3"), std::string::npos);
  }
}

TEST(Reader, RefusesBadShapesAndSizes) {
  const auto bytes = read_bytes(coral_model("mobilenet_v1_0.25_128_quant.tflite"));
  const Model good = Model::from_bytes(bytes, "good");
  const int weights = good.ops()[0].inputs[1];
  {
    auto m = unpack(bytes);
    m->subgraphs[0]->tensors[static_cast<size_t>(weights)]->shape[0] += 1;
    EXPECT_NE(load_error(pack(*m)).find("bytes but its shape and type need"), std::string::npos);
  }
  {
    auto m = unpack(bytes);
    m->subgraphs[0]->tensors[0]->shape = {-2, 3};
    EXPECT_NE(load_error(pack(*m)).find("negative dimension"), std::string::npos);
  }
  {
    auto m = unpack(bytes);
    m->subgraphs[0]->tensors[0]->shape = {1 << 30, 1 << 30, 1 << 30};
    EXPECT_NE(load_error(pack(*m)).find("too large"), std::string::npos);
  }
}

TEST(Reader, RefusesWrongExecutionOrderAndSubgraphCount) {
  const auto bytes = read_bytes(coral_model("mobilenet_v1_0.25_128_quant.tflite"));
  {
    auto m = unpack(bytes);
    std::swap(m->subgraphs[0]->operators[1], m->subgraphs[0]->operators[2]);
    EXPECT_NE(load_error(pack(*m)).find("before any op produces it"), std::string::npos);
  }
  {
    auto m = unpack(bytes);
    m->subgraphs.push_back(std::make_unique<tflite::SubGraphT>());
    EXPECT_NE(load_error(pack(*m)).find("2 subgraphs"), std::string::npos);
  }
}

}  // namespace
}  // namespace pipecut
