// run, verify and pipeline end to end: bit-exact splits (ResNet-101 at 7 MiB, a multi-tensor
// U-Net split, real models), a tampered segment caught, top-1 on the real MobileNets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/layout.h"
#include "pipecut/pipeline.h"
#include "pipecut/verify.h"
#include "pipecut/zoo.h"
#include "pipeline/stage_weight.h"
#include "support/cli_support.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::coral_model;
using testing::read_json;
using testing::run_cli;

// Splits with the library, verifies with the command, returns verify.json.
nlohmann::json split_and_verify(const fs::path& model_path, const std::string& split_args,
                                const std::string& label) {
  const fs::path dir = testing::fresh_dir("verify-" + label);
  const CliResult split =
      run_cli("split " + model_path.string() + " " + split_args + " -o " + (dir / "out").string());
  EXPECT_EQ(split.status, 0) << split.err;
  const CliResult verify = run_cli("verify " + (dir / "out").string() + " --inputs 2 --image " +
                                   coral_model("bird.rgb").string());
  EXPECT_EQ(verify.status, 0) << verify.err << verify.out;
  return read_json(dir / "out" / "verify.json");
}

void expect_all_exact(const nlohmann::json& report, size_t files) {
  EXPECT_TRUE(report["ok"].get<bool>());
  EXPECT_EQ(report["files"].size(), files);
  EXPECT_EQ(report["inputs"].get<int>(), 3);
  for (const auto& f : report["files"]) {
    EXPECT_TRUE(f["ok"].get<bool>()) << f.dump();
    EXPECT_GE(f["tensors_checked"].get<int>(), 3);  // at least one output per input
  }
}

fs::path zoo_file(const std::string& name) {
  const fs::path path = fs::path(PIPECUT_TEST_TMP) / "zoo" / (name + ".tflite");
  if (!fs::exists(path)) {
    fs::create_directories(path.parent_path());
    write_file_atomic(path, build_zoo_model(name));
  }
  return path;
}

TEST(Verify, ResNet101AtSevenMiBIsBitExact) {
  const auto report =
      split_and_verify(zoo_file("resnet101"), "--max-size 7MiB --min-size 2MiB", "resnet101");
  expect_all_exact(report, 7 + (2 + 3 + 4 + 5 + 6 + 7));
}

TEST(Verify, UnetMultiTensorSplitIsBitExact) {
  const auto report =
      split_and_verify(zoo_file("unet"), "--max-size 1300KiB --max-cut-tensors 4", "unet");
  EXPECT_TRUE(report["ok"].get<bool>());
  EXPECT_GE(report["files"].size(), 2u);
}

TEST(Verify, RealModelsAreBitExact) {
  // Windows that give three segments each (the logits layers alone hold 0.5 to 1.2 MiB).
  for (auto [file, size] : {std::pair{"mobilenet_v2_1.0_224_quant.tflite", "1500KiB"},
                            std::pair{"tf2_mobilenet_v2_1.0_224_ptq.tflite", "1500KiB"},
                            std::pair{"mobilenet_v1_0.5_160_quant.tflite", "600KiB"}}) {
    SCOPED_TRACE(file);
    const auto report =
        split_and_verify(coral_model(file), std::string("--max-size ") + size, file);
    EXPECT_TRUE(report["ok"].get<bool>());
    EXPECT_EQ(report["files"].size(), 3u + 2u + 3u);
  }
  const auto deeplab =
      split_and_verify(coral_model("deeplabv3_mnv2_dm05_pascal_quant.tflite"),
                       "--max-size 400KiB --max-cut-tensors 3 --target cpu", "deeplab");
  EXPECT_TRUE(deeplab["ok"].get<bool>());
}

TEST(Verify, TamperedSegmentIsCaught) {
  const fs::path dir = testing::fresh_dir("verify-tampered");
  const fs::path out = dir / "out";
  ASSERT_EQ(run_cli("split " + coral_model("mobilenet_v2_1.0_224_quant.tflite").string() +
                    " --max-size 1500KiB -o " + out.string())
                .status,
            0);
  // Change one bias of the second segment's last conv, then record the new hash in meta.json so
  // that only the computation can give it away.
  const fs::path seg2 = out / "full_split" / "tflite" / "seg2_int8.tflite";
  auto bytes = read_file(seg2);
  std::unique_ptr<tflite::ModelT> m(tflite::GetModel(bytes.data())->UnPack());
  auto& graph = *m->subgraphs[0];
  bool changed = false;
  for (auto it = graph.operators.rbegin(); it != graph.operators.rend() && !changed; ++it) {
    auto& op = **it;
    if (op.inputs.size() < 3 || op.inputs[2] < 0) continue;
    auto& bias = m->buffers[graph.tensors[static_cast<size_t>(op.inputs[2])]->buffer]->data;
    if (bias.size() < 4) continue;
    bias[2] ^= 0x10;  // +-2^20 on the first int32 bias: hundreds of output steps
    changed = true;
  }
  ASSERT_TRUE(changed);
  flatbuffers::FlatBufferBuilder fbb;
  tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, m.get()));
  const std::vector<uint8_t> tampered(fbb.GetBufferPointer(),
                                      fbb.GetBufferPointer() + fbb.GetSize());
  write_file_atomic(seg2, tampered);
  auto meta = read_json(out / "full_split" / "meta.json");
  meta["files"][1]["hash"] = content_hash(tampered);
  write_file_atomic(out / "full_split" / "meta.json", meta.dump(2));

  const CliResult verify = run_cli("verify " + out.string() + " --inputs 2");
  EXPECT_NE(verify.status, 0);
  EXPECT_NE(verify.err.find("seg2_int8.tflite"), std::string::npos) << verify.err;
  EXPECT_NE(verify.err.find("differs"), std::string::npos) << verify.err;
  const auto report = read_json(out / "verify.json");
  EXPECT_FALSE(report["ok"].get<bool>());
  EXPECT_TRUE(report["files"][0]["ok"].get<bool>());
  EXPECT_FALSE(report["files"][1]["ok"].get<bool>());
}

TEST(Verify, WrongSourceModelIsRefused) {
  const fs::path dir = testing::fresh_dir("verify-wrong-source");
  ASSERT_EQ(run_cli("split " + coral_model("mobilenet_v1_0.25_128_quant.tflite").string() +
                    " --max-size 300KiB -o " + (dir / "out").string())
                .status,
            0);
  const CliResult r = run_cli("verify " + (dir / "out").string() + " --model " +
                              coral_model("mobilenet_v1_0.5_160_quant.tflite").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("hash differs"), std::string::npos) << r.err;
}

// Trees written before XXH3 recorded a bare SHA-256 under "sha256": verify still checks them,
// and a wrong one is still caught.
TEST(Verify, TreesWithSha256HashesStillVerify) {
  const fs::path dir = testing::fresh_dir("verify-sha256-tree");
  const fs::path out = dir / "out";
  ASSERT_EQ(run_cli("split " + coral_model("mobilenet_v1_0.25_128_quant.tflite").string() +
                    " --max-size 300KiB -o " + out.string())
                .status,
            0);
  std::vector<fs::path> metas;
  for (const auto& entry : fs::directory_iterator(out)) {
    if (fs::exists(entry.path() / "meta.json")) metas.push_back(entry.path() / "meta.json");
  }
  ASSERT_GE(metas.size(), 2u);
  auto to_sha256 = [](nlohmann::json& object, const fs::path& file) {
    object.erase("hash");
    object["sha256"] = sha256_hex(read_file(file));
  };
  for (const fs::path& meta_path : metas) {
    auto meta = read_json(meta_path);
    to_sha256(meta["source"], coral_model("mobilenet_v1_0.25_128_quant.tflite"));
    for (auto& f : meta["files"])
      to_sha256(f, meta_path.parent_path() / f["file"].get<std::string>());
    write_file_atomic(meta_path, meta.dump(2));
  }
  const CliResult ok = run_cli("verify " + out.string() + " --inputs 1");
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;

  auto meta = read_json(out / "full_split" / "meta.json");
  meta["files"][0]["sha256"] = std::string(64, '0');
  write_file_atomic(out / "full_split" / "meta.json", meta.dump(2));
  const CliResult bad = run_cli("verify " + out.string() + " --inputs 1");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("seg1_int8.tflite: differs"), std::string::npos) << bad.err;
}

TEST(Run, BirdIsAChickadeeOnBothMobileNets) {
  for (const char* file :
       {"mobilenet_v2_1.0_224_quant.tflite", "tf2_mobilenet_v2_1.0_224_ptq.tflite"}) {
    const CliResult r =
        run_cli("run " + coral_model(file).string() + " --json --iterations 2 --image " +
                coral_model("bird.rgb").string() + " --labels " +
                coral_model("imagenet_labels.txt").string());
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["outputs"][0]["top5"][0]["index"].get<int>(), 20) << file;
    EXPECT_EQ(j["outputs"][0]["top5"][0]["label"], "chickadee") << file;
    EXPECT_EQ(j["latency_ms"]["iterations"].get<int>(), 2);
  }
}

TEST(Run, ProfileShowsWhereTheTimeGoes) {
  const std::string model = coral_model("mobilenet_v2_1.0_224_quant.tflite").string();
  const CliResult r = run_cli("run " + model + " --json --iterations 2 --profile");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto p = nlohmann::json::parse(r.out)["profile"];
  EXPECT_EQ(p["runs"].get<int>(), 2);
  double by_type = 0;
  std::map<std::string, int> ops_of_type;
  for (const auto& t : p["by_type"]) {
    by_type += t["ms"].get<double>();
    ops_of_type[t["op_type"].get<std::string>()] = t["ops"].get<int>();
  }
  const double kernel_ms = p["kernel_ms"].get<double>();
  EXPECT_GT(kernel_ms, 0.0);
  EXPECT_NEAR(by_type, kernel_ms, 1e-9 + 1e-9 * kernel_ms);
  EXPECT_EQ(ops_of_type["CONV_2D"], 36);
  EXPECT_EQ(ops_of_type["DEPTHWISE_CONV_2D"], 17);
  int ops = 0;
  for (const auto& [type, n] : ops_of_type) ops += n;
  ASSERT_EQ(p["ops"].size(), static_cast<size_t>(ops));
  for (size_t i = 1; i < p["ops"].size(); ++i)  // slowest first
    EXPECT_GE(p["ops"][i - 1]["ms"].get<double>(), p["ops"][i]["ms"].get<double>());
  for (const auto& op : p["ops"]) {
    if (op["op_type"] == "CONV_2D") {
      EXPECT_GT(op["macs"].get<int64_t>(), 0);
    }
    if (op["op_type"] == "SOFTMAX") {
      EXPECT_EQ(op["macs"].get<int64_t>(), 0);
    }
  }
  const CliResult text = run_cli("run " + model + " --iterations 2 --profile");
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("time per op type"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("slowest ops"), std::string::npos) << text.out;
}

TEST(Run, OutputAndDumpFilesWithManifest) {
  const fs::path dir = testing::fresh_dir("run-output");
  const CliResult r =
      run_cli("run " + coral_model("mobilenet_v2_1.0_224_quant.tflite").string() +
              " --iterations 1 --dump expanded_conv_2 --output " + (dir / "o").string());
  ASSERT_EQ(r.status, 0) << r.err;
  const auto manifest = read_json(dir / "o" / "manifest.json");
  ASSERT_EQ(manifest["outputs"].size(), 1u);
  ASSERT_EQ(manifest["dumps"].size(), 1u);
  EXPECT_EQ(manifest["dumps"][0]["name"], "MobilenetV2/expanded_conv_2/add");
  const auto dumped = read_file(dir / "o" / manifest["dumps"][0]["file"].get<std::string>());
  EXPECT_EQ(dumped.size(), 56u * 56u * 24u);
  // Feeding the written output back as a raw input of the right size works; a wrong size fails.
  const CliResult bad =
      run_cli("run " + coral_model("mobilenet_v2_1.0_224_quant.tflite").string() + " --input " +
              (dir / "o" / manifest["dumps"][0]["file"].get<std::string>()).string());
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("needs"), std::string::npos) << bad.err;
}

TEST(PipelineCommand, ReportsThroughputAgainstIdeal) {
  const fs::path dir = testing::fresh_dir("pipeline-cli");
  ASSERT_EQ(run_cli("split " + coral_model("mobilenet_v2_1.0_224_quant.tflite").string() +
                    " --max-size 1500KiB -o " + (dir / "out").string())
                .status,
            0);
  const CliResult r = run_cli("pipeline " + (dir / "out").string() + " --frames 50 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frames"].get<int>(), 50);
  EXPECT_GT(j["ratio"].get<double>(), 0.0);
  // The ratio is the rate once the pipeline is full (first to last output) over the ideal.
  EXPECT_GT(j["steady_fps"].get<double>(), 0.0);
  EXPECT_NEAR(j["ratio"].get<double>(),
              j["steady_fps"].get<double>() / j["ideal_fps"].get<double>(), 1e-9);
  EXPECT_NEAR(j["throughput_fps"].get<double>(), 50 / j["seconds"].get<double>(), 1e-9);
  EXPECT_GT(j["stages"].size(), 2u);
  double cpu_sum = 0;
  for (const auto& s : j["stages"]) {
    EXPECT_EQ(s["frames"].get<int>(), 50);
    EXPECT_GT(s["cpu_mean_ms"].get<double>(), 0.0);
    EXPECT_LE(s["cpu_mean_ms"].get<double>(), s["busy_mean_ms"].get<double>());
    cpu_sum += s["cpu_mean_ms"].get<double>();
  }
  EXPECT_NEAR(j["stage_cpu_ms_per_frame"].get<double>(), cpu_sum, 1e-6 * cpu_sum + 1e-9);
  EXPECT_GT(j["cores_busy"].get<double>(), 0.0);
  EXPECT_LE(j["cores_busy"].get<double>(), 1.05);  // rusage ticks are coarser than the clock
  EXPECT_EQ(j["time_slice_ms"].get<double>(), 20.0);

  // By default, with more stages than cores, each stage's thread is weighted by its latency
  // alone: one nice step per factor of 1.25 below the slowest stage (the child inherits this
  // thread's nice; 19 is the ceiling). With as many cores as stages nothing is raised. (This
  // split has 3 stages: on CI's 2 cores the weighted branch runs; the library test covers it on
  // any machine.)
  EXPECT_EQ(j["weights"].get<std::string>(), "latency");
  const bool weighted = stage_threads_outnumber_cores(
      j["stages"].size(), j["threads_per_stage"].get<int>(), j["cores"].get<int>());
  EXPECT_EQ(j["weighted"].get<bool>(), weighted);
  const int base = pipeline_detail::thread_nice().value_or(0);
  double slowest = 0;
  for (const auto& s : j["stages"]) slowest = std::max(slowest, s["alone_ms"].get<double>());
  for (const auto& s : j["stages"]) {
    const double steps = std::log(slowest / s["alone_ms"].get<double>()) / std::log(1.25);
    // alone_ms is seconds × 1000: a step right at .5 may round either way.
    const int raised = s["nice_raised"].get<int>();
    if (weighted) {  // rounded, or exactly the room left below 19
      EXPECT_NEAR(raised, std::min(steps, 19.0 - base), 0.5 + 1e-6) << s["stage"];
    } else {
      EXPECT_EQ(raised, 0) << s["stage"];
    }
  }
  const CliResult equal =
      run_cli("pipeline " + (dir / "out").string() + " --frames 3 --weights equal --json");
  ASSERT_EQ(equal.status, 0) << equal.err;
  const auto e = nlohmann::json::parse(equal.out);
  EXPECT_EQ(e["weights"].get<std::string>(), "equal");
  EXPECT_GT(e["steady_fps"].get<double>(), 0.0);
  EXPECT_FALSE(e["weighted"].get<bool>());
  for (const auto& s : e["stages"]) EXPECT_EQ(s["nice_raised"].get<int>(), 0) << s["stage"];
  EXPECT_NE(run_cli("pipeline " + (dir / "out").string() + " --weights fair").status, 0);
  // One frame has no steady rate: the whole run's stands in.
  const CliResult one = run_cli("pipeline " + (dir / "out").string() + " --frames 1 --json");
  ASSERT_EQ(one.status, 0) << one.err;
  const auto o = nlohmann::json::parse(one.out);
  EXPECT_EQ(o["steady_fps"].get<double>(), o["throughput_fps"].get<double>());
}

}  // namespace
}  // namespace pipecut
