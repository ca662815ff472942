// RESHAPE, SQUEEZE and EXPAND_DIMS change only the shape: the output aliases the input's memory
// and no kernel runs. Should the file give the output another scale or zero point, the values
// are requantized through a table instead.
#include <cstring>

#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

class TableCopyKernel : public Kernel {
 public:
  TableCopyKernel(int input, int output, int64_t bytes, const Lut& lut)
      : input_(input), output_(output), bytes_(bytes), lut_(lut) {}
  void bind(const Bindings& b) override {
    in_ = b.tensor(input_);
    out_ = b.tensor(output_);
  }
  void run() override {
    parallel_for(bytes_, 1 << 16, [this](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out_[i] = lut_[in_[i]];
    });
  }

 private:
  int input_, output_;
  int64_t bytes_;
  Lut lut_;
  const uint8_t* in_ = nullptr;
  uint8_t* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_reshape(OpContext& ctx) {
  ctx.require(ctx.num_inputs() >= 1 && ctx.num_outputs() == 1, "expects an input and one output");
  const ValueInfo& in = ctx.in(0);
  const ValueInfo& out = ctx.out(0);
  ctx.require(in.elements() == out.elements(), "input " + shape_text(in.shape) + " and output " +
                                                   shape_text(out.shape) +
                                                   " hold different numbers of values");
  ctx.require(in.type == out.type && in.quantized == out.quantized,
              std::string("input type ") + dtype_name(in.file_type) + " and output type " +
                  dtype_name(out.file_type) + " differ");
  if (in.quantized && !same_quantization(in, out)) {
    const Lut lut = make_lut(in, out, [](double x) { return x; });
    if (!is_identity(lut)) {
      ctx.read_constant(0);
      return std::make_unique<TableCopyKernel>(ctx.input_index(0), ctx.output_index(0), in.bytes(),
                                               lut);
    }
  }
  ctx.alias(0, 0);
  return nullptr;
}

}  // namespace pipecut::runtime
