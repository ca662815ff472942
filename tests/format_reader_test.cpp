// The reader on real models and on broken ones.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
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

// The verifier checks only that a vector's length field is 4-byte aligned. A zero_point vector
// (64-bit elements) moved 4 bytes on must be refused, not read through a misaligned pointer (the
// fuzzer found such a file; UBSan reported the read).
TEST(Reader, RefusesMisalignedZeroPoints) {
  auto bytes = read_bytes(coral_model("tf2_mobilenet_v2_1.0_224_ptq.tflite"));
  const auto* model = tflite::GetModel(bytes.data());
  size_t vector_at = 0;  // the length field of a zero_point vector whose first element is 0
  for (const auto* t : *model->subgraphs()->Get(0)->tensors()) {
    const auto* q = t->quantization();
    if (q && q->zero_point() && q->zero_point()->size() > 1 && q->zero_point()->Get(0) == 0) {
      vector_at =
          static_cast<size_t>(reinterpret_cast<const uint8_t*>(q->zero_point()) - bytes.data());
      break;
    }
  }
  ASSERT_NE(vector_at, 0u);
  ASSERT_EQ(vector_at % 8, 4u) << "a writer puts 64-bit elements on 8-byte boundaries";
  // The one offset field that points at it: moved 4 bytes on, the vector's length reads as 0
  // (the upper half of the first element), which verifies, and its data sits 4 bytes off.
  size_t fields = 0;
  for (size_t p = 0; p + 4 <= vector_at; p += 4) {
    uint32_t offset;
    std::memcpy(&offset, bytes.data() + p, 4);
    if (p + offset != vector_at) continue;
    offset += 4;
    std::memcpy(bytes.data() + p, &offset, 4);
    ++fields;
  }
  ASSERT_EQ(fields, 1u);
  const std::string error = load_error(bytes);
  EXPECT_NE(error.find("misaligned quantization zero_point"), std::string::npos) << error;
  EXPECT_EQ(error.rfind("bad.tflite: ", 0), 0u) << error;
}

// Damage anywhere in a small real model, where almost every byte is structure (offsets, vtables,
// shapes, indices) rather than weights: each damaged file must load or be refused with one line
// naming it. Under the sanitizer build any out-of-bounds or misaligned read aborts the test.
TEST(Reader, DamagedStructureLoadsOrIsRefused) {
  const auto bytes = read_bytes(coral_model("split_concat.tflite"));
  ASSERT_GT(bytes.size(), 1000u);
  std::mt19937 rng(2026);
  int loaded = 0, refused = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    auto damaged = bytes;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % (damaged.size() - 4);
      switch (rng() % 4) {
        case 0:
          damaged[at] = static_cast<uint8_t>(rng());
          break;
        case 1:
          damaged[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 2: {
          constexpr uint32_t kExtremes[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000};
          const uint32_t v = kExtremes[rng() % 6];
          std::memcpy(damaged.data() + at, &v, 4);
          break;
        }
        default:  // an offset or index nudged by a small amount
          damaged[at] = static_cast<uint8_t>(damaged[at] + 4 * (1 + rng() % 4));
      }
    }
    const std::string error = load_error(std::move(damaged));
    if (error.empty()) {
      ++loaded;
      continue;
    }
    ASSERT_EQ(error.rfind("bad.tflite: ", 0), 0u) << trial << ": " << error;
    ASSERT_EQ(error.find('\n'), std::string::npos) << trial << ": " << error;
    ++refused;
  }
  std::printf("%d damaged files loaded, %d refused\n", loaded, refused);
  EXPECT_GT(loaded, 0);   // damage that leaves a valid model (a changed value, padding)
  EXPECT_GT(refused, 0);  // and damage that the checks catch
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
