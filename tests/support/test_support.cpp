#include "support/test_support.h"

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

std::vector<std::string> coral_splittable_models() {
  return {"mobilenet_v1_0.25_128_quant.tflite",
          "mobilenet_v1_0.5_160_quant.tflite",
          "mobilenet_v2_1.0_224_quant.tflite",
          "tf2_mobilenet_v2_1.0_224_ptq.tflite",
          "deeplabv3_mnv2_dm05_pascal_quant.tflite",
          "keras_lstm_mnist_ptq.tflite",
          "split_concat.tflite"};
}

}  // namespace pipecut::testing
