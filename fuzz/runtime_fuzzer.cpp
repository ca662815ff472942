// libFuzzer target: any bytes as a .tflite file, through everything a user's file meets. Loading
// (flatbuffer verification and reading), compiling for the CPU and one run on fixed input bytes
// must either succeed or throw pipecut::Error; a crash, a sanitizer report, a hang or another
// exception type is a finding. Built with `make fuzz` (clang, AddressSanitizer and
// UndefinedBehaviorSanitizer); docs/architecture.md says how to run it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "fuzz_case.h"
#include "pipecut/model.h"
#include "pipecut/runtime.h"

namespace {

// Models whose tensors add up to more than this are not compiled: memory that big is slow to
// get (or refused, which AddressSanitizer turns into an abort), not a finding.
constexpr int64_t kMaxTensorBytes = int64_t{1} << 28;
// Inputs larger than this are not run, for the same reason.
constexpr int64_t kMaxInputBytes = int64_t{1} << 22;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return pipecut::fuzz::run_case([&] {
    const pipecut::Model model =
        pipecut::Model::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.tflite");
    int64_t tensor_bytes = 0;
    for (const pipecut::Tensor& t : model.tensors()) {
      tensor_bytes += t.byte_size();  // each under 2^43 (the reader's limit), so no overflow
      if (tensor_bytes > kMaxTensorBytes) return;
    }
    const std::unique_ptr<pipecut::Executable> exe = pipecut::load_cpu(model);
    int64_t total = 0;
    for (const pipecut::TensorSpec& spec : exe->inputs()) total += spec.byte_size();
    if (total > kMaxInputBytes) return;
    std::vector<pipecut::TensorValue> inputs;
    for (const pipecut::TensorSpec& spec : exe->inputs()) {
      inputs.push_back({spec.name, spec.type, spec.shape, spec.quant,
                        std::vector<uint8_t>(static_cast<size_t>(spec.byte_size()), 0x5A)});
    }
    exe->run(inputs);
  });
}
