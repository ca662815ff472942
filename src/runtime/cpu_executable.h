#pragma once
// The CPU Executable: converts inputs at the model's edges (int8 <-> stored uint8), runs the
// plan's steps in order, and copies outputs and kept tensors out.
#include <memory>
#include <string>
#include <vector>

#include "pipecut/runtime.h"
#include "runtime/plan.h"
#include "runtime/work_team.h"

namespace pipecut::runtime {

class CpuExecutable : public Executable {
 public:
  CpuExecutable(std::unique_ptr<Plan> plan, int threads);
  ~CpuExecutable() override;

  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }
  std::vector<TensorValue> run(const std::vector<TensorValue>& inputs) override;
  std::vector<TensorValue> kept() const override { return kept_; }
  std::string backend() const override { return "cpu"; }

  CpuPlanStats stats() const;
  // Runs `runs` times with the given inputs and times every step (see pipecut::cpu_profile).
  std::vector<OpTime> profile(const std::vector<TensorValue>& inputs, int runs);

 private:
  void load_inputs(const std::vector<TensorValue>& inputs);
  void run_steps(std::vector<double>* step_ms);
  void run_steps_from(size_t& step, std::vector<double>* step_ms);
  TensorValue read_value(int tensor) const;

  std::unique_ptr<Plan> plan_;
  WorkTeam team_;
  std::vector<TensorSpec> inputs_, outputs_;
  std::vector<TensorValue> kept_;
};

}  // namespace pipecut::runtime
