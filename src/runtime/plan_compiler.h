#pragma once
// Compiles a model into a Plan: describes every tensor, asks the kernel factory of each op for a
// kernel (refusing unsupported ops and types here, never at run time), plans the tensor memory
// from the kernels' lifetimes, and binds every kernel to its addresses.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipecut/model.h"
#include "pipecut/runtime.h"
#include "runtime/plan.h"

namespace pipecut::runtime {

class PlanBuilder {
 public:
  PlanBuilder(const Model& model, const CpuOptions& options);
  std::unique_ptr<Plan> build();

  // For OpContext.
  const ValueInfo& value(int tensor) const { return plan_->values.at(static_cast<size_t>(tensor)); }
  void read_constant(int tensor);
  int scratch(int64_t bytes);
  void alias(int out, int in);
  DnnlEnv& dnnl() { return *plan_->dnnl; }
  int threads() const { return options_.threads; }
  [[noreturn]] void refuse(const Op& op, const std::string& why) const;

 private:
  int root(int tensor) const;
  void compile_ops();
  void plan_and_bind();

  const Model& model_;
  const CpuOptions& options_;
  std::unique_ptr<Plan> plan_;
  std::vector<int> alias_of_;        // by tensor: the tensor whose memory it shares, or -1
  std::vector<bool> constant_read_;  // by tensor
  std::vector<int64_t> scratch_bytes_;
  std::vector<int> scratch_step_;
  std::vector<std::vector<int>> step_reads_, step_writes_;
};

}  // namespace pipecut::runtime
