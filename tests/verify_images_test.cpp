// Pictures as model inputs: the real JPEG, PNG and BMP photographs of ../shared/images decoded
// and resized, bad files refused in one line, and a real Coral MobileNet v2 naming what is in
// them (their true classes are in ../shared/images/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <numeric>

#include "pipecut/error.h"
#include "pipecut/image.h"
#include "pipecut/inputs.h"
#include "pipecut/runtime.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;

fs::path image_path(const std::string& name) {
  return fs::path(PIPECUT_SHARED_DIR) / "images" / name;
}

TEST(Images, DecodesJpegPngAndBmp) {
  for (const char* name : {"cat.bmp", "parrot.jpg", "sparrow.png", "burger.jpg", "bird.bmp"}) {
    const Image image = load_image(image_path(name));
    EXPECT_GT(image.width, 32) << name;
    EXPECT_GT(image.height, 32) << name;
    ASSERT_EQ(image.rgb.size(), static_cast<size_t>(image.width) * image.height * 3) << name;
    // A photograph, not a flat fill: many distinct values.
    std::vector<bool> seen(256, false);
    for (uint8_t v : image.rgb) seen[v] = true;
    EXPECT_GT(std::count(seen.begin(), seen.end(), true), 100) << name;
  }
  const Image raw = load_image(testing::coral_model("bird.rgb"));
  EXPECT_EQ(raw.width, 224);
  EXPECT_EQ(raw.height, 224);
}

TEST(Images, BadFilesFailNamingTheFile) {
  const fs::path dir = testing::fresh_dir("ImagesBad");
  const auto jpeg = testing::read_bytes(image_path("parrot.jpg"));
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> cases = {
      {"empty.jpg", {}},
      {"text.png", std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', '\n'}},
      {"cut.jpg", std::vector<uint8_t>(jpeg.begin(), jpeg.begin() + 200)},
      {"odd.rgb", std::vector<uint8_t>(1000, 7)},
  };
  for (const auto& [name, bytes] : cases) {
    testing::write_bytes(dir / name, bytes);
    try {
      load_image(dir / name);
      ADD_FAILURE() << name << " was accepted";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(name), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
  EXPECT_THROW(load_image(dir / "missing.bmp"), Error);
}

TEST(Images, ResizeKeepsFlatAreasAndHalves) {
  Image image;
  image.width = 640;
  image.height = 480;
  image.rgb.resize(640 * 480 * 3);
  for (int y = 0; y < 480; ++y)
    for (int x = 0; x < 640; ++x)
      for (int c = 0; c < 3; ++c)
        image.rgb[(static_cast<size_t>(y) * 640 + x) * 3 + c] = x < 320 ? 10 : 200;
  const Image small = resize_image(image, 64, 48);
  ASSERT_EQ(small.rgb.size(), 64u * 48 * 3);
  EXPECT_EQ(small.rgb[(10 * 64 + 5) * 3], 10);    // well inside the left half
  EXPECT_EQ(small.rgb[(10 * 64 + 60) * 3], 200);  // well inside the right half
  const Image big = resize_image(small, 300, 200);
  EXPECT_EQ(big.rgb[(100 * 300 + 10) * 3 + 2], 10);
  EXPECT_THROW(resize_image(image, 0, 10), Error);
}

TEST(Images, MobileNetNamesWhatIsInTheRealPhotographs) {
  // Coral's MobileNet v2 (uint8 input, 1001 classes with background); indices from the README.
  const Model model = Model::load(testing::coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  auto exec = load_cpu(model);
  // The fox's kind is not verified (README): red, kit, Arctic and grey fox all count.
  const std::vector<std::pair<std::string, std::vector<int>>> truth = {
      {"cat.bmp", {286}},
      {"parrot.jpg", {89}},
      {"hot_dog.jpg", {935}},
      {"burger.jpg", {934}},
      {"fox_original.jpg", {278, 279, 280, 281}},
      {"husky_original.jpg", {251}},
      {"grace_hopper.bmp", {653}},
      {"dragonfly.bmp", {320}}};
  int top1 = 0;
  for (const auto& entry : truth) {
    const std::string& name = entry.first;
    const std::vector<int>& classes = entry.second;
    const auto out = exec->run({image_input(exec->inputs()[0], image_path(name))})[0];
    std::vector<int> order(out.data.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                      [&](int a, int b) { return out.data[a] > out.data[b]; });
    const auto is_true = [&](int c) {
      return std::find(classes.begin(), classes.end(), c) != classes.end();
    };
    EXPECT_TRUE(std::any_of(order.begin(), order.begin() + 5, is_true))
        << name << ": class " << classes[0] << " not in the top 5 (top 1: " << order[0] << ")";
    top1 += is_true(order[0]);
  }
  EXPECT_GE(top1, 6) << "of " << truth.size() << " photographs named right at top 1";
}

}  // namespace
}  // namespace pipecut
