// pipecut import on torchvision's models as PyTorch exports them (opsets 13 and 17, seeded
// weights): exported by the ctest fixture onnx_models_export with tests/support/torch_models.py
// (Debian's python3-torch and python3-torchvision, test time only), with PyTorch's own outputs.
// Then the serverless split of ResNet-18 into its six modules, in float and in INT8.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pipecut/files.h"
#include "pipecut/image.h"
#include "pipecut/model.h"
#include "support/cli_support.h"
#include "support/float_files.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::read_floats;
using testing::relative_gap;
using testing::run_cli;
using testing::write_floats;

const fs::path kModels = PIPECUT_ONNX_MODELS_DIR;
const std::string kPython = "/usr/bin/python3";

size_t argmax(const std::vector<float>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

nlohmann::json manifest() {
  std::ifstream in(kModels / "manifest.json");
  return nlohmann::json::parse(in);
}

// Every model at both opsets: pipecut's float run of the import equals PyTorch's output within
// 1e-4 of its range (top-1 equal for classifiers), with no TRANSPOSE anywhere.
TEST(ImportTorchvision, EveryModelMatchesPyTorch) {
  const auto m = manifest();
  ASSERT_GE(m["models"].size(), 7u);
  const fs::path dir = testing::fresh_dir("import-torchvision");
  for (const auto& model : m["models"]) {
    const std::string name = model["name"];
    const auto shape = model["input"]["shape"].get<std::vector<int64_t>>();
    const auto out_shape = model["output"]["shape"].get<std::vector<int64_t>>();
    write_floats(dir / (name + ".nhwc"),
                 testing::nchw_to_nhwc(read_floats(kModels / (name + ".input.f32")), shape[0],
                                       shape[1], shape[2], shape[3]));
    auto ref = read_floats(kModels / (name + ".output.f32"));
    if (out_shape.size() == 4)
      ref = testing::nchw_to_nhwc(ref, out_shape[0], out_shape[1], out_shape[2],
                                  out_shape[3]);  // image-like outputs are NHWC
    for (const auto& [opset, file] : model["files"].items()) {
      SCOPED_TRACE(name + " opset " + opset);
      const fs::path tflite = dir / (name + "_" + opset + ".tflite");
      const auto r = run_cli("import " + (kModels / file.get<std::string>()).string() + " -o " +
                             tflite.string() + " --json");
      ASSERT_EQ(r.status, 0) << r.err;
      const auto summary = nlohmann::json::parse(r.out);
      EXPECT_EQ(summary["transposes"].get<int>(), 0);
      EXPECT_EQ(summary["opset"].get<int>(), std::stoi(opset));
      const fs::path out = dir / (name + "_" + opset + "-out");
      const auto run =
          run_cli("run " + tflite.string() + " --input " + (dir / (name + ".nhwc")).string() +
                  " --output " + out.string() + " --iterations 1");
      ASSERT_EQ(run.status, 0) << run.err;
      const auto y = read_floats(out / "output.raw");
      EXPECT_LT(relative_gap(y, ref), 1e-4);
      if (model["classifier"].get<bool>()) {
        EXPECT_EQ(argmax(y), argmax(ref));
      }
      // No TRANSPOSE op in the file at all (so none between the first and last convolution).
      const Model imported = Model::load(tflite);
      for (const Op& op : imported.ops()) {
        EXPECT_NE(imported.op_type(op), "TRANSPOSE");
      }
    }
  }
}

// A photo through the import and through PyTorch, the same normalised pixels, for every model.
TEST(ImportTorchvision, PhotoMatchesPyTorch) {
  const fs::path dir = testing::fresh_dir("import-photo");
  const Image photo = load_image(fs::path(PIPECUT_SHARED_DIR) / "images/parrot.jpg");
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
  const auto m = manifest();
  ASSERT_GE(m["models"].size(), 7u);
  for (const auto& model : m["models"]) {
    const std::string name = model["name"];
    SCOPED_TRACE(name);
    const auto shape = model["input"]["shape"].get<std::vector<int64_t>>();
    const auto out_shape = model["output"]["shape"].get<std::vector<int64_t>>();
    const int side = static_cast<int>(shape[2]);
    const Image image = resize_image(photo, side, side);
    std::vector<float> x(image.rgb.size());
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = (static_cast<float>(image.rgb[i]) / 255.0f - mean[i % 3]) / stdev[i % 3];
    const fs::path input = dir / (name + ".nhwc");
    write_floats(input, x);
    const std::string py = kPython + " " + PIPECUT_TEST_SUPPORT_DIR "/torch_models.py run " + name +
                           " --input-nhwc " + input.string() + " --shape 1," +
                           std::to_string(side) + "," + std::to_string(side) + ",3 -o " +
                           (dir / (name + ".torch")).string();
    ASSERT_EQ(std::system(py.c_str()), 0) << py;
    const fs::path tflite = dir / (name + ".tflite");
    ASSERT_EQ(run_cli("import " + (kModels / model["files"]["17"].get<std::string>()).string() +
                      " -o " + tflite.string())
                  .status,
              0);
    const auto run = run_cli("run " + tflite.string() + " --input " + input.string() +
                             " --output " + (dir / (name + "-out")).string() + " --iterations 1");
    ASSERT_EQ(run.status, 0) << run.err;
    const auto y = read_floats(dir / (name + "-out") / "output.raw");
    auto ref = read_floats(dir / (name + ".torch"));
    if (out_shape.size() == 4)
      ref = testing::nchw_to_nhwc(ref, out_shape[0], out_shape[1], out_shape[2], out_shape[3]);
    EXPECT_LT(relative_gap(y, ref), 1e-4);
    if (model["classifier"].get<bool>()) {
      EXPECT_EQ(argmax(y), argmax(ref));
    }
  }
}

// --keep-nchw-io: the ONNX input shape at the edge, one TRANSPOSE after it, the same answer.
TEST(ImportTorchvision, KeepNchwIoAndDynamicBatch) {
  const fs::path dir = testing::fresh_dir("import-nchw");
  const fs::path tflite = dir / "resnet18_nchw.tflite";
  const auto r = run_cli("import " + (kModels / "resnet18_dynbatch_op13.onnx").string() + " -o " +
                         tflite.string() + " --keep-nchw-io --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["transposes"].get<int>(), 1);
  EXPECT_EQ(summary["body_transposes"].get<int>(), 0);
  const Model m = Model::load(tflite);
  EXPECT_EQ(m.tensor(m.inputs()[0]).shape, (std::vector<int32_t>{1, 3, 224, 224}));
  const auto run =
      run_cli("run " + tflite.string() + " --input " + (kModels / "resnet18.input.f32").string() +
              " --output " + (dir / "out").string() + " --iterations 1");
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_LT(relative_gap(read_floats(dir / "out" / "output.raw"),
                         read_floats(kModels / "resnet18.output.f32")),
            1e-4);
  const auto batch2 = run_cli("import " + (kModels / "resnet18_dynbatch_op13.onnx").string() +
                              " -o " + (dir / "b2.tflite").string() + " --batch 2");
  ASSERT_EQ(batch2.status, 0) << batch2.err;
  const Model b2 = Model::load(dir / "b2.tflite");
  EXPECT_EQ(b2.tensor(b2.inputs()[0]).shape, (std::vector<int32_t>{2, 224, 224, 3}));
}

// Module names: a module path cuts after its last op; a name several modules share is ambiguous;
// inspect shows each op's module; split and verify take the .onnx itself.
TEST(ImportTorchvision, ModuleNamesInSplitAndInspect) {
  const fs::path dir = testing::fresh_dir("import-modules");
  const fs::path onnx = kModels / "resnet18_op13.onnx";
  const auto ambiguous =
      run_cli("split " + onnx.string() + " --cuts relu --target cpu -o " + (dir / "a").string());
  EXPECT_NE(ambiguous.status, 0);
  EXPECT_NE(ambiguous.err.find("ambiguous"), std::string::npos) << ambiguous.err;
  const auto block = run_cli("split " + onnx.string() + " --cuts layer2.1 --target cpu -o " +
                             (dir / "b").string());
  ASSERT_EQ(block.status, 0) << block.err;
  const auto meta = testing::read_json(dir / "b" / "full_split" / "meta.json");
  EXPECT_EQ(meta["files"][0]["outputs"][0]["name"], "/layer2/layer2.1/relu_1/Relu_output_0");
  EXPECT_NE(meta["source"]["path"].get<std::string>().find(".onnx"), std::string::npos);
  const auto verify = run_cli("verify " + (dir / "b").string() + " --inputs 1");
  EXPECT_EQ(verify.status, 0) << verify.out << verify.err;
  const auto inspect = run_cli("inspect " + onnx.string() + " --json");
  ASSERT_EQ(inspect.status, 0) << inspect.err;
  const auto ops = nlohmann::json::parse(inspect.out)["ops"];
  ASSERT_GT(ops.size(), 30u);
  EXPECT_EQ(ops[0]["module"], "conv1");  // the PAD before conv1 (conv1 + relu is named by relu)
  bool saw = false;
  for (const auto& op : ops) saw = saw || op["module"] == "layer3.1.conv2";
  EXPECT_TRUE(saw);
}

// The serverless split: the stem, layer1..layer4 and avgpool+fc, named by PyTorch module, in
// float and after pipecut quantize; verify finds every chain bit-exact with the whole model.
TEST(ImportTorchvision, ResNet18SixModulesFloatAndInt8) {
  const fs::path dir = testing::fresh_dir("import-resnet18-split");
  const fs::path tflite = dir / "resnet18.tflite";
  ASSERT_EQ(
      run_cli("import " + (kModels / "resnet18_op13.onnx").string() + " -o " + tflite.string())
          .status,
      0);
  const std::string cuts = " --cuts maxpool,layer1,layer2,layer3,layer4 --target cpu -o ";
  const auto split = run_cli("split " + tflite.string() + cuts + (dir / "float").string());
  ASSERT_EQ(split.status, 0) << split.err;
  const auto meta = testing::read_json(dir / "float" / "full_split" / "meta.json");
  ASSERT_EQ(meta["files"].size(), 6u);
  EXPECT_EQ(meta["files"][0]["file"], "tflite/seg1_float32.tflite");
  EXPECT_EQ(meta["files"][1]["outputs"][0]["name"], "/layer1/layer1.1/relu_1/Relu_output_0");
  EXPECT_EQ(meta["files"][4]["outputs"][0]["name"], "/layer4/layer4.1/relu_1/Relu_output_0");
  // The flatten before fc stays inside the last segment.
  const Model last = Model::load(dir / "float" / "full_split" / "tflite" / "seg6_float32.tflite");
  std::vector<std::string> types;
  for (const Op& op : last.ops()) types.push_back(last.op_type(op));
  EXPECT_EQ(types, (std::vector<std::string>{"MEAN", "RESHAPE", "FULLY_CONNECTED"}));
  const auto verify = run_cli("verify " + (dir / "float").string() + " --inputs 2");
  EXPECT_EQ(verify.status, 0) << verify.out << verify.err;

  const fs::path int8 = dir / "resnet18_int8.tflite";
  const auto q =
      run_cli("quantize " + tflite.string() + " -o " + int8.string() + " --calib " +
              (fs::path(PIPECUT_SHARED_DIR) / "images").string() + " --mean 116.3 --std 58.4");
  ASSERT_EQ(q.status, 0) << q.err;
  const auto split8 = run_cli("split " + int8.string() + cuts + (dir / "int8").string());
  ASSERT_EQ(split8.status, 0) << split8.err;
  const auto verify8 = run_cli("verify " + (dir / "int8").string() + " --inputs 2");
  EXPECT_EQ(verify8.status, 0) << verify8.out << verify8.err;
  EXPECT_NE(verify8.out.find("all bit-exact"), std::string::npos) << verify8.out;
}

// A per-worker memory limit instead of named cuts: the optimal split of ResNet-18's float
// weights at 16 MiB. Its last block holds two 9 MiB convolutions, so a cut inside a residual
// block (two live tensors) is needed, and without it the split says which piece is too large.
TEST(ImportTorchvision, OptimalSplitUnderAWorkerLimit) {
  const fs::path dir = testing::fresh_dir("import-optimal");
  const std::string base = "split " + (kModels / "resnet18_op13.onnx").string() +
                           " --max-size 16MiB --algorithm optimal --target cpu";
  const auto one = run_cli(base + " -o " + (dir / "one").string());
  EXPECT_NE(one.status, 0);
  EXPECT_NE(one.err.find("larger than HIGH by itself"), std::string::npos) << one.err;
  const auto two = run_cli(base + " --max-cut-tensors 2 -o " + (dir / "two").string());
  ASSERT_EQ(two.status, 0) << two.err;
  const auto meta = testing::read_json(dir / "two" / "full_split" / "meta.json");
  EXPECT_GE(meta["files"].size(), 3u);
  for (const auto& f : meta["files"]) EXPECT_LE(f["param_bytes"].get<int64_t>(), 16 << 20);
  const auto verify = run_cli("verify " + (dir / "two").string() + " --inputs 1");
  EXPECT_EQ(verify.status, 0) << verify.out << verify.err;
}

// INT8 (per-channel, pipecut quantize calibrated on ../shared/images) against float on every
// photo: top-1 equal wherever float's top-1 probability is above 0.5, and on at least 90% of
// all. ResNet-18 (convolutions, residual adds), SqueezeNet (concatenations, ceil-mode pooling)
// and MobileNet v3 (hard-swish, squeeze-and-excitation products).
TEST(ImportTorchvision, Int8TopOneAgreesWithFloatOnPhotos) {
  const fs::path dir = testing::fresh_dir("import-int8-photos");
  const fs::path images = fs::path(PIPECUT_SHARED_DIR) / "images";
  for (const std::string model :
       {"resnet18_op13", "squeezenet1_1_op13", "mobilenet_v3_small_op17"}) {
    SCOPED_TRACE(model);
    const fs::path tflite = dir / (model + ".tflite"), int8 = dir / (model + "_int8.tflite");
    ASSERT_EQ(run_cli("import " + (kModels / (model + ".onnx")).string() + " -o " + tflite.string())
                  .status,
              0);
    const auto q = run_cli("quantize " + tflite.string() + " -o " + int8.string() + " --calib " +
                           images.string() + " --mean 116.3 --std 58.4");
    ASSERT_EQ(q.status, 0) << q.err;
    const Model qm = Model::load(int8);
    const Tensor& qin = qm.tensor(qm.inputs()[0]);
    const Tensor& qout = qm.tensor(qm.outputs()[0]);
    ASSERT_EQ(qin.type, DType::kInt8);
    // TFLite's int8 CONCATENATION takes pieces at the output's scale only (QUANTIZE before the
    // others).
    for (const Op& op : qm.ops()) {
      if (qm.op_type(op) != "CONCATENATION") continue;
      const auto& o = qm.tensor(op.outputs[0]).quant;
      for (int t : op.inputs) {
        EXPECT_EQ(qm.tensor(t).quant.scale, o.scale) << qm.tensor(t).name;
        EXPECT_EQ(qm.tensor(t).quant.zero_point, o.zero_point) << qm.tensor(t).name;
      }
    }
    const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
    int photos = 0, confident = 0, agree_confident = 0, agree = 0;
    for (const auto& entry : fs::directory_iterator(images)) {
      const std::string name = entry.path().filename().string();
      const std::string ext = entry.path().extension().string();
      if ((ext != ".jpg" && ext != ".png" && ext != ".bmp") ||
          name.find("mask") != std::string::npos || name.find("golden") != std::string::npos)
        continue;
      const Image image = resize_image(load_image(entry.path()), 224, 224);
      std::vector<float> x(image.rgb.size());
      std::vector<uint8_t> xq(x.size());
      for (size_t i = 0; i < x.size(); ++i) {
        x[i] = (static_cast<float>(image.rgb[i]) / 255.0f - mean[i % 3]) / stdev[i % 3];
        const float v =
            std::round(x[i] / qin.quant.scale[0]) + static_cast<float>(qin.quant.zero_point[0]);
        xq[i] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(v, -128.0f, 127.0f)));
      }
      write_floats(dir / "x.f32", x);
      write_file_atomic(dir / "x.i8", xq);
      const auto f = run_cli("run " + tflite.string() + " --input " + (dir / "x.f32").string() +
                             " --output " + (dir / "of").string() + " --iterations 1");
      const auto i8 = run_cli("run " + int8.string() + " --input " + (dir / "x.i8").string() +
                              " --output " + (dir / "oq").string() + " --iterations 1");
      ASSERT_EQ(f.status, 0) << f.err;
      ASSERT_EQ(i8.status, 0) << i8.err;
      const auto yf = read_floats(dir / "of" / "output.raw");
      const auto yb = read_file(dir / "oq" / "output.raw");
      std::vector<float> yq(yb.size());
      for (size_t i = 0; i < yb.size(); ++i)
        yq[i] = (static_cast<float>(static_cast<int8_t>(yb[i])) -
                 static_cast<float>(qout.quant.zero_point[0])) *
                qout.quant.scale[0];
      const float top = *std::max_element(yf.begin(), yf.end());
      double sum = 0;
      for (float v : yf) sum += std::exp(static_cast<double>(v - top));
      const bool same = argmax(yf) == argmax(yq);
      ++photos;
      agree += same;
      if (1.0 / sum > 0.5) {
        ++confident;
        agree_confident += same;
        EXPECT_TRUE(same) << name;
      }
    }
    std::cout << model << ": " << photos << " photos: INT8 top-1 equals float's on " << agree
              << "; float above 0.5 on " << confident << ", of those equal on " << agree_confident
              << "\n";
    EXPECT_GE(photos, 15);
    EXPECT_GE(agree * 10, photos * 9);
  }
}

}  // namespace
}  // namespace pipecut
