// libFuzzer target: any bytes as what edgetpu_compiler printed. The parser must return (never
// throw, crash or hang), and what it returns must be consistent: a model block it calls complete
// has every figure, and text it calls complete names no gap. Seeded with the real logs of
// ../shared/edgetpu-logs (`make fuzz FUZZ_TARGET=compiler_output`).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pipecut/edgetpu_compiler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const pipecut::CompilerOutput out = pipecut::parse_compiler_output(text);
  if (out.complete != out.gaps.empty()) std::abort();
  for (const auto& m : out.models) {
    if (m.complete && m.operators.empty() &&
        !(m.on_chip_used && m.off_chip_used && m.subgraphs && m.total_ops))
      std::abort();
    for (const auto& op : m.operators)
      if (op.op.empty() || op.status.empty() || op.count < 0) std::abort();
  }
  return 0;
}
