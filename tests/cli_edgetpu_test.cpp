// `pipecut compile`, `estimate` and `simulate` end to end on a real split tree.
//
// The compile tests run a STAND-IN for Coral's edgetpu_compiler (support/
// stand_in_edgetpu_compiler.sh), not the real compiler, which this machine does not have: it
// prints a real compiler's output (../shared/edgetpu-logs/v16-resnet50-segment1.stdout.txt) and
// writes an output file, or misbehaves on request (hang, crash, garbage, failures).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::run_cli;

const std::string kStandIn =
    std::string(PIPECUT_TEST_SUPPORT_DIR) + "/stand_in_edgetpu_compiler.sh";

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

int lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

class CliEdgeTpu : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    tree_ = dir_ / "tree";
    const std::string model = testing::coral_model("mobilenet_v2_1.0_224_quant.tflite").string();
    ASSERT_EQ(run_cli("split " + model + " --max-size 1.5MiB -o " + tree_.string()).status, 0);
    setenv("STAND_IN_LOG",
           (std::string(PIPECUT_SHARED_DIR) + "/edgetpu-logs/v16-resnet50-segment1.stdout.txt")
               .c_str(),
           1);
    unsetenv("STAND_IN_MODE");
  }
  // Every .tflite of the tree, as (folder, file) from its meta.json files.
  std::vector<std::pair<std::string, nlohmann::json>> entries() {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (const auto& folder : fs::directory_iterator(tree_)) {
      if (!fs::is_directory(folder.path()) || !fs::exists(folder.path() / "meta.json")) continue;
      const auto meta = read_json(folder.path() / "meta.json");
      for (const auto& f : meta["files"]) out.emplace_back(folder.path().filename().string(), f);
    }
    return out;
  }
  fs::path dir_, tree_;
};

TEST_F(CliEdgeTpu, CompileKeepsOutputLogAndReportBesideEveryFile) {
  const CliResult r = run_cli("compile " + tree_.string() + " -j 2 --compiler " + kStandIn);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto files = entries();
  ASSERT_GE(files.size(), 3u);
  for (const auto& [folder, f] : files) {
    const fs::path dir = tree_ / folder;
    const std::string stem = fs::path(f["file"].get<std::string>()).stem().string();
    ASSERT_TRUE(f.contains("edgetpu")) << folder << "/" << stem;
    const auto& e = f["edgetpu"];
    EXPECT_EQ(e["source"], "compiled");
    EXPECT_TRUE(e["ok"].get<bool>());
    EXPECT_EQ(e["compiler_version"], "16.0.384591198");
    EXPECT_EQ(e["output"], "tpu/" + stem + "_edgetpu.tflite");
    EXPECT_EQ(e["log"], "tpu/" + stem + "_edgetpu.log");
    EXPECT_TRUE(fs::is_regular_file(dir / "tpu" / (stem + "_edgetpu.tflite")));
    EXPECT_TRUE(fs::is_regular_file(dir / "tpu" / (stem + "_edgetpu.log")));
    std::ifstream transcript(dir / "tpu" / (stem + "_compile.txt"));
    const std::string text((std::istreambuf_iterator<char>(transcript)), {});
    EXPECT_NE(text.find("command: " + kStandIn + " -s -o "), std::string::npos);
    EXPECT_NE(text.find("result: exit status 0"), std::string::npos);
    EXPECT_NE(text.find("Compilation succeeded!"), std::string::npos);
    const auto& report = e["report"];
    EXPECT_EQ(report["on_chip_used_bytes"], std::llround(1.41 * 1024 * 1024));
    EXPECT_EQ(report["on_chip_remaining_bytes"], std::llround(5.74 * 1024 * 1024));
    EXPECT_EQ(report["off_chip_used_bytes"], 0);
    EXPECT_EQ(report["total_ops"], 34);
    EXPECT_EQ(report["subgraphs"], 1);
    ASSERT_EQ(report["operators"].size(), 4u);
    EXPECT_EQ(report["operators"][1]["op"], "CONV_2D");
    EXPECT_EQ(report["operators"][1]["count"], 24);
    EXPECT_TRUE(e["report_complete"].get<bool>());
  }
  // No scratch folders are left behind.
  for (const auto& entry : fs::recursive_directory_iterator(tree_))
    EXPECT_EQ(entry.path().filename().string().find(".compiling-"), std::string::npos);
}

TEST_F(CliEdgeTpu, AFailingFileIsRecordedAndTheOthersStillCompile) {
  setenv("STAND_IN_MODE", "fail-on=seg2", 1);
  const CliResult r = run_cli("compile " + tree_.string() + " --compiler " + kStandIn);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("did not compile"), std::string::npos) << r.err;
  int failed = 0, compiled = 0;
  for (const auto& [folder, f] : entries()) {
    const auto& e = f["edgetpu"];
    const std::string file = f["file"];
    if (file.find("seg2") != std::string::npos) {
      ++failed;
      EXPECT_FALSE(e["ok"].get<bool>());
      EXPECT_NE(e["failure"].get<std::string>().find("exit status 1"), std::string::npos);
      EXPECT_NE(e["failure"].get<std::string>().find("large activation tensors"),
                std::string::npos);
      EXPECT_FALSE(e.contains("output"));
    } else {
      ++compiled;
      EXPECT_TRUE(e["ok"].get<bool>()) << folder << "/" << file;
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(compiled, 0);
}

TEST_F(CliEdgeTpu, AHangingCompilerIsKilledAtTheTimeout) {
  setenv("STAND_IN_MODE", "hang", 1);
  const auto start = std::chrono::steady_clock::now();
  const CliResult r =
      run_cli("compile " + tree_.string() + " -j 4 --timeout 1 --compiler " + kStandIn);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.status, 0);
  EXPECT_LT(seconds, 60);
  for (const auto& [folder, f] : entries())
    EXPECT_EQ(f["edgetpu"]["failure"], "timed out after 1 s") << folder;
}

TEST_F(CliEdgeTpu, CrashGarbageAndNoOutputAreFailuresWithTheirReason) {
  const std::vector<std::pair<std::string, std::string>> modes = {
      {"crash", "killed by signal 11"},
      {"garbage", "the compiler wrote no"},
      {"nofile", "the compiler wrote no"}};
  for (const auto& [mode, reason] : modes) {
    setenv("STAND_IN_MODE", mode.c_str(), 1);
    const CliResult r = run_cli("compile " + tree_.string() + " --compiler " + kStandIn);
    EXPECT_NE(r.status, 0) << mode;
    EXPECT_EQ(lines(r.err), 1) << mode << ": " << r.err;
    for (const auto& [folder, f] : entries()) {
      EXPECT_NE(f["edgetpu"]["failure"].get<std::string>().find(reason), std::string::npos)
          << mode << ": " << f["edgetpu"]["failure"];
      EXPECT_FALSE(
          fs::exists(tree_ / folder / "tpu" /
                     (fs::path(f["file"].get<std::string>()).stem().string() + "_edgetpu.tflite")));
    }
  }
}

TEST_F(CliEdgeTpu, CocompileRunsEachFolderOnce) {
  const CliResult r = run_cli("compile " + tree_.string() + " --cocompile --compiler " + kStandIn);
  ASSERT_EQ(r.status, 0) << r.err;
  for (const auto& [folder, f] : entries()) {
    ASSERT_TRUE(f.contains("edgetpu")) << folder;
    const auto& e = f["edgetpu"];
    ASSERT_TRUE(e.contains("cocompiled_with")) << folder;
    const auto meta = read_json(tree_ / folder / "meta.json");
    EXPECT_EQ(e["cocompiled_with"].size() + 1, meta["files"].size());
    EXPECT_TRUE(e["ok"].get<bool>());
    // One run per folder: its command line names every file of the folder.
    std::ifstream in(tree_ / folder / e["transcript"].get<std::string>());
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    const std::string command = text.substr(0, text.find('\n'));
    for (const auto& other : meta["files"])
      EXPECT_NE(command.find(other["file"].get<std::string>()), std::string::npos) << command;
  }
}

TEST_F(CliEdgeTpu, OutputThatIsNotUtf8IsRecordedNotFatal) {
  setenv("STAND_IN_MODE", "binary", 1);
  const CliResult r = run_cli("compile " + tree_.string() + " --compiler " + kStandIn);
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("did not compile"), std::string::npos) << r.err;
  for (const auto& [folder, f] : entries()) {
    EXPECT_FALSE(f["edgetpu"]["ok"].get<bool>());
    EXPECT_NE(f["edgetpu"]["failure"].get<std::string>().find("exit status 1"), std::string::npos);
  }
}

TEST_F(CliEdgeTpu, ARelativeTreePathWorks) {
  const fs::path before = fs::current_path();
  fs::current_path(dir_);
  const CliResult estimate = run_cli("estimate tree");
  const CliResult compile = run_cli("compile tree --compiler " + kStandIn);
  const CliResult report = run_cli("report tree -o report.html");
  fs::current_path(before);
  EXPECT_EQ(estimate.status, 0) << estimate.err;
  EXPECT_EQ(compile.status, 0) << compile.err;
  EXPECT_EQ(report.status, 0) << report.err;
  EXPECT_TRUE(fs::is_regular_file(dir_ / "report.html"));
}

TEST_F(CliEdgeTpu, AReportOnAnEditedMetaSaysWhatIsWrongInOneLine) {
  const fs::path meta = tree_ / "pairs_k2" / "meta.json";
  auto json = read_json(meta);
  json["files"][0]["param_bytes"] = "twelve";  // a wrong type: shown as 0, not a crash
  std::ofstream(meta) << json.dump(2);
  const CliResult odd = run_cli("report " + tree_.string() + " -o " + (dir_ / "a.html").string());
  EXPECT_EQ(odd.status, 0) << odd.err;
  json["files"][0]["file"] = "tflite/elsewhere.tflite";  // the entry of a file is gone
  std::ofstream(meta) << json.dump(2);
  const CliResult r = run_cli("report " + tree_.string() + " -o " + (dir_ / "b.html").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "b.html"));
}

TEST_F(CliEdgeTpu, WithoutACompilerOneLineAndNonZero) {
  const CliResult r =
      run_cli("compile " + tree_.string() + " --compiler " + (dir_ / "none").string());
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("not an executable file"), std::string::npos);
  const CliResult on_path = run_cli("compile " + tree_.string() + " 2>&1 | cat");  // PATH as is
  if (on_path.out.find("not found on PATH") == std::string::npos) {
    GTEST_SKIP() << "an edgetpu_compiler is on PATH here";
  }
  EXPECT_EQ(lines(on_path.out), 1) << on_path.out;
}

TEST_F(CliEdgeTpu, EstimateRecordsMarkedEstimatesInEveryMeta) {
  const CliResult r = run_cli("estimate --json " + tree_.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  const auto files = entries();
  ASSERT_EQ(json["files"].size(), files.size());
  for (const auto& [folder, f] : files) {
    const auto& e = f["edgetpu_estimate"];
    EXPECT_EQ(e["source"], "estimated");
    EXPECT_EQ(e["on_chip_bytes"].get<int64_t>() + e["off_chip_bytes"].get<int64_t>(),
              e["param_bytes"].get<int64_t>());
    EXPECT_GE(e["param_bytes"].get<int64_t>(), f["param_bytes"].get<int64_t>() * 9 / 10)
        << "padding only adds bytes (biases aside)";
    EXPECT_GT(e["latency_ms"]["total"].get<double>(), 0);
  }
}

TEST_F(CliEdgeTpu, SimulateEveryFolderAndDrawTheTimeline) {
  const fs::path svg = dir_ / "timeline.svg";
  const CliResult r =
      run_cli("simulate --json --frames 4 --svg " + svg.string() + " " + tree_.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  ASSERT_GE(json["folders"].size(), 2u);
  for (const auto& folder : json["folders"]) {
    // Handed in, every invoke and hand-off, handed back out.
    double sum = 2 * folder["host_hop_ms"].get<double>(), slowest = 0;
    EXPECT_GT(folder["host_hop_ms"].get<double>(), 0);
    for (const auto& s : folder["stages"]) {
      sum += s["invoke_ms"].get<double>() + s["handoff_ms"].get<double>();
      slowest = std::max(slowest, s["invoke_ms"].get<double>());
    }
    EXPECT_NEAR(folder["latency_ms"].get<double>(), sum, 1e-9);
    EXPECT_GE(folder["period_ms"].get<double>(), slowest);
    EXPECT_LE(folder["period_ms"].get<double>(), folder["latency_ms"].get<double>() + 1e-9);
  }
  std::ifstream in(svg);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text.rfind("<svg", 0), 0u);
  EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 8);
  EXPECT_NE(text.find("TPU 2"), std::string::npos);
}

TEST_F(CliEdgeTpu, ATreeFromAnotherToolIsRefused) {
  const fs::path meta = tree_ / "full_split" / "meta.json";
  auto json = read_json(meta);
  json["tool"] = "someone else 3.0";
  std::ofstream(meta) << json.dump(2);
  for (const std::string command : {"compile", "estimate", "simulate"}) {
    const std::string extra = command == "compile" ? " --compiler " + kStandIn : "";
    const CliResult r = run_cli(command + " " + tree_.string() + extra);
    EXPECT_NE(r.status, 0) << command;
    EXPECT_EQ(lines(r.err), 1) << command << ": " << r.err;
    EXPECT_NE(r.err.find("someone else 3.0"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace pipecut

namespace pipecut {
namespace {

TEST(CliSplitCompile, CompilesEveryFileOrRecordsEstimatesWithoutACompiler) {
  const auto dir = testing::fresh_dir("CliSplitCompile");
  const std::string model = testing::coral_model("mobilenet_v2_1.0_224_quant.tflite").string();
  setenv(
      "STAND_IN_LOG",
      (std::string(PIPECUT_SHARED_DIR) + "/edgetpu-logs/v16-resnet50-segment1.stdout.txt").c_str(),
      1);
  unsetenv("STAND_IN_MODE");
  const CliResult compiled = run_cli("split " + model + " --max-size 1.5MiB --compile --compiler " +
                                     kStandIn + " -o " + (dir / "a").string());
  ASSERT_EQ(compiled.status, 0) << compiled.err;
  EXPECT_NE(compiled.out.find("compiled 8 of 8 files"), std::string::npos) << compiled.out;
  const auto a = read_json(dir / "a" / "full_split" / "meta.json");
  for (const auto& f : a["files"]) EXPECT_EQ(f["edgetpu"]["source"], "compiled");

  const std::string path = getenv("PATH") ? getenv("PATH") : "";
  setenv("PATH", "/nonexistent", 1);  // no edgetpu_compiler to be found
  const CliResult estimated =
      run_cli("split " + model + " --max-size 1.5MiB --compile -o " + (dir / "b").string());
  setenv("PATH", path.c_str(), 1);
  ASSERT_EQ(estimated.status, 0) << estimated.err;
  EXPECT_NE(estimated.out.find("edgetpu_compiler not found"), std::string::npos);
  const auto b = read_json(dir / "b" / "pairs_k2" / "meta.json");
  for (const auto& f : b["files"]) {
    EXPECT_FALSE(f.contains("edgetpu"));
    EXPECT_EQ(f["edgetpu_estimate"]["source"], "estimated");
  }
}

}  // namespace
}  // namespace pipecut
