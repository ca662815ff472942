// quantize, then split, then verify: a float model quantized natively splits into 8-bit segments
// whose chain computes exactly what the whole quantized model computes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

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

// The float model itself, before any quantization: split for CPU workers (float32 boundaries),
// verified bit for bit, run as a pipeline, and served as one tree folder per stage.
TEST(CliQuantize, FloatModelSplitsVerifiesAndRunsAsAPipeline) {
  const fs::path dir = testing::fresh_dir("CliQuantizeFloat");
  const std::string shared = PIPECUT_SHARED_DIR;
  const fs::path tree = dir / "tree";
  const CliResult split = run_cli("split " + shared +
                                  "/models/float/vww_tiny_mobilenet_v1_0.25_96.tflite --target cpu "
                                  "--max-size 300KiB -o " +
                                  tree.string());
  ASSERT_EQ(split.status, 0) << split.err;
  EXPECT_NE(split.out.find("_float32.tflite"), std::string::npos) << split.out;
  const CliResult verify =
      run_cli("verify " + tree.string() + " --inputs 2 --image " + shared + "/images/squat.bmp");
  EXPECT_EQ(verify.status, 0) << verify.err;
  EXPECT_NE(verify.out.find("all bit-exact"), std::string::npos) << verify.out;
  const CliResult pipeline = run_cli("pipeline " + tree.string() + " --frames 20 --json");
  ASSERT_EQ(pipeline.status, 0) << pipeline.err;
  const auto j = nlohmann::json::parse(pipeline.out);
  EXPECT_EQ(j["frames"], 20);
  EXPECT_GE(j["stages"].size(), 3u);
}

// Coral's own 8-bit MobileNet v2, dequantized to float and quantized again by pipecut (calibrated
// on every other photo): wherever Coral's file is sure of its class (top-1 probability above
// 0.5), pipecut's gives the same class, on every photo.
TEST(CliQuantize, DequantizedCoralMobileNetV2RequantizesToTheSameTop1) {
  const std::string shared = PIPECUT_SHARED_DIR;
  const std::string coral = testing::coral_model("mobilenet_v2_1.0_224_quant.tflite").string();
  const fs::path dir = testing::fresh_dir("cli_quantize_coral_again");
  const std::string as_float = (dir / "float.tflite").string(),
                    again = (dir / "again.tflite").string();
  ASSERT_EQ(run_cli("dequantize " + coral + " -o " + as_float).status, 0);
  const auto photos = testing::shared_photos();
  std::string calib;
  for (size_t i = 0; i < photos.size(); i += 2) calib += " " + photos[i];
  // Coral's input is uint8 with (pixel - 128) / 128; the float model takes that real value.
  // Without bias correction: these weights were rounded to 8 bits by Coral already, and the
  // correction's channel means from nine photos tip the one borderline photo (pets.jpg, Coral
  // 0.566) to the neighbouring dog class; mse ranges alone keep all 13.
  const CliResult q = run_cli("quantize " + as_float + " -o " + again + " --calib" + calib +
                              " --mean 128 --std 128 --io-type uint8 --no-bias-correction");
  ASSERT_EQ(q.status, 0) << q.err;
  // `run --image` feeds pixels as they are to a uint8 input: the comparison holds only because
  // the calibrated input is exactly Coral's (1/128, 128), which photos spanning 0..255 give.
  const CliResult inspect = run_cli("inspect " + again);
  ASSERT_EQ(inspect.status, 0) << inspect.err;
  ASSERT_NE(inspect.out.find("UINT8 q=0.0078125,128"), std::string::npos) << inspect.out;
  const auto top1 = [](const std::string& model, const std::string& photo) {
    const CliResult r = run_cli("run " + model + " --image " + photo + " --json --iterations 1");
    EXPECT_EQ(r.status, 0) << r.err;
    const auto t = nlohmann::json::parse(r.out)["outputs"][0]["top5"][0];
    return std::pair{t["index"].get<int>(), t["score"].get<double>()};
  };
  int sure = 0;
  for (const auto& photo : photos) {
    const auto [coral_class, coral_p] = top1(coral, photo);
    if (coral_p <= 0.5) continue;
    ++sure;
    EXPECT_EQ(top1(again, photo).first, coral_class) << photo;
  }
  EXPECT_GE(sure, 10);  // 13 of the 18 photos today
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
