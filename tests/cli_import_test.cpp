// pipecut import on small ONNX files made by tests/support/make_onnx_cases.py (Debian's
// python3-onnx, test time only) and on ../shared's UltraFace face detector (a real PyTorch export,
// opset 9): what it refuses and how, and that what it imports computes what ONNX says.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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

const std::string kPython = "/usr/bin/python3";  // Debian's: it has python3-onnx and numpy

// Each test makes its own cases (ctest runs the tests in separate processes, side by side).
class ImportCases : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::fresh_dir(std::string("import-") +
                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    const std::string cmd =
        kPython + " " + PIPECUT_TEST_SUPPORT_DIR "/make_onnx_cases.py " + dir_.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  fs::path dir_;
};

// Each refusal: non-zero exit, one line naming the file and the reason, no output file.
void expect_refused(const std::string& args, const fs::path& out, const std::string& file,
                    const std::string& reason) {
  const auto r = run_cli("import " + args + " -o " + out.string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(out.parent_path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}

TEST_F(ImportCases, BadInputIsRefusedInOneLine) {
  const fs::path out = dir_ / "refused.tflite";
  expect_refused((dir_ / "unsupported_op.onnx").string(), out, "unsupported_op.onnx",
                 "node 'the_erf' (Erf, opset 13): not supported");
  expect_refused((dir_ / "dynamic_hw.onnx").string(), out, "dynamic_hw.onnx",
                 "input 'x' dimension 2 ('H') is dynamic");
  write_file_atomic(dir_ / "not_onnx.onnx", std::string_view("name,value\nbatch,1\n"));
  expect_refused((dir_ / "not_onnx.onnx").string(), out, "not_onnx.onnx", "is not an ONNX model");
  // A real model cut short.
  auto bytes = read_file(dir_ / "conv_prelu.onnx");
  bytes.resize(bytes.size() / 2);
  write_file_atomic(dir_ / "truncated.onnx", bytes);
  expect_refused((dir_ / "truncated.onnx").string(), out, "truncated.onnx", "not an ONNX model");
  expect_refused((dir_ / "absent.onnx").string(), out, "absent.onnx", "no such file");
  expect_refused((dir_ / "dynamic_hw.onnx").string() + " --input-shape y:1,3,8,8", out,
                 "dynamic_hw.onnx", "not an input");
}

// Files the ONNX checker accepts, made to crash or exhaust an importer: each is one line.
TEST_F(ImportCases, HostileFilesAreRefusedInOneLine) {
  const fs::path out = dir_ / "hostile.tflite";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hostile_no_outputs.onnx", "(Foo, opset 13): has no outputs"},
      {"hostile_huge_constant.onnx", "(ConstantOfShape, opset 13): the constant would have more"},
      {"hostile_overflowing_shape.onnx", "tensor 'w' has an unusable shape"},
      {"hostile_int64_division.onnx", "(Div, opset 13): overflows int64"},
      {"hostile_negative_split.onnx", "(Split, opset 13): a split size is negative"},
  };
  for (const auto& [file, reason] : cases) {
    SCOPED_TRACE(file);
    expect_refused((dir_ / file).string(), out, file, reason);
  }
}

TEST_F(ImportCases, ExternalDataIsReadAndItsAbsenceNamed) {
  const fs::path out = dir_ / "external.tflite";
  const auto ok = run_cli("import " + (dir_ / "external_data.onnx").string() + " -o " +
                          out.string() + " --force");
  ASSERT_EQ(ok.status, 0) << ok.err;
  const Model m = Model::load(out);
  int64_t weights = 0;
  for (const Tensor& t : m.tensors()) weights += static_cast<int64_t>(t.data.size());
  EXPECT_GE(weights, 4 * 3 * 3 * 3 * 4);  // the conv's float weights came from the .bin
  fs::rename(dir_ / "external_weights.bin", dir_ / "moved.bin");
  expect_refused((dir_ / "external_data.onnx").string(), dir_ / "external2.tflite",
                 "external_data.onnx", "external_weights.bin' (for initializer 'w') is missing");
  fs::rename(dir_ / "moved.bin", dir_ / "external_weights.bin");
}

TEST_F(ImportCases, DynamicShapeGivenOnTheCommandLine) {
  const fs::path out = dir_ / "dynamic.tflite";
  const auto r = run_cli("import " + (dir_ / "dynamic_hw.onnx").string() + " -o " + out.string() +
                         " --input-shape x:1,3,20,12 --force");
  ASSERT_EQ(r.status, 0) << r.err;
  const Model m = Model::load(out);
  EXPECT_EQ(m.tensor(m.inputs()[0]).shape, (std::vector<int32_t>{1, 20, 12, 3}));  // NHWC
  EXPECT_EQ(m.tensor(m.outputs()[0]).shape, (std::vector<int32_t>{1, 20, 12, 4}));
}

// PRelu, Pad, Slice, Split, Concat, Resize, ReduceMean and Softmax over channels against numpy.
TEST_F(ImportCases, LessCommonOpsComputeWhatNumpySays) {
  const fs::path out = dir_ / "ops.tflite";
  const auto r = run_cli("import " + (dir_ / "conv_prelu.onnx").string() + " -o " + out.string() +
                         " --json --force");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["transposes"].get<int>(), 0);
  write_floats(dir_ / "ops.nhwc",
               testing::nchw_to_nhwc(read_floats(dir_ / "conv_prelu.input.f32"), 1, 3, 8, 8));
  const auto run = run_cli("run " + out.string() + " --input " + (dir_ / "ops.nhwc").string() +
                           " --output " + (dir_ / "ops-out").string() + " --iterations 1");
  ASSERT_EQ(run.status, 0) << run.err;
  const auto y = read_floats(dir_ / "ops-out" / "y.raw");
  const auto ref = testing::nchw_to_nhwc(read_floats(dir_ / "conv_prelu.output.f32"), 1, 4, 1, 16);
  EXPECT_LT(relative_gap(y, ref), 1e-5);
}

// UltraFace (opset 9, converted to 13 by ONNX's version converter): scores and boxes against the
// reference evaluation tests/support/onnx_reference.py makes with PyTorch's operators.
TEST(ImportUltraFace, ScoresAndBoxesMatchTheReference) {
  const fs::path model =
      fs::path(PIPECUT_SHARED_DIR) / "models/float/face_ultraface_rfb320_simplified.onnx";
  if (!fs::exists(model)) GTEST_SKIP() << model << " is absent";
  const fs::path dir = testing::fresh_dir("import-ultraface");
  const auto r =
      run_cli("import " + model.string() + " -o " + (dir / "face.tflite").string() + " --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["opset"].get<int>(), 9);
  EXPECT_EQ(summary["body_transposes"].get<int>(), 0);
  EXPECT_EQ(summary["transposes"].get<int>(), 0);  // its Transposes only relabel NHWC data

  // A seeded input in [-1, 1] (the model's normalisation of a 320 x 240 picture).
  std::vector<float> x(3 * 240 * 320);
  uint32_t state = 12345;
  for (float& v : x) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  write_floats(dir / "input.nchw", x);
  write_floats(dir / "input.nhwc", testing::nchw_to_nhwc(x, 1, 3, 240, 320));
  const std::string cmd = kPython + " " + PIPECUT_TEST_SUPPORT_DIR "/onnx_reference.py " +
                          model.string() + " --input " + (dir / "input.nchw").string() + " -o " +
                          (dir / "reference").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto run = run_cli("run " + (dir / "face.tflite").string() + " --input " +
                           (dir / "input.nhwc").string() + " --output " + (dir / "out").string() +
                           " --iterations 1");
  ASSERT_EQ(run.status, 0) << run.err;
  for (const std::string name : {"scores", "boxes"}) {
    const auto y = read_floats(dir / "out" / (name + ".raw"));
    const auto ref = read_floats(dir / "reference" / (name + ".f32"));
    ASSERT_EQ(y.size(), name == "scores" ? 4420u * 2 : 4420u * 4);
    EXPECT_LT(relative_gap(y, ref), 1e-4) << name;
  }
}

// UltraFace in INT8 (pipecut quantize: concatenations, softmax): on a photo of faces, the anchors
// float scores above 0.7 are found by the 8-bit model too.
TEST(ImportUltraFace, Int8FindsTheSameFaces) {
  const fs::path model =
      fs::path(PIPECUT_SHARED_DIR) / "models/float/face_ultraface_rfb320_simplified.onnx";
  if (!fs::exists(model)) GTEST_SKIP() << model << " is absent";
  const fs::path dir = testing::fresh_dir("import-ultraface-int8");
  const fs::path images = fs::path(PIPECUT_SHARED_DIR) / "images";
  const auto q =
      run_cli("quantize " + model.string() + " -o " + (dir / "face_int8.tflite").string() +
              " --calib " + images.string() + " --mean 127 --std 128");
  ASSERT_EQ(q.status, 0) << q.err;
  ASSERT_EQ(run_cli("import " + model.string() + " -o " + (dir / "face.tflite").string()).status,
            0);
  const Model qm = Model::load(dir / "face_int8.tflite");
  const Tensor& qin = qm.tensor(qm.inputs()[0]);
  const Image image = resize_image(load_image(images / "face.jpg"), 320, 240);
  std::vector<float> x(image.rgb.size());
  std::vector<uint8_t> xq(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = (static_cast<float>(image.rgb[i]) - 127.0f) / 128.0f;
    const float v =
        std::round(x[i] / qin.quant.scale[0]) + static_cast<float>(qin.quant.zero_point[0]);
    xq[i] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(v, -128.0f, 127.0f)));
  }
  write_floats(dir / "x.f32", x);
  write_file_atomic(dir / "x.i8", xq);
  ASSERT_EQ(
      run_cli("run " + (dir / "face.tflite").string() + " --input " + (dir / "x.f32").string() +
              " --output " + (dir / "of").string() + " --iterations 1")
          .status,
      0);
  ASSERT_EQ(
      run_cli("run " + (dir / "face_int8.tflite").string() + " --input " + (dir / "x.i8").string() +
              " --output " + (dir / "oq").string() + " --iterations 1")
          .status,
      0);
  const auto sf = read_floats(dir / "of" / "scores.raw");
  const auto sb = read_file(dir / "oq" / "scores.raw");
  int scores_out = -1;
  for (int t : qm.outputs())
    if (qm.tensor(t).name == "scores") scores_out = t;
  ASSERT_GE(scores_out, 0);
  const Tensor& so = qm.tensor(scores_out);
  ASSERT_EQ(sf.size(), sb.size());
  int faces = 0, found = 0;
  for (size_t a = 1; a < sf.size(); a += 2) {  // (background, face) per anchor
    const float q = (static_cast<float>(static_cast<int8_t>(sb[a])) -
                     static_cast<float>(so.quant.zero_point[0])) *
                    so.quant.scale[0];
    if (sf[a] > 0.7f) {
      ++faces;
      found += q > 0.6f;
    }
  }
  EXPECT_GE(faces, 10);
  EXPECT_GE(found * 10, faces * 9) << found << " of " << faces;
}

}  // namespace
}  // namespace pipecut
