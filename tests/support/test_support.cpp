#include "support/test_support.h"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace pipecut::testing {

std::filesystem::path coral_dir() {
  return std::filesystem::path(PIPECUT_SHARED_DIR) / "models" / "coral";
}

std::filesystem::path coral_model(const std::string& name) {
  return coral_dir() / name;
}

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::path(PIPECUT_TEST_TMP) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<uint8_t> bird_crop(int side) {
  constexpr int kFull = 224;
  const std::vector<uint8_t> rgb = read_bytes(coral_dir() / "bird.rgb");
  if (rgb.size() != static_cast<size_t>(kFull * kFull * 3))
    throw std::runtime_error("bird.rgb has " + std::to_string(rgb.size()) +
                             " bytes, not 224x224x3");
  const int offset = (kFull - side) / 2;
  std::vector<uint8_t> crop;
  crop.reserve(static_cast<size_t>(side * side * 3));
  for (int y = 0; y < side; ++y) {
    const auto row = rgb.begin() + ((y + offset) * kFull + offset) * 3;
    crop.insert(crop.end(), row, row + side * 3);
  }
  return crop;
}

int byte_value(uint8_t byte, bool is_int8) {
  return is_int8 ? static_cast<int>(static_cast<int8_t>(byte)) : static_cast<int>(byte);
}

size_t top1(const std::vector<uint8_t>& bytes, bool is_int8) {
  size_t best = 0;
  for (size_t i = 1; i < bytes.size(); ++i) {
    if (byte_value(bytes[i], is_int8) > byte_value(bytes[best], is_int8)) best = i;
  }
  return best;
}

ByteGap byte_gap(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, bool is_int8,
                 int limit) {
  const size_t n = std::min(a.size(), b.size());
  ByteGap gap;
  gap.first_over = n;
  for (size_t i = 0; i < n; ++i) {
    const int diff = std::abs(byte_value(a[i], is_int8) - byte_value(b[i], is_int8));
    if (diff > limit && gap.first_over == n) gap.first_over = i;
    gap.max = std::max(gap.max, diff);
    if (diff != 0) ++gap.differing;
  }
  return gap;
}

std::vector<std::string> coral_splittable_models() {
  return {"mobilenet_v1_0.25_128_quant.tflite",
          "mobilenet_v1_0.5_160_quant.tflite",
          "mobilenet_v2_1.0_224_quant.tflite",
          "tf2_mobilenet_v2_1.0_224_ptq.tflite",
          "deeplabv3_mnv2_dm05_pascal_quant.tflite",
          "keras_lstm_mnist_ptq.tflite",
          "split_concat.tflite"};
}

std::vector<std::string> shared_photos() {
  std::vector<std::string> photos;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(PIPECUT_SHARED_DIR) + "/images")) {
    const std::string name = e.path().filename().string(), ext = e.path().extension().string();
    if ((ext == ".jpg" || ext == ".bmp" || ext == ".png") &&
        name.find("segmentation") == std::string::npos && name.find("mask") == std::string::npos)
      photos.push_back(e.path().string());
  }
  std::sort(photos.begin(), photos.end());
  return photos;
}

CliResult run_cli(const std::string& args) {
  static int calls = 0;
  const auto err_file = std::filesystem::path(PIPECUT_TEST_TMP) /
                        ("stderr-" + std::to_string(::getpid()) + "-" + std::to_string(calls++));
  std::filesystem::create_directories(err_file.parent_path());
  const std::string command = std::string(PIPECUT_BINARY) + " " + args + " 2>" + err_file.string();
  CliResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  in.close();
  std::filesystem::remove(err_file);
  return r;
}

std::vector<int> thread_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

}  // namespace pipecut::testing
