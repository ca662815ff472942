// pipecut qreport on the real float models and their quantizations (pipecut's per channel and
// per tensor, and TensorFlow's own INT8 file), calibrated on half of the photos and measured on
// the other half: per-channel weights diverge less from the float ones and keep a higher SQNR than
// per-tensor; every layer is paired and measured; the SVG has a bar per layer; bad input is one
// line and a non-zero exit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

const std::string kShared = PIPECUT_SHARED_DIR;

// Even positions of the photos calibrate, odd ones measure.
std::pair<std::string, std::string> halves() {
  const auto photos = testing::shared_photos();
  std::string calib, eval;
  for (size_t i = 0; i < photos.size(); ++i) (i % 2 == 0 ? calib : eval) += " " + photos[i];
  return {calib, eval};
}

struct Case {
  std::string model, norm;  // file under models/float, and --mean/--std for its pictures
  size_t layers;            // its convolutions and dense layers
};

nlohmann::json qreport(const std::string& float_model, const std::string& quantized,
                       const std::string& inputs, const std::string& norm,
                       const std::string& extra = "") {
  const auto r = run_cli("qreport " + float_model + " " + quantized + " --inputs" + inputs + " " +
                         norm + " --json " + extra);
  EXPECT_EQ(r.status, 0) << r.err;
  return r.status == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

TEST(Qreport, DefaultIsAsCloseAsTensorFlowsAndPerChannelDivergesLess) {
  const auto [calib, eval] = halves();
  const fs::path dir = testing::fresh_dir("cli_qreport");
  for (const Case& c : {Case{"cifar10_tiny_resnet8", "--mean 0 --std 1", 10},
                        Case{"vww_tiny_mobilenet_v1_0.25_96", "--mean 0 --std 255", 28}}) {
    SCOPED_TRACE(c.model);
    const std::string source = kShared + "/models/float/" + c.model + ".tflite";
    std::map<std::string, nlohmann::json> reports;
    for (const std::string scheme : {"per-channel", "per-tensor"}) {
      const std::string out = (dir / (c.model + "_" + scheme + ".tflite")).string();
      const auto q = run_cli("quantize " + source + " -o " + out + " --calib" + calib + " " +
                             c.norm + (scheme == "per-tensor" ? " --per-tensor" : ""));
      ASSERT_EQ(q.status, 0) << q.err;
      reports[scheme] = qreport(source, out, eval, c.norm,
                                scheme == "per-channel"
                                    ? "--scheme int8,pot,fp8 --svg " + (dir / "layers.svg").string()
                                    : "");
    }
    const auto& pc = reports["per-channel"];
    const auto& pt = reports["per-tensor"];
    ASSERT_EQ(pc["layers"].size(), c.layers);
    EXPECT_EQ(pc["matched_by"], "name");
    for (const auto& l : pc["layers"]) {
      EXPECT_GE(l["divergence"].get<double>(), 0.0) << l["name"];
      ASSERT_TRUE(l["sqnr_db"].is_number())
          << l["name"];  // measured, and not exact, on every layer
      EXPECT_GT(l["sqnr_db"].get<double>(), 5.0) << l["name"];
      EXPECT_GT(l["macs"].get<int64_t>(), 0) << l["name"];
    }
    // Per-channel weights diverge less from the float ones. (The outputs need not follow: with
    // bias correction, ResNet-8's few wide channels come out closer per tensor, 23.2 against
    // 21.8 dB; VWW's depthwise layers lose 8 dB per tensor.)
    EXPECT_LT(pc["divergence_sum"].get<double>(), pt["divergence_sum"].get<double>());
    EXPECT_GE(pc["output_cosine_mean"].get<double>(), 0.98);
    // The other weight formats, scored on the same weights: a power-of-two scale is never finer
    // than the int8 one, so its weights diverge more; FP8 is scored beside them.
    EXPECT_GT(pc["pot_divergence_sum"].get<double>(), pc["weight_divergence_sum"].get<double>());
    EXPECT_GT(pc["fp8_divergence_sum"].get<double>(), 0.0);
    EXPECT_TRUE(pt["pot_divergence_sum"].is_null());  // not asked for
    EXPECT_EQ(pc["inputs"], 9);
    // The per-layer picture: one bar per layer and the SQNR line.
    const auto svg = testing::read_bytes(dir / "layers.svg");
    const std::string text(svg.begin(), svg.end());
    size_t bars = 0;
    for (size_t at = 0; (at = text.find("<rect x=", at)) != std::string::npos; ++at) ++bars;
    EXPECT_EQ(bars, c.layers);
    EXPECT_NE(text.find("<polyline"), std::string::npos);
    // TensorFlow's own INT8 file of the same graph: paired and measured the same way.
    const auto tf =
        qreport(source, kShared + "/models/float/tensorflow-int8/" + c.model + "_int8.tflite", eval,
                c.norm);
    EXPECT_EQ(tf["layers"].size(), c.layers);
    // The goal: pipecut's default quantization (per channel, mse ranges, bias correction) at least
    // as close to float as TensorFlow's on every measure, on photos neither was calibrated on.
    EXPECT_GE(pc["output_cosine_mean"].get<double>(), tf["output_cosine_mean"].get<double>());
    EXPECT_GE(pc["output_cosine_min"].get<double>(), tf["output_cosine_min"].get<double>());
    EXPECT_GE(pc["output_sqnr_db"].get<double>(), tf["output_sqnr_db"].get<double>());
    EXPECT_GE(pc["top1_agree"].get<int>(), tf["top1_agree"].get<int>());
    std::printf(
        "%s: cosine %.4f (worst %.4f) / %.4f / TF %.4f (worst %.4f), SQNR %.1f / %.1f / TF %.1f "
        "dB, top-1 %d / %d / TF %d of 9 (per channel / per tensor / TensorFlow)\n",
        c.model.c_str(), pc["output_cosine_mean"].get<double>(),
        pc["output_cosine_min"].get<double>(), pt["output_cosine_mean"].get<double>(),
        tf["output_cosine_mean"].get<double>(), tf["output_cosine_min"].get<double>(),
        pc["output_sqnr_db"].get<double>(), pt["output_sqnr_db"].get<double>(),
        tf["output_sqnr_db"].get<double>(), pc["top1_agree"].get<int>(),
        pt["top1_agree"].get<int>(), tf["top1_agree"].get<int>());
  }
}

TEST(Qreport, PerSegmentAndPerBoundaryOfASplit) {
  // The real VWW model quantized by pipecut and split in four: every layer falls in exactly one
  // segment, and every boundary tensor between them is measured against the float model's.
  const auto [calib, eval] = halves();
  const fs::path dir = testing::fresh_dir("cli_qreport_split");
  const std::string source = kShared + "/models/float/vww_tiny_mobilenet_v1_0.25_96.tflite";
  const std::string norm = "--mean 0 --std 255";
  const std::string q = (dir / "vww_int8.tflite").string();
  ASSERT_EQ(run_cli("quantize " + source + " -o " + q + " --calib" + calib + " " + norm).status, 0);
  const std::string tree = (dir / "split").string();
  const auto split = run_cli("split " + q + " --segments 4 -o " + tree);
  ASSERT_EQ(split.status, 0) << split.err;
  const auto r = qreport(source, q, eval, norm, "--split " + tree);
  ASSERT_TRUE(r.contains("segments")) << r.dump();
  ASSERT_EQ(r["segments"].size(), 4u);
  ASSERT_EQ(r["boundaries"].size(), 3u);
  size_t layers = 0;
  int next_op = 0;
  for (const auto& s : r["segments"]) {
    EXPECT_EQ(s["first_op"].get<int>(), next_op) << "segments cover the ops in order";
    next_op = s["last_op"].get<int>() + 1;
    layers += s["layers"].get<size_t>();
    EXPECT_GT(s["layers"].get<int>(), 0);
    EXPECT_GE(s["divergence_sum"].get<double>(), 0);
    // Its worst layer is one of the report's layers, with that SQNR.
    bool found = false;
    for (const auto& l : r["layers"])
      found = found || (l["name"] == s["worst_layer"] && l["sqnr_db"] == s["worst_sqnr_db"]);
    EXPECT_TRUE(found) << s.dump();
  }
  EXPECT_EQ(layers, r["layers"].size()) << "each layer in exactly one segment";
  for (const auto& b : r["boundaries"]) {
    ASSERT_TRUE(b["sqnr_db"].is_number()) << b.dump();
    EXPECT_GT(b["sqnr_db"].get<double>(), 10) << b["tensor"];
    EXPECT_GT(b["cosine_min"].get<double>(), 0.95) << b["tensor"];
  }
  // A tree cut from another model is refused.
  const std::string other = (dir / "vww_per_tensor.tflite").string();
  ASSERT_EQ(run_cli("quantize " + source + " -o " + other + " --random 2 --per-tensor").status, 0);
  const auto refused = run_cli("qreport " + source + " " + other + " --random 1 --split " + tree);
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("was split from another model"), std::string::npos) << refused.err;
}

TEST(Qreport, BadInputIsOneLineAndNonZero) {
  const std::string f = kShared + "/models/float/cifar10_tiny_resnet8.tflite";
  const std::string q = kShared + "/models/float/tensorflow-int8/cifar10_tiny_resnet8_int8.tflite";
  const auto expect_refused = [](const std::string& args, const std::string& what) {
    const auto r = run_cli(args);
    EXPECT_NE(r.status, 0) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
  };
  expect_refused("qreport " + q + " " + f, "is not a float model");
  expect_refused("qreport " + f + " " + f, "has no 8-bit weights");
  expect_refused(
      "qreport " + f + " " + kShared + "/models/float/vww_tiny_mobilenet_v1_0.25_96.tflite",
      "has no 8-bit weights");
  expect_refused("qreport " + f + " " + q + " --inputs " + kShared + "/models/float", "no JPEG");
}

}  // namespace
}  // namespace pipecut
