// compile_split_tree from the library, on several threads (also run under ThreadSanitizer by
// `make test-tsan`). The compiler here is a STAND-IN (support/stand_in_edgetpu_compiler.sh), not
// Coral's edgetpu_compiler: it prints a real compiler's output and writes an output file.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "pipecut/edgetpu_compiler.h"
#include "pipecut/error.h"
#include "pipecut/graph.h"
#include "pipecut/layout.h"
#include "pipecut/split_tree.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;

SplitTree mobilenet_tree(const std::string& name) {
  const fs::path dir = testing::fresh_dir(name) / "tree";
  const Model model = Model::load(testing::coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const Graph graph(model);
  SplitOptions options;
  options.high = 3 << 19;  // 1.5 MiB: 3 segments, 8 files
  write_split_tree(model, graph, plan_split(model, graph, options), dir, {});
  return read_split_tree(dir);
}

CompileOptions stand_in(int jobs) {
  setenv(
      "STAND_IN_LOG",
      (std::string(PIPECUT_SHARED_DIR) + "/edgetpu-logs/v16-resnet50-segment1.stdout.txt").c_str(),
      1);
  CompileOptions options;
  options.compiler = std::string(PIPECUT_TEST_SUPPORT_DIR) + "/stand_in_edgetpu_compiler.sh";
  options.jobs = jobs;
  options.timeout_seconds = 60;
  return options;
}

TEST(EdgeTpuTreeCompile, EveryFileOnFourThreads) {
  unsetenv("STAND_IN_MODE");
  const SplitTree tree = mobilenet_tree("EdgeTpuTreeCompileAll");
  int64_t progress_calls = 0;
  CompileOptions options = stand_in(4);
  options.progress = [&](int64_t, int64_t, const std::string&) { ++progress_calls; };
  const TreeCompileResult result = compile_split_tree(tree, options);
  size_t files = 0;
  for (const auto& folder : tree.folders) files += folder.files.size();
  ASSERT_EQ(result.files.size(), files);
  EXPECT_EQ(result.failed(), 0);
  int shared = 0;
  for (const auto& f : result.files) {
    EXPECT_TRUE(f.ok) << f.folder << "/" << f.file << ": " << f.failure;
    EXPECT_EQ(f.compiler_version, "16.0.384591198");
    EXPECT_EQ(f.report.total_ops, 34);
    EXPECT_TRUE(fs::is_regular_file(tree.dir / f.folder / f.output)) << f.output;
    EXPECT_TRUE(fs::is_regular_file(tree.dir / f.folder / f.transcript)) << f.transcript;
    shared += !f.compiled_as.empty();
  }
  EXPECT_GT(shared, 0) << "byte-identical prefix segments are compiled once";
  EXPECT_GT(progress_calls, 1);
  for (const auto& entry : fs::recursive_directory_iterator(tree.dir))
    EXPECT_EQ(entry.path().filename().string().find(".compiling-"), std::string::npos);
}

TEST(EdgeTpuTreeCompile, FailuresStayWithTheirFiles) {
  setenv("STAND_IN_MODE", "fail-on=seg1", 1);
  const SplitTree tree = mobilenet_tree("EdgeTpuTreeCompileFail");
  const TreeCompileResult result = compile_split_tree(tree, stand_in(3));
  int failed = 0;
  for (const auto& f : result.files) {
    const bool should_fail = f.file.find("seg1") != std::string::npos;
    EXPECT_EQ(f.ok, !should_fail) << f.file;
    if (should_fail) {
      ++failed;
      EXPECT_NE(f.failure.find("exit status 1"), std::string::npos) << f.failure;
      EXPECT_FALSE(fs::exists(tree.dir / f.folder / "tpu" / "seg1_int8_edgetpu.tflite"));
    }
  }
  EXPECT_EQ(failed, result.failed());
  EXPECT_GT(failed, 0);
}

TEST(EdgeTpuTreeCompile, NoCompilerIsOneError) {
  const SplitTree tree = mobilenet_tree("EdgeTpuTreeCompileNone");
  CompileOptions options;
  options.compiler = tree.dir / "no-such-compiler";
  try {
    compile_split_tree(tree, options);
    ADD_FAILURE() << "compiled without a compiler";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not an executable file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pipecut
