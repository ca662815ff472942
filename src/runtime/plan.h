#pragma once
// A compiled model: its tensors as the runtime stores them, the steps (one kernel per op, none for
// reshape-like ops that alias their input), and the planned memory they are bound to.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "pipecut/model.h"
#include "pipecut/runtime.h"
#include "runtime/kernel.h"
#include "runtime/value_info.h"

namespace pipecut::runtime {

struct Step {
  int op_index = -1;
  std::string op_type;
  std::unique_ptr<Kernel> kernel;
};

struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};

struct Plan {
  Plan();
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  std::string origin;
  std::vector<ValueInfo> values;  // by tensor index
  std::vector<Step> steps;
  std::vector<int> inputs, outputs, kept;  // tensor indices
  std::unique_ptr<DnnlEnv> dnnl;
  std::unique_ptr<uint8_t, AlignedFree> arena;
  int64_t arena_bytes = 0;
  int64_t activation_bytes = 0;                 // sum of every activation tensor's size
  int64_t scratch_bytes = 0;                    // sum of every step's scratch requests
  std::vector<std::vector<uint8_t>> constants;  // constants read as data, in the stored domain
  Bindings bindings;
};

std::unique_ptr<Plan> compile_plan(const Model& model, const CpuOptions& options);

}  // namespace pipecut::runtime
