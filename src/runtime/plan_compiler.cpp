#include "runtime/plan_compiler.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "pipecut/error.h"
#include "runtime/dnnl_env.h"
#include "runtime/memory_planner.h"

namespace pipecut::runtime {

// ---- OpContext ---------------------------------------------------------------------------------

OpContext::OpContext(PlanBuilder& builder, const Model& model, const Op& op, OpOptions options)
    : builder_(builder),
      model_(model),
      op_(op),
      options_(std::move(options)),
      type_(model.op_type(op)) {}

int OpContext::input_index(int i) const {
  if (!has_input(i)) refuse("input " + std::to_string(i) + " is missing");
  return op_.inputs[static_cast<size_t>(i)];
}

int OpContext::output_index(int i) const {
  if (i >= num_outputs()) refuse("output " + std::to_string(i) + " is missing");
  return op_.outputs[static_cast<size_t>(i)];
}

const ValueInfo& OpContext::in(int i) const {
  return builder_.value(input_index(i));
}
const ValueInfo& OpContext::out(int i) const {
  return builder_.value(output_index(i));
}

void OpContext::read_constant(int i) {
  builder_.read_constant(input_index(i));
}
int OpContext::scratch(int64_t bytes) {
  return builder_.scratch(bytes);
}
void OpContext::alias(int out, int in) {
  builder_.alias(output_index(out), input_index(in));
}
DnnlEnv& OpContext::dnnl() {
  return builder_.dnnl();
}

int OpContext::threads() const {
  return builder_.threads();
}

void OpContext::refuse(const std::string& why) const {
  builder_.refuse(op_, why);
}

void OpContext::require_arity(int inputs, int outputs) const {
  int present = 0;
  for (int i = 0; i < num_inputs(); ++i) present += has_input(i) ? 1 : 0;
  require(num_inputs() >= inputs,
          "expects " + std::to_string(inputs) + " inputs, has " + std::to_string(present));
  require(num_outputs() == outputs,
          "expects " + std::to_string(outputs) + " outputs, has " + std::to_string(num_outputs()));
}

std::vector<int64_t> OpContext::constant_ints(int i) const {
  const Tensor& t = in_tensor(i);
  require(t.is_constant(), "input " + std::to_string(i) + " (" + t.name + ") must be constant");
  std::vector<int64_t> values;
  const int64_t n = t.num_elements();
  if (t.type == DType::kInt32 && static_cast<int64_t>(t.data.size()) >= n * 4) {
    for (int64_t k = 0; k < n; ++k) {
      int32_t v;
      std::memcpy(&v, t.data.data() + k * 4, 4);
      values.push_back(v);
    }
  } else if (t.type == DType::kInt64 && static_cast<int64_t>(t.data.size()) >= n * 8) {
    for (int64_t k = 0; k < n; ++k) {
      int64_t v;
      std::memcpy(&v, t.data.data() + k * 8, 8);
      values.push_back(v);
    }
  } else {
    refuse("input " + std::to_string(i) + " (" + t.name + ") must be an int32 or int64 constant");
  }
  return values;
}

int64_t OpContext::axis_input(int i) const {
  const std::vector<int64_t> axis = constant_ints(i);
  require(axis.size() == 1, "axis must hold one value");
  return axis[0];
}

int OpContext::normalized_axis(int64_t axis, int rank) const {
  if (axis < 0) axis += rank;
  require(axis >= 0 && axis < rank,
          "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return static_cast<int>(axis);
}

// ---- PlanBuilder -------------------------------------------------------------------------------

Plan::Plan() = default;
Plan::~Plan() = default;

PlanBuilder::PlanBuilder(const Model& model, const CpuOptions& options)
    : model_(model), options_(options) {}

void PlanBuilder::refuse(const Op& op, const std::string& why) const {
  throw Error(model_.origin() + ": op " + std::to_string(op.index) + " " + model_.op_type(op) +
              ": " + why);
}

int PlanBuilder::root(int tensor) const {
  while (alias_of_[static_cast<size_t>(tensor)] >= 0)
    tensor = alias_of_[static_cast<size_t>(tensor)];
  return tensor;
}

void PlanBuilder::read_constant(int tensor) {
  if (plan_->values.at(static_cast<size_t>(tensor)).constant)
    constant_read_[static_cast<size_t>(tensor)] = true;
}

int PlanBuilder::scratch(int64_t bytes) {
  scratch_bytes_.push_back(bytes);
  scratch_step_.push_back(static_cast<int>(plan_->steps.size()));
  return static_cast<int>(scratch_bytes_.size()) - 1;
}

void PlanBuilder::alias(int out, int in) {
  alias_of_.at(static_cast<size_t>(out)) = in;
  read_constant(root(in));
}

std::unique_ptr<Plan> PlanBuilder::build() {
  plan_ = std::make_unique<Plan>();
  plan_->origin = model_.origin();
  plan_->dnnl = std::make_unique<DnnlEnv>();
  const size_t n = model_.tensors().size();
  for (const Tensor& t : model_.tensors()) plan_->values.push_back(describe_tensor(t));
  alias_of_.assign(n, -1);
  constant_read_.assign(n, false);
  plan_->inputs = model_.inputs();
  plan_->outputs = model_.outputs();

  auto check_boundary = [&](int t, const char* what) {
    const ValueInfo& v = plan_->values.at(static_cast<size_t>(t));
    if (element_size(v.file_type) == 0) {
      throw Error(model_.origin() + ": " + what + " " + v.name + " has type " +
                  dtype_name(v.file_type) + ", which the cpu runtime does not support");
    }
    for (int32_t d : v.shape) {
      if (d < 0) throw Error(model_.origin() + ": " + what + " " + v.name + " has a dynamic shape");
    }
    if (v.elements() == 0)
      throw Error(model_.origin() + ": " + what + " " + v.name + " " + shape_text(v.shape) +
                  " has no elements");
    const std::string problem = quantization_problem(model_.tensor(t));
    if (!problem.empty()) throw Error(model_.origin() + ": " + what + " " + problem);
  };
  for (int t : plan_->inputs) check_boundary(t, "input");
  for (int t : plan_->outputs) check_boundary(t, "output");
  for (const std::string& name : options_.keep) {
    auto it = std::find_if(model_.tensors().begin(), model_.tensors().end(),
                           [&](const Tensor& t) { return t.name == name; });
    if (it == model_.tensors().end())
      throw Error(model_.origin() + ": no tensor named '" + name + "' to keep");
    plan_->kept.push_back(it->index);
  }

  compile_ops();
  plan_and_bind();
  return std::move(plan_);
}

void PlanBuilder::compile_ops() {
  for (const Op& op : model_.ops()) {
    const std::string type = model_.op_type(op);
    KernelFactory factory = find_kernel_factory(type);
    if (!factory) refuse(op, "op type not supported by the cpu runtime");
    for (int t : op.inputs) {
      if (t >= 0 && model_.tensor(t).is_variable) refuse(op, "variable tensors are not supported");
    }
    for (const std::vector<int>* tensors : {&op.inputs, &op.outputs}) {
      for (int t : *tensors) {
        if (t < 0) continue;
        const Tensor& tensor = model_.tensor(t);
        const std::string problem = quantization_problem(tensor);
        if (!problem.empty()) refuse(op, problem);
        // An empty activation has nothing to compute, and would make a zero channel count divide.
        if (tensor.num_elements() == 0 && tensor.type != DType::kInt32 &&
            tensor.type != DType::kInt64)
          refuse(op, "tensor " + tensor.name + " " + shape_text(tensor.shape) + " has no elements");
      }
    }
    for (int t : op.outputs) {
      const ValueInfo& v = plan_->values[static_cast<size_t>(t)];
      for (int32_t d : v.shape) {
        if (d < 0) refuse(op, "output " + v.name + " has a dynamic shape");
      }
      if (element_size(v.type) == 0) {
        refuse(op, std::string("output type ") + dtype_name(v.file_type) + " is not supported");
      }
    }
    OpContext ctx(*this, model_, op, read_op_options(model_, op));
    std::unique_ptr<Kernel> kernel;
    try {
      kernel = factory(ctx);
    } catch (const dnnl::error& e) {
      refuse(op, std::string("oneDNN cannot create the primitive: ") + e.what());
    }
    if (!kernel) continue;  // aliased its output
    std::vector<int> reads, writes;
    for (int t : op.inputs) {
      if (t < 0) continue;
      const int r = root(t);
      if (plan_->values[static_cast<size_t>(r)].constant && !constant_read_[static_cast<size_t>(r)])
        continue;
      reads.push_back(r);
    }
    for (int t : op.outputs) writes.push_back(t);
    step_reads_.push_back(std::move(reads));
    step_writes_.push_back(std::move(writes));
    plan_->steps.push_back(Step{op.index, type, std::move(kernel)});
  }
}

void PlanBuilder::plan_and_bind() {
  const size_t n = plan_->values.size();
  const int never = std::numeric_limits<int>::min();
  const int end = static_cast<int>(plan_->steps.size());
  std::vector<int> first(n, never), last(n, never);
  for (int t : plan_->inputs)
    first[static_cast<size_t>(root(t))] = -1, last[static_cast<size_t>(root(t))] = -1;
  for (int s = 0; s < end; ++s) {
    const Op& op = model_.ops()[static_cast<size_t>(plan_->steps[static_cast<size_t>(s)].op_index)];
    for (int r : step_reads_[static_cast<size_t>(s)]) {
      const ValueInfo& v = plan_->values[static_cast<size_t>(r)];
      if (v.constant) continue;
      if (first[static_cast<size_t>(r)] == never) {
        refuse(op, "reads " + v.name + " before any op writes it");
      }
      last[static_cast<size_t>(r)] = std::max(last[static_cast<size_t>(r)], s);
    }
    for (int w : step_writes_[static_cast<size_t>(s)]) {
      if (first[static_cast<size_t>(w)] != never) {
        refuse(op, "writes " + plan_->values[static_cast<size_t>(w)].name +
                       ", which is already written");
      }
      first[static_cast<size_t>(w)] = s;
      last[static_cast<size_t>(w)] = std::max(last[static_cast<size_t>(w)], s);
    }
  }
  auto keep_alive = [&](int t) {
    const size_t r = static_cast<size_t>(root(t));
    if (plan_->values[r].constant) {
      constant_read_[r] = true;
      return;
    }
    if (first[r] == never) {
      throw Error(model_.origin() + ": tensor " + plan_->values[r].name + " is never computed");
    }
    last[r] = end;
  };
  for (int t : plan_->outputs) keep_alive(t);
  for (int t : plan_->kept) keep_alive(t);

  std::vector<BufferUse> uses;
  std::vector<int> buffer_tensor;
  for (size_t t = 0; t < n; ++t) {
    if (alias_of_[t] >= 0 || first[t] == never || plan_->values[t].constant) continue;
    uses.push_back({plan_->values[t].bytes(), first[t], last[t]});
    buffer_tensor.push_back(static_cast<int>(t));
  }
  for (size_t t = 0; t < n; ++t) {  // every activation, aliases included
    const size_t r = static_cast<size_t>(root(static_cast<int>(t)));
    if (!plan_->values[t].constant && !plan_->values[r].constant && first[r] != never) {
      plan_->activation_bytes += plan_->values[t].bytes();
    }
  }
  const size_t tensor_buffers = uses.size();
  for (size_t k = 0; k < scratch_bytes_.size(); ++k) {
    uses.push_back({scratch_bytes_[k], scratch_step_[k], scratch_step_[k]});
    plan_->scratch_bytes += scratch_bytes_[k];
  }
  const MemoryPlan memory = plan_memory(uses);
  plan_->arena_bytes = memory.arena_bytes;
  const size_t alloc = static_cast<size_t>(std::max<int64_t>(memory.arena_bytes, 64));
  plan_->arena.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (alloc + 63) / 64 * 64)));
  if (!plan_->arena)
    throw Error(model_.origin() + ": cannot allocate " + std::to_string(alloc) + " bytes");
  std::memset(plan_->arena.get(), 0, alloc);

  Bindings& b = plan_->bindings;
  b.tensors.assign(n, nullptr);
  for (size_t k = 0; k < tensor_buffers; ++k) {
    b.tensors[static_cast<size_t>(buffer_tensor[k])] = plan_->arena.get() + memory.offsets[k];
  }
  for (size_t k = tensor_buffers; k < uses.size(); ++k) {
    b.scratch.push_back(plan_->arena.get() + memory.offsets[k]);
  }
  for (size_t t = 0; t < n; ++t) {
    if (!constant_read_[t] || alias_of_[t] >= 0) continue;
    const Tensor& tensor = model_.tensor(static_cast<int>(t));
    const ValueInfo& v = plan_->values[t];
    std::vector<uint8_t> bytes(tensor.data.begin(), tensor.data.end());
    bytes.resize(static_cast<size_t>(std::max<int64_t>(v.bytes(), 1)), 0);
    if (v.quantized && v.shift) {
      for (uint8_t& x : bytes) x ^= 0x80;
    }
    plan_->constants.push_back(std::move(bytes));
    b.tensors[t] = plan_->constants.back().data();
  }
  for (size_t t = 0; t < n; ++t) {
    if (alias_of_[t] >= 0) b.tensors[t] = b.tensors[static_cast<size_t>(root(static_cast<int>(t)))];
  }
  for (Step& step : plan_->steps) step.kernel->bind(b);
}

std::unique_ptr<Plan> compile_plan(const Model& model, const CpuOptions& options) {
  return PlanBuilder(model, options).build();
}

}  // namespace pipecut::runtime
