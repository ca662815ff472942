#pragma once
// Paths and small helpers shared by the test suites.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pipecut::testing {

// ../shared/models/coral/<name>; tests skip when the shared folder is absent.
std::filesystem::path coral_model(const std::string& name);
std::filesystem::path coral_dir();
// A fresh, empty folder for one test, under the build tree.
std::filesystem::path fresh_dir(const std::string& name);
std::vector<uint8_t> read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);

// The centre side x side crop of the 224 x 224 x 3 RGB picture bird.rgb, as raw bytes.
// Throws std::runtime_error when bird.rgb has another size.
std::vector<uint8_t> bird_crop(int side);
// The integer an 8-bit output byte stands for: int8 when `is_int8`, else uint8.
int byte_value(uint8_t byte, bool is_int8);
// The index of the largest value, reading the bytes as int8 when `is_int8`, else as uint8; the
// first one on a tie.
size_t top1(const std::vector<uint8_t>& bytes, bool is_int8);

// How far two 8-bit outputs are apart, in steps of the integers the bytes stand for (int8 when
// `is_int8`): the largest difference, how many bytes differ, and the first index whose difference
// exceeds `limit` (the common size when none does). Compares the common prefix only.
struct ByteGap {
  int max = 0;
  size_t differing = 0;
  size_t first_over = 0;
};
ByteGap byte_gap(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, bool is_int8,
                 int limit = 255);

// The photos of ../shared/images (JPEG, BMP, PNG; not the segmentation masks), sorted by path.
std::vector<std::string> shared_photos();

// The real, splittable Coral models (all but the Edge TPU-compiled one).
std::vector<std::string> coral_splittable_models();

// Runs the built `pipecut` binary with `args` (a shell command line); captures its exit code,
// standard output and standard error.
struct CliResult {
  int status = -1;
  std::string out, err;
};
CliResult run_cli(const std::string& args);

// The CPUs the calling thread may run on (its affinity mask), in increasing order.
std::vector<int> thread_cpus();

}  // namespace pipecut::testing
