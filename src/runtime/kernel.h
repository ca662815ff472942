#pragma once
// The pieces every kernel family shares: the Kernel interface the plan runs, the addresses a
// kernel binds to once memory is planned, and the OpContext a kernel factory compiles one op with.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipecut/model.h"
#include "runtime/op_options.h"
#include "runtime/value_info.h"

namespace pipecut::runtime {

struct DnnlEnv;
class PlanBuilder;

// Addresses of tensors and scratch buffers, fixed for the executable's lifetime.
struct Bindings {
  std::vector<uint8_t*> tensors;  // by model tensor index (stored representation)
  std::vector<uint8_t*> scratch;  // by scratch id
  uint8_t* tensor(int index) const { return tensors.at(static_cast<size_t>(index)); }
  template <typename T>
  T* tensor_as(int index) const {
    return reinterpret_cast<T*>(tensor(index));
  }
};

// One step of the plan. Kernels are created at load, bound once to their memory, then run many
// times; run() never allocates, and throws only if oneDNN itself fails.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual void bind(const Bindings& bindings) = 0;
  virtual void run() = 0;
  // Implementation detail for profiling ("dnnl brgconv:avx512_core_vnni", "own").
  virtual std::string detail() const { return "own"; }
  // Bytes of constants the kernel holds (reordered weights, biases, tables).
  virtual int64_t weight_bytes() const { return 0; }
};

// What a kernel factory knows about the op it compiles, and what it may ask of the plan.
class OpContext {
 public:
  OpContext(PlanBuilder& builder, const Model& model, const Op& op, OpOptions options);

  const Model& model() const { return model_; }
  const Op& op() const { return op_; }
  const OpOptions& options() const { return options_; }
  const std::string& type() const { return type_; }

  int num_inputs() const { return static_cast<int>(op_.inputs.size()); }
  int num_outputs() const { return static_cast<int>(op_.outputs.size()); }
  bool has_input(int i) const {
    return i < num_inputs() && op_.inputs[static_cast<size_t>(i)] >= 0;
  }
  int input_index(int i) const;   // tensor index of input i (throws a refusal when absent)
  int output_index(int i) const;  // tensor index of output i
  const ValueInfo& in(int i) const;
  const ValueInfo& out(int i) const;
  const Tensor& in_tensor(int i) const { return model_.tensor(input_index(i)); }

  // Input i, when it is a constant, is read as data at run time like an activation (in the
  // stored domain); an activation is left as it is.
  void read_constant(int i);
  // A buffer live only while this op runs; Bindings::scratch[id] holds its address.
  int scratch(int64_t bytes);
  // Output `out` shares input `in`'s memory (reshape-like ops): the op needs no kernel.
  void alias(int out, int in);
  DnnlEnv& dnnl();
  // Threads the executable runs with: kernels may cut their work into as many pieces or more.
  int threads() const;

  // Refuses the op at load time, naming it and its index.
  [[noreturn]] void refuse(const std::string& why) const;
  void require(bool condition, const std::string& why) const {
    if (!condition) refuse(why);
  }
  // Checks that the op has at least `inputs` inputs and exactly `outputs` outputs.
  void require_arity(int inputs, int outputs) const;
  // An int32 or int64 constant input as int64 values (axes, sizes, paddings).
  std::vector<int64_t> constant_ints(int i) const;
  // An axis held by constant input i (one value), and an axis made 0..rank-1 (a negative one
  // counts from the end); both refuse the op otherwise.
  int64_t axis_input(int i) const;
  int normalized_axis(int64_t axis, int rank) const;

 private:
  PlanBuilder& builder_;
  const Model& model_;
  const Op& op_;
  OpOptions options_;
  std::string type_;
};

using KernelFactory = std::unique_ptr<Kernel> (*)(OpContext& ctx);

// The factory for a builtin op name ("CONV_2D"), or null when the runtime has none.
KernelFactory find_kernel_factory(const std::string& op_type);
// Names of every op the runtime supports, sorted.
std::vector<std::string> supported_op_types();

}  // namespace pipecut::runtime
