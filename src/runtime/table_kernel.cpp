// out[i] = table[in[i]]: every 8-bit map with one input (requantization, activations) runs as
// this one kernel, its table built at load.
#include "runtime/kernels.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

class TableKernel : public Kernel {
 public:
  TableKernel(int input, int output, int64_t bytes, const Lut& lut)
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

std::unique_ptr<Kernel> make_table_kernel(OpContext& ctx, const Lut& lut) {
  ctx.read_constant(0);
  return std::make_unique<TableKernel>(ctx.input_index(0), ctx.output_index(0), ctx.in(0).bytes(),
                                       lut);
}

std::unique_ptr<Kernel> make_table_or_alias(OpContext& ctx, const Lut& lut) {
  if (is_identity(lut)) {
    ctx.alias(0, 0);
    return nullptr;
  }
  return make_table_kernel(ctx, lut);
}

}  // namespace pipecut::runtime
