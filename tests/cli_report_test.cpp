// `pipecut report` on the zoo ResNet-101 split (compiled by the STAND-IN compiler of
// support/stand_in_edgetpu_compiler.sh, not the real one), rendered in headless Chromium
// (Debian's chromium package): no console errors, every file of the tree on the page, and a
// screenshot, decoded with stb_image, that shows the charts.
#include <gtest/gtest.h>
#include <stb/stb_image.h>
#include <stdlib.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::run_cli;

// Runs a shell command; its standard output, and standard error into `err_file`.
std::string run(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  *status = ::pclose(pipe);
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path chromium() {
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (fs::exists(candidate)) return candidate;
  return {};
}

TEST(CliReport, RendersInHeadlessChromiumWithEveryFile) {
  const fs::path dir = testing::fresh_dir("CliReport");
  const fs::path model = dir / "resnet101.tflite", tree = dir / "tree", html = dir / "report.html";
  ASSERT_EQ(run_cli("zoo resnet101 -o " + model.string()).status, 0);
  ASSERT_EQ(
      run_cli("split " + model.string() + " --max-size 7MiB --min-size 2MiB -o " + tree.string())
          .status,
      0);
  setenv(
      "STAND_IN_LOG",
      (std::string(PIPECUT_SHARED_DIR) + "/edgetpu-logs/v16-resnet50-segment1.stdout.txt").c_str(),
      1);
  setenv("STAND_IN_MODE", "fail-on=seg7", 1);  // one file's failure shows on the page too
  run_cli("compile " + tree.string() + " -j 2 --compiler " + PIPECUT_TEST_SUPPORT_DIR +
          "/stand_in_edgetpu_compiler.sh");
  const CliResult r = run_cli("report " + tree.string() + " -o " + html.string());
  ASSERT_EQ(r.status, 0) << r.err;

  // Self-contained: no scripts, nothing fetched (the SVG namespace is a name, not a fetch).
  const std::string page = read_text(html);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(page.find("href="), std::string::npos);
  EXPECT_NE(page.find("FAILED"), std::string::npos);
  EXPECT_NE(page.find(">compiled<"), std::string::npos);

  const fs::path browser = chromium();
  ASSERT_FALSE(browser.empty()) << "Debian's chromium is needed (scripts/install-deps.sh)";
  const std::string flags =
      " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars "
      "--enable-logging=stderr --v=0 --window-size=1280,3000 ";
  int status = 0;
  const fs::path log = dir / "chromium.log", png = dir / "report.png";
  const std::string dom =
      run(browser.string() + flags + "--dump-dom file://" + html.string() + " 2>" + log.string(),
          &status);
  ASSERT_EQ(status, 0) << read_text(log);
  // Every file of every folder, as the tree's meta.json files list them.
  int files = 0;
  for (const auto& folder : fs::directory_iterator(tree)) {
    if (!fs::is_directory(folder.path())) continue;
    const auto meta = nlohmann::json::parse(read_text(folder.path() / "meta.json"));
    for (const auto& f : meta["files"]) {
      EXPECT_NE(dom.find(f["file"].get<std::string>()), std::string::npos) << f["file"];
      ++files;
    }
    EXPECT_NE(dom.find("<h3>" + folder.path().filename().string() + "</h3>"), std::string::npos);
  }
  EXPECT_EQ(files, 34);

  run(browser.string() + flags + "--screenshot=" + png.string() + " file://" + html.string() +
          " 2>>" + log.string(),
      &status);
  ASSERT_EQ(status, 0) << read_text(log);
  const std::string console = read_text(log);
  for (size_t at = console.find("CONSOLE"); at != std::string::npos;
       at = console.find("CONSOLE", at + 1)) {
    ADD_FAILURE() << "console message: " << console.substr(at, console.find('\n', at) - at);
  }
  int width = 0, height = 0, channels = 0;
  unsigned char* pixels = stbi_load(png.c_str(), &width, &height, &channels, 3);
  ASSERT_NE(pixels, nullptr) << "the screenshot is not a PNG stb_image can read";
  EXPECT_EQ(width, 1280);
  EXPECT_EQ(height, 3000);
  // The size chart's bars (#4e79a7) and the timeline's second frame colour (#f28e2b) are drawn.
  auto count = [&](int r, int g, int b) {
    int64_t n = 0;
    for (int64_t i = 0; i < static_cast<int64_t>(width) * height; ++i) {
      const unsigned char* p = pixels + 3 * i;
      n += std::abs(p[0] - r) < 6 && std::abs(p[1] - g) < 6 && std::abs(p[2] - b) < 6;
    }
    return n;
  };
  EXPECT_GT(count(0x4e, 0x79, 0xa7), 5000);
  EXPECT_GT(count(0xf2, 0x8e, 0x2b), 500);
  int64_t dark = 0;  // text
  for (int64_t i = 0; i < static_cast<int64_t>(width) * height; ++i)
    dark += pixels[3 * i] < 80 && pixels[3 * i + 1] < 80 && pixels[3 * i + 2] < 80;
  EXPECT_GT(dark, 10000) << "no text was drawn (fonts missing?)";
  stbi_image_free(pixels);
}

}  // namespace
}  // namespace pipecut
