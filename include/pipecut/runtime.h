#pragma once
// Running models. An Executable runs one model (a whole model, a segment or a tail) on some
// backend: the CPU interpreter over oneDNN today; an Edge TPU backend can implement the same
// interface later. Tensors cross boundaries by name, as the split tree's meta.json names them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipecut/model.h"

namespace pipecut {

// A tensor's value at a model boundary, in the model's own type and quantization.
struct TensorValue {
  std::string name;
  DType type = DType::kInt8;
  std::vector<int32_t> shape;
  Quantization quant;
  std::vector<uint8_t> data;  // raw bytes, row-major (NHWC), exactly as TFLite lays them out
};

// The name, type, shape and quantization a model expects at one of its inputs or outputs.
struct TensorSpec {
  std::string name;
  DType type = DType::kInt8;
  std::vector<int32_t> shape;
  Quantization quant;
  int64_t byte_size() const;
};

class Executable {
 public:
  virtual ~Executable() = default;
  virtual const std::vector<TensorSpec>& inputs() const = 0;   // model input order
  virtual const std::vector<TensorSpec>& outputs() const = 0;  // model output order
  // Runs once. `inputs` in the order of inputs(); returns values in the order of outputs().
  // Throws pipecut::Error for a wrong count, type, shape or byte size.
  virtual std::vector<TensorValue> run(const std::vector<TensorValue>& inputs) = 0;
  // Intermediate tensors asked for when loading (CpuOptions::keep), from the last run.
  virtual std::vector<TensorValue> kept() const { return {}; }
  virtual std::string backend() const = 0;  // "cpu"
};

struct CpuOptions {
  int threads = 1;
  std::vector<std::string> keep;  // exact tensor names to keep for Executable::kept()
};

// Compiles the model into a plan of kernels once; unsupported ops or types are refused here,
// naming the op type and index. Throws pipecut::Error.
std::unique_ptr<Executable> load_cpu(const Model& model, const CpuOptions& options = {});

// Figures of a CPU executable's plan (see docs/runtime.md).
struct CpuPlanStats {
  int64_t arena_bytes = 0;       // the one buffer every activation and scratch buffer lives in
  int64_t activation_bytes = 0;  // sum of all activation tensors' sizes
  int64_t scratch_bytes = 0;     // sum of the kernels' temporary buffers
  int64_t weight_bytes = 0;      // constants the kernels keep (reordered weights, tables)
  int steps = 0;                 // kernels per run (reshape-like ops need none)
};
// Throws pipecut::Error when `executable` does not come from load_cpu.
CpuPlanStats cpu_plan_stats(const Executable& executable);

// One op's share of a CPU executable's run time (see cpu_profile).
struct OpTime {
  int op_index = -1;        // in the model's operator list
  std::string op_type;      // "CONV_2D"
  std::string kernel;       // what runs it: "dnnl brgconv:avx512_core_vnni", "own"
  double milliseconds = 0;  // mean per run
};
// Runs `inputs` through `executable` `runs` times after one warm-up run and times every kernel,
// in plan order (ops that need no kernel, like RESHAPE, are absent). The timer around each
// kernel adds a little to the total. Throws pipecut::Error when `executable` does not come from
// load_cpu, for a runs count below 1, or for inputs run() would refuse.
std::vector<OpTime> cpu_profile(Executable& executable, const std::vector<TensorValue>& inputs,
                                int runs);

// Op types load_cpu accepts ("ADD", "CONV_2D", ...), sorted.
std::vector<std::string> cpu_supported_ops();

}  // namespace pipecut
