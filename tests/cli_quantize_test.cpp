// quantize, then split, then verify: a float model quantized natively splits into 8-bit segments
// whose chain computes exactly what the whole quantized model computes.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::run_cli;

TEST(CliQuantize, QuantizedWholeThenSplitIsBitExact) {
  const fs::path dir = testing::fresh_dir("CliQuantize");
  const std::string shared = PIPECUT_SHARED_DIR;
  const fs::path q = dir / "vww_int8.tflite", tree = dir / "tree";
  const CliResult quantized =
      run_cli("quantize " + shared + "/models/float/vww_tiny_mobilenet_v1_0.25_96.tflite -o " +
              q.string() + " --calib " + shared + "/images --mean 0 --std 255");
  ASSERT_EQ(quantized.status, 0) << quantized.err;
  EXPECT_NE(quantized.out.find("int8, calibrated on"), std::string::npos) << quantized.out;
  const CliResult split = run_cli("split " + q.string() + " --max-size 100KiB -o " + tree.string());
  ASSERT_EQ(split.status, 0) << split.err;
  const CliResult verify =
      run_cli("verify " + tree.string() + " --inputs 2 --image " + shared + "/images/squat.bmp");
  EXPECT_EQ(verify.status, 0) << verify.err;
  EXPECT_NE(verify.out.find("all bit-exact"), std::string::npos) << verify.out;
}

TEST(CliQuantize, BadRequestsFailInOneLine) {
  const fs::path dir = testing::fresh_dir("CliQuantizeBad");
  const std::string shared = PIPECUT_SHARED_DIR;
  const auto one_line = [](const CliResult& r) {
    return r.status != 0 && std::count(r.err.begin(), r.err.end(), '\n') == 1;
  };
  // No calibration, an 8-bit model, a folder without pictures.
  EXPECT_TRUE(
      one_line(run_cli("quantize " + shared + "/models/float/cifar10_tiny_resnet8.tflite -o " +
                       (dir / "a.tflite").string())));
  EXPECT_TRUE(one_line(run_cli("quantize " +
                               testing::coral_model("mobilenet_v2_1.0_224_quant.tflite").string() +
                               " -o " + (dir / "b.tflite").string() + " --random 2")));
  EXPECT_TRUE(
      one_line(run_cli("quantize " + shared + "/models/float/cifar10_tiny_resnet8.tflite -o " +
                       (dir / "c.tflite").string() + " --calib " + dir.string())));
  EXPECT_FALSE(fs::exists(dir / "a.tflite"));
  EXPECT_FALSE(fs::exists(dir / "b.tflite"));
  EXPECT_FALSE(fs::exists(dir / "c.tflite"));
}

}  // namespace
}  // namespace pipecut
