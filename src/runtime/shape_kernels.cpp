// RESHAPE, SQUEEZE and EXPAND_DIMS change only the shape: the output aliases the input's memory
// and no kernel runs. Should the file give the output another scale or zero point, the values
// are requantized through a table instead.
#include "runtime/kernels.h"
#include "runtime/quant_math.h"

namespace pipecut::runtime {

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
  if (in.quantized && !same_quantization(in, out))
    return make_table_or_alias(ctx, make_lut(in, out, [](double x) { return x; }));
  ctx.alias(0, 0);
  return nullptr;
}

}  // namespace pipecut::runtime
