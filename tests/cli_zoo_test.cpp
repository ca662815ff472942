// pipecut zoo through the binary: --list with parameters and multiply-accumulates, and the float
// build taken through quantize, split and verify as `make demo` takes the ResNet-101.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/cli_support.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::run_cli;

TEST(CliZoo, ListGivesParametersAndMacs) {
  const CliResult r = run_cli("zoo --list --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 20u);
  for (const auto& m : list) {
    EXPECT_GT(m["param_bytes"].get<int64_t>(), 0) << m["name"];
    EXPECT_GT(m["macs"].get<int64_t>(), 0) << m["name"];
    if (m["name"] == "resnet50") {
      // Weights and biases (as zoo_models_test asserts) plus the few int32 shape constants.
      EXPECT_NEAR(m["param_bytes"].get<double>(), 25'613'152, 1024);
      EXPECT_NEAR(m["macs"].get<double>(), 3.86e9, 0.01e9);  // Keras ResNet50: 3.87 G
    }
  }
  const CliResult text = run_cli("zoo --list");
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("inception_v4"), std::string::npos);
  EXPECT_NE(text.out.find("resnet152_cifar"), std::string::npos);
  EXPECT_NE(text.out.find("MACs"), std::string::npos);
  // The list is of the architectures as they are: a size for it is refused, not ignored.
  const CliResult sized = run_cli("zoo --list --input-size 299");
  EXPECT_NE(sized.status, 0);
  EXPECT_NE(sized.err.find("--list takes no --input-size"), std::string::npos) << sized.err;
}

TEST(CliZoo, FloatModelQuantizedSplitsAndVerifiesBitExact) {
  const fs::path dir = testing::fresh_dir("cli_zoo_" + std::to_string(::getpid()));
  const std::string f = (dir / "r18_float.tflite").string();
  const std::string q = (dir / "r18_int8.tflite").string();
  ASSERT_EQ(run_cli("zoo resnet18 --float -o " + f).status, 0);
  const CliResult inspect = run_cli("inspect --json " + f);
  ASSERT_EQ(inspect.status, 0) << inspect.err;
  EXPECT_EQ(nlohmann::json::parse(inspect.out)["inputs"][0]["type"], "FLOAT32");
  const CliResult quantized = run_cli("quantize " + f + " --random 4 -o " + q);
  ASSERT_EQ(quantized.status, 0) << quantized.err;
  const CliResult split = run_cli("split " + q + " --max-size 6MiB -o " + (dir / "split").string());
  ASSERT_EQ(split.status, 0) << split.err;
  const CliResult verify = run_cli("verify " + (dir / "split").string() + " --inputs 2");
  ASSERT_EQ(verify.status, 0) << verify.err;
  EXPECT_NE(verify.out.find("all bit-exact"), std::string::npos) << verify.out;
  fs::remove_all(dir);
}

TEST(CliZoo, CalibratedBuildIsTheSameEveryTimeAndNotTheAnalyticOne) {
  const fs::path dir = testing::fresh_dir("cli_zoo_cal_" + std::to_string(::getpid()));
  const std::string a = (dir / "a.tflite").string(), b = (dir / "b.tflite").string();
  ASSERT_EQ(run_cli("zoo mobilenet_v2_cifar --calibrate 3 -o " + a).status, 0);
  ASSERT_EQ(run_cli("zoo mobilenet_v2_cifar --calibrate 3 -o " + b).status, 0);
  EXPECT_EQ(testing::read_bytes(a), testing::read_bytes(b));
  // The analytic int8 build is another model: calibrated scales differ.
  const std::string analytic = (dir / "analytic.tflite").string();
  ASSERT_EQ(run_cli("zoo mobilenet_v2_cifar -o " + analytic).status, 0);
  EXPECT_NE(testing::read_bytes(a), testing::read_bytes(analytic));
  const CliResult inspect = run_cli("inspect --json " + a);
  ASSERT_EQ(inspect.status, 0) << inspect.err;
  EXPECT_EQ(nlohmann::json::parse(inspect.out)["inputs"][0]["type"], "INT8");
  const CliResult both = run_cli("zoo resnet18 --float --calibrate 2 -o " + b);
  EXPECT_NE(both.status, 0);
  EXPECT_NE(both.err.find("leave out --float"), std::string::npos) << both.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pipecut
