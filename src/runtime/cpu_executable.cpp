#include "runtime/cpu_executable.h"

#include <chrono>
#include <cstring>

#include "pipecut/error.h"
#include "runtime/dnnl_env.h"
#include "runtime/plan_compiler.h"
#include "runtime/threading.h"

namespace pipecut {

int64_t TensorSpec::byte_size() const {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n * dtype_bits(type) / 8;
}

namespace runtime {

namespace {

TensorSpec spec_of(const ValueInfo& v) {
  return TensorSpec{v.name, v.file_type, v.shape, v.file_quant};
}

// Copies `n` bytes, flipping the sign bit when the file type is int8 and the runtime stores uint8.
void convert_copy(uint8_t* dst, const uint8_t* src, int64_t n, bool flip) {
  if (n <= 0) return;  // an empty vector's data() may be null, which memcpy must not get
  if (!flip) {
    std::memcpy(dst, src, static_cast<size_t>(n));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i] ^ 0x80;
}

}  // namespace

CpuExecutable::CpuExecutable(std::unique_ptr<Plan> plan, int threads)
    : plan_(std::move(plan)), team_(threads) {
  for (int t : plan_->inputs) inputs_.push_back(spec_of(plan_->values[static_cast<size_t>(t)]));
  for (int t : plan_->outputs) outputs_.push_back(spec_of(plan_->values[static_cast<size_t>(t)]));
}

CpuExecutable::~CpuExecutable() = default;

CpuPlanStats CpuExecutable::stats() const {
  CpuPlanStats s;
  s.arena_bytes = plan_->arena_bytes;
  s.activation_bytes = plan_->activation_bytes;
  s.scratch_bytes = plan_->scratch_bytes;
  for (const Step& step : plan_->steps) s.weight_bytes += step.kernel->weight_bytes();
  for (const auto& c : plan_->constants) s.weight_bytes += static_cast<int64_t>(c.size());
  s.steps = static_cast<int>(plan_->steps.size());
  return s;
}

void CpuExecutable::load_inputs(const std::vector<TensorValue>& inputs) {
  const std::string& origin = plan_->origin;
  if (inputs.size() != inputs_.size()) {
    throw Error(origin + ": expected " + std::to_string(inputs_.size()) + " inputs, got " +
                std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& spec = inputs_[i];
    const TensorValue& value = inputs[i];
    // Built only on the way to an error: this runs on every inference.
    const auto what = [&] {
      return origin + ": input " + std::to_string(i) + " (" + spec.name + ")";
    };
    if (value.type != spec.type) {
      throw Error(what() + " has type " + dtype_name(value.type) + ", expected " +
                  dtype_name(spec.type));
    }
    if (value.shape != spec.shape) {
      throw Error(what() + " has shape " + shape_text(value.shape) + ", expected " +
                  shape_text(spec.shape));
    }
    if (static_cast<int64_t>(value.data.size()) != spec.byte_size()) {
      throw Error(what() + " has " + std::to_string(value.data.size()) + " bytes, expected " +
                  std::to_string(spec.byte_size()));
    }
    const int t = plan_->inputs[i];
    const ValueInfo& v = plan_->values[static_cast<size_t>(t)];
    convert_copy(plan_->bindings.tensor(t), value.data.data(), spec.byte_size(), v.shift != 0);
  }
}

TensorValue CpuExecutable::read_value(int tensor) const {
  const ValueInfo& v = plan_->values[static_cast<size_t>(tensor)];
  TensorValue out;
  out.name = v.name;
  out.type = v.file_type;
  out.shape = v.shape;
  out.quant = v.file_quant;
  out.data.resize(static_cast<size_t>(v.bytes()));
  const uint8_t* src = plan_->bindings.tensor(tensor);
  if (src) convert_copy(out.data.data(), src, v.bytes(), v.shift != 0);
  return out;
}

void CpuExecutable::run_steps(std::vector<double>* step_ms) {
  size_t s = 0;
  try {
    run_steps_from(s, step_ms);
  } catch (const dnnl::error& e) {  // only when oneDNN itself fails (out of memory)
    const Step& step = plan_->steps[s];
    throw Error(plan_->origin + ": op " + std::to_string(step.op_index) + " " + step.op_type +
                ": oneDNN failed: " + e.what());
  }
}

void CpuExecutable::run_steps_from(size_t& s, std::vector<double>* step_ms) {
  for (; s < plan_->steps.size(); ++s) {
    if (!step_ms) {
      plan_->steps[s].kernel->run();
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    plan_->steps[s].kernel->run();
    (*step_ms)[s] +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
}

std::vector<TensorValue> CpuExecutable::run(const std::vector<TensorValue>& inputs) {
  TeamScope team(&team_);
  load_inputs(inputs);
  run_steps(nullptr);
  std::vector<TensorValue> outputs;
  outputs.reserve(outputs_.size());
  for (size_t i = 0; i < outputs_.size(); ++i) {
    outputs.push_back(read_value(plan_->outputs[i]));
  }
  kept_.clear();
  for (int t : plan_->kept) kept_.push_back(read_value(t));
  return outputs;
}

std::vector<OpTime> CpuExecutable::profile(const std::vector<TensorValue>& inputs, int runs) {
  TeamScope team(&team_);
  load_inputs(inputs);
  std::vector<double> ms(plan_->steps.size(), 0.0);
  run_steps(nullptr);  // warm up
  for (int r = 0; r < runs; ++r) run_steps(&ms);
  std::vector<OpTime> times;
  for (size_t s = 0; s < plan_->steps.size(); ++s) {
    const Step& step = plan_->steps[s];
    times.push_back(
        {step.op_index, step.op_type, step.kernel->detail(), ms[s] / std::max(1, runs)});
  }
  return times;
}

}  // namespace runtime

std::unique_ptr<Executable> load_cpu(const Model& model, const CpuOptions& options) {
  if (options.threads < 1) throw Error(model.origin() + ": CpuOptions::threads must be at least 1");
  runtime::TeamScope single(nullptr);  // oneDNN's weight reorders: on this thread alone
  auto plan = runtime::compile_plan(model, options);
  auto exe = std::make_unique<runtime::CpuExecutable>(std::move(plan), options.threads);
  return exe;
}

CpuPlanStats cpu_plan_stats(const Executable& executable) {
  const auto* cpu = dynamic_cast<const runtime::CpuExecutable*>(&executable);
  if (!cpu) throw Error("cpu_plan_stats: the executable does not run on the cpu backend");
  return cpu->stats();
}

std::vector<OpTime> cpu_profile(Executable& executable, const std::vector<TensorValue>& inputs,
                                int runs) {
  auto* cpu = dynamic_cast<runtime::CpuExecutable*>(&executable);
  if (!cpu) throw Error("cpu_profile: the executable does not run on the cpu backend");
  if (runs < 1) throw Error("cpu_profile: at least one run is needed");
  return cpu->profile(inputs, runs);
}

std::vector<std::string> cpu_supported_ops() {
  return runtime::supported_op_types();
}

}  // namespace pipecut
