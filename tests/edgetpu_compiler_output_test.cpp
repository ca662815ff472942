// The parser of edgetpu_compiler's output, value by value on every real log in
// ../shared/edgetpu-logs (output users posted; several cut short).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "pipecut/edgetpu_compiler.h"

namespace pipecut {
namespace {

constexpr int64_t KiB = 1024, MiB = 1024 * 1024;
int64_t mib(double v) {
  return static_cast<int64_t>(std::llround(v * MiB));
}
int64_t kib(double v) {
  return static_cast<int64_t>(std::llround(v * KiB));
}

CompilerOutput parse_log(const std::string& name) {
  const std::string path = std::string(PIPECUT_SHARED_DIR) + "/edgetpu-logs/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_compiler_output(text.str());
}

// What the compiler printed for one model; a figure left empty must be absent.
struct Figures {
  std::string input_model;
  std::optional<int64_t> input, output, used, remaining, available, off;
  std::optional<int> subgraphs, total_ops;
};

void expect_figures(const CompiledModelReport& m, const Figures& f) {
  EXPECT_EQ(m.input_model, f.input_model);
  EXPECT_EQ(m.input_bytes, f.input) << f.input_model;
  EXPECT_EQ(m.output_bytes, f.output) << f.input_model;
  EXPECT_EQ(m.on_chip_used, f.used) << f.input_model;
  EXPECT_EQ(m.on_chip_remaining, f.remaining) << f.input_model;
  EXPECT_EQ(m.on_chip_available, f.available) << f.input_model;
  EXPECT_EQ(m.off_chip_used, f.off) << f.input_model;
  EXPECT_EQ(m.subgraphs, f.subgraphs) << f.input_model;
  EXPECT_EQ(m.total_ops, f.total_ops) << f.input_model;
}

TEST(EdgeTpuCompilerOutput, Sizes) {
  EXPECT_EQ(parse_compiler_size("7.16MiB"), mib(7.16));
  EXPECT_EQ(parse_compiler_size("2.25KiB"), 2304);
  EXPECT_EQ(parse_compiler_size("0.00B"), 0);
  EXPECT_EQ(parse_compiler_size("96B"), 96);
  EXPECT_FALSE(parse_compiler_size("7.16"));
  EXPECT_FALSE(parse_compiler_size("MiB"));
  EXPECT_FALSE(parse_compiler_size("1.0PiB"));
  EXPECT_FALSE(parse_compiler_size(""));
}

TEST(EdgeTpuCompilerOutput, V16Resnet50Segment) {
  const auto out = parse_log("v16-resnet50-segment1.stdout.txt");
  EXPECT_EQ(out.version, "16.0.384591198");
  EXPECT_TRUE(out.compiled);
  EXPECT_TRUE(out.complete) << (out.gaps.empty() ? "" : out.gaps.front());
  EXPECT_TRUE(out.failures.empty());
  ASSERT_EQ(out.models.size(), 1u);
  const auto& m = out.models[0];
  EXPECT_TRUE(m.complete);
  expect_figures(m, {"/workplace/models/large_resnet50_split/cpu/resnet50_seg1_int8.tflite",
                     mib(1.51), mib(1.48), mib(1.41), mib(5.74), std::nullopt, 0, 1, 34});
  EXPECT_EQ(m.output_model,
            "/workplace/models/large_resnet50_split/tpu/resnet50_seg1_int8_edgetpu.tflite");
  EXPECT_FALSE(m.ops_on_tpu);
  EXPECT_EQ(m.operation_log,
            "/workplace/models/large_resnet50_split/tpu/resnet50_seg1_int8_edgetpu.log");
  ASSERT_EQ(m.operators.size(), 4u);
  EXPECT_EQ(m.operators[0].op, "PAD");
  EXPECT_EQ(m.operators[0].count, 2);
  EXPECT_EQ(m.operators[1].op, "CONV_2D");
  EXPECT_EQ(m.operators[1].count, 24);
  EXPECT_EQ(m.operators[1].status, "Mapped to Edge TPU");
  EXPECT_EQ(m.operators[2].op, "ADD");
  EXPECT_EQ(m.operators[2].count, 7);
  EXPECT_EQ(m.operators[3].op, "MAX_POOL_2D");
  EXPECT_EQ(m.operators[3].count, 1);
}

TEST(EdgeTpuCompilerOutput, V15CocompiledTwoModelsCutShort) {
  const auto out = parse_log("v15-cocompiled-two-models.stdout.txt");
  EXPECT_EQ(out.version, "15.0.340273435");
  EXPECT_TRUE(out.compiled);
  EXPECT_FALSE(out.complete);  // ends with "See the operation log file" cut mid-sentence
  ASSERT_EQ(out.models.size(), 2u);
  const auto& cnn = out.models[0];
  expect_figures(cnn, {"cnn.tflite", mib(8.00), mib(9.30), mib(7.16), kib(2.25), std::nullopt,
                       mib(2.95), 1, 313});
  EXPECT_EQ(cnn.output_model, "cnn_edgetpu.tflite");
  EXPECT_EQ(cnn.operation_log, "cnn_edgetpu.log");
  EXPECT_TRUE(cnn.complete);
  const auto& rnn = out.models[1];
  expect_figures(
      rnn, {"rnn.tflite", mib(2.97), mib(4.74), 0, kib(2.25), std::nullopt, mib(4.53), 1, 78});
  EXPECT_EQ(rnn.operation_log, "rnn_edgetpu.log");
}

TEST(EdgeTpuCompilerOutput, V15SmallOffChipWithTable) {
  const auto out = parse_log("v15-small-offchip.stdout.txt");
  EXPECT_EQ(out.version, "15.0.340273435");
  EXPECT_TRUE(out.compiled);
  EXPECT_TRUE(out.complete);
  ASSERT_EQ(out.models.size(), 1u);
  const auto& m = out.models[0];
  expect_figures(m, {"tl_obj_experimental.tflite", kib(76.14), kib(152.54), kib(85.75), mib(7.77),
                     std::nullopt, kib(5.50), 1, 15});
  const std::vector<std::pair<std::string, int>> rows = {
      {"SOFTMAX", 1}, {"FULLY_CONNECTED", 2}, {"ADD", 4}, {"MUL", 4}, {"CONV_2D", 4}};
  ASSERT_EQ(m.operators.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(m.operators[i].op, rows[i].first);
    EXPECT_EQ(m.operators[i].count, rows[i].second);
    EXPECT_EQ(m.operators[i].status, "Mapped to Edge TPU");
  }
}

TEST(EdgeTpuCompilerOutput, V20AvailableInsteadOfRemaining) {
  const auto out = parse_log("v2.0-available-line.stdout.txt");
  EXPECT_EQ(out.version, "2.0.291256449");
  EXPECT_TRUE(out.compiled);
  EXPECT_TRUE(out.complete);
  ASSERT_EQ(out.models.size(), 1u);
  const auto& m = out.models[0];
  EXPECT_TRUE(m.complete);
  expect_figures(m, {"retinaface_landmark_320_240_quant.tflite", kib(478.66), kib(537.74),
                     kib(729.50), std::nullopt, mib(7.69), 0, 1, 90});
  EXPECT_TRUE(m.operators.empty());
}

TEST(EdgeTpuCompilerOutput, V21PartialCpuFallbackTableCutShort) {
  const auto out = parse_log("v2.1-partial-cpu-fallback.stdout.txt");
  EXPECT_EQ(out.version, "2.1.302470888");
  EXPECT_TRUE(out.compiled);
  EXPECT_FALSE(out.complete);  // the last table row is "QUANTIZE" alone
  ASSERT_EQ(out.models.size(), 1u);
  const auto& m = out.models[0];
  EXPECT_FALSE(m.complete);
  expect_figures(m, {"model2.tflite", mib(8.11), mib(9.47), mib(6.86), kib(7.75), std::nullopt,
                     mib(1.22), 1, 93});
  EXPECT_EQ(m.ops_on_tpu, 83);
  EXPECT_EQ(m.ops_on_cpu, 10);
  ASSERT_EQ(m.operators.size(), 4u);
  EXPECT_EQ(m.operators[0].op, "LOGISTIC");
  EXPECT_EQ(m.operators[0].count, 1);
  EXPECT_EQ(m.operators[0].status, "More than one subgraph is not supported");
  EXPECT_EQ(m.operators[1].op, "ADD");
  EXPECT_EQ(m.operators[1].count, 10);
  EXPECT_EQ(m.operators[1].status, "Mapped to Edge TPU");
  EXPECT_EQ(m.operators[2].op, "CONCATENATION");
  EXPECT_EQ(m.operators[2].status, "More than one subgraph is not supported");
  EXPECT_EQ(m.operators[3].op, "CONCATENATION");
  EXPECT_EQ(m.operators[3].count, 3);
}

TEST(EdgeTpuCompilerOutput, V16SmallModelLargeActivations) {
  const auto out = parse_log("v16-small-model-large-activations.stdout.txt");
  EXPECT_EQ(out.version, "16.0.384591198");
  EXPECT_TRUE(out.compiled);
  EXPECT_TRUE(out.complete);
  ASSERT_EQ(out.models.size(), 1u);
  const auto& m = out.models[0];
  EXPECT_TRUE(m.complete);
  expect_figures(m, {"quantized_model.tflite", mib(4.04), mib(4.13), kib(604.50), kib(511.50),
                     std::nullopt, mib(3.45), 1, 50});
  EXPECT_EQ(m.operation_log, "quantized_model_edgetpu.log");
}

TEST(EdgeTpuCompilerOutput, V16SegmentedEfficientDetEndsMidLine) {
  const auto out = parse_log("v16-segmented-efficientdet-lite3.stdout.txt");
  EXPECT_EQ(out.version, "16.0.384591198");
  EXPECT_TRUE(out.compiled);
  EXPECT_FALSE(out.complete);  // a second compilation starts and is cut mid-line
  ASSERT_EQ(out.failures.size(), 1u);
  EXPECT_EQ(out.failures[0], "Compilation failed due to l");
  ASSERT_EQ(out.models.size(), 1u);
  const auto& m = out.models[0];
  EXPECT_TRUE(m.complete);
  expect_figures(m, {"efficientdet_lite3_512_ptq_segment_0_of_2.tflite", mib(5.20), mib(6.51),
                     mib(6.02), mib(1.02), std::nullopt, 0, 1, 84});
}

TEST(EdgeTpuCompilerOutput, V16SegmentedDelegateSearchEndsAtTableHeader) {
  const auto out = parse_log("v16-segmented-delegate-search.stdout.txt");
  EXPECT_EQ(out.version, "16.0.384591198");
  EXPECT_TRUE(out.compiled);
  EXPECT_FALSE(out.complete);
  ASSERT_EQ(out.models.size(), 1u);
  const auto& m = out.models[0];
  expect_figures(m, {"rede_modelo3_73_segment_0_of_2.tflite", mib(5.21), mib(6.51), mib(6.02),
                     mib(1.02), std::nullopt, 0, 1, 84});
  EXPECT_TRUE(m.operators.empty());
}

TEST(EdgeTpuCompilerOutput, V16DelegateSearchFailures) {
  const auto out = parse_log("v16-delegate-search-failures.stdout.txt");
  EXPECT_EQ(out.version, "16.0.384591198");
  EXPECT_FALSE(out.compiled);
  EXPECT_FALSE(out.complete);  // ends inside a third attempt
  EXPECT_TRUE(out.models.empty());
  ASSERT_EQ(out.failures.size(), 2u);
  for (const auto& f : out.failures)
    EXPECT_EQ(f, "Compilation failed due to large activation tensors in model.");
}

TEST(EdgeTpuCompilerOutput, V16OperationLogFile) {
  const auto out = parse_log("v16-efficientnet-m.operation-log.txt");
  EXPECT_EQ(out.version, "16.0.384591198");
  EXPECT_TRUE(out.complete);
  ASSERT_EQ(out.models.size(), 1u);
  const auto& m = out.models[0];
  EXPECT_TRUE(m.complete);
  EXPECT_EQ(m.input_model, "test/model/efficientnet-edgetpu-M_quant.tflite");
  EXPECT_EQ(m.output_model, "test/model/compiled/efficientnet-edgetpu-M_quant_edgetpu.tflite");
  const std::vector<std::pair<std::string, int>> rows = {{"FULLY_CONNECTED", 1},
                                                         {"DEPTHWISE_CONV_2D", 14},
                                                         {"CONV_2D", 50},
                                                         {"QUANTIZE", 2},
                                                         {"SOFTMAX", 1},
                                                         {"MEAN", 1},
                                                         {"ADD", 17}};
  ASSERT_EQ(m.operators.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(m.operators[i].op, rows[i].first);
    EXPECT_EQ(m.operators[i].count, rows[i].second);
    EXPECT_EQ(m.operators[i].status, "Mapped to Edge TPU");
  }
}

TEST(EdgeTpuCompilerOutput, GarbageNeverThrowsAndSaysIncomplete) {
  std::string garbage;
  uint32_t x = 12345;
  for (int i = 0; i < 20000; ++i) {
    x = x * 1664525u + 1013904223u;
    garbage.push_back(static_cast<char>(x >> 24));
  }
  garbage += "\nInput model: a.tflite\nOn-chip memory used for caching model parameters: 9x9MiB\n";
  CompilerOutput out;
  ASSERT_NO_THROW(out = parse_compiler_output(garbage));
  EXPECT_FALSE(out.complete);
  ASSERT_EQ(out.models.size(), 1u);
  EXPECT_FALSE(out.models[0].on_chip_used);
  EXPECT_FALSE(out.models[0].complete);
  EXPECT_TRUE(parse_compiler_output("").models.empty());
}

}  // namespace
}  // namespace pipecut
