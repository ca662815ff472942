// ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM and PRELU with broadcasting. DIV and PRELU are float32
// only (ONNX imports); PRELU's alpha is the second operand. 8-bit ADD/SUB rescale both inputs to
// the output scale and MUL multiplies the centred inputs, in float with one rounding at the end
// (TensorFlow Lite rescales in fixed point with left_shift 20; the two differ by at most 1 LSB,
// see docs/runtime.md).
#include <algorithm>

#include "runtime/broadcast.h"
#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/simd.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

enum class BinaryOp { kAdd, kMul, kDiv, kMax, kMin, kPrelu };

struct QuantParams {
  float ka = 1, kb = 1;  // ADD/SUB: ka * (a - za) + kb * (b - zb)
  float m = 1;           // MUL: m * (a - za) * (b - zb)
  int32_t za = 0, zb = 0;
  int32_t zo = 0, lo = 0, hi = 255;
};

struct FloatParams {
  float sign_b = 1;  // -1 for SUB
  float lo = -INFINITY, hi = INFINITY;
};

// One inner row; sa, sb are 0 (repeat) or 1 (contiguous). Inputs are centred on their zero points
// first, which keeps the float error of the sum near 2^-24 of the result.
PIPECUT_MULTIVERSION
void add_u8_row(const uint8_t* __restrict a, int64_t sa, const uint8_t* __restrict b, int64_t sb,
                uint8_t* __restrict o, int64_t n, const QuantParams& p) {
  const float ka = p.ka, kb = p.kb;
  const int32_t za = p.za, zb = p.zb, zo = p.zo, lo = p.lo, hi = p.hi;
  auto term = [](float k, uint8_t v, int32_t z) {
    return k * static_cast<float>(static_cast<int32_t>(v) - z);
  };
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) {
      o[i] = static_cast<uint8_t>(requantize(term(ka, a[i], za) + term(kb, b[i], zb), zo, lo, hi));
    }
  } else if (sa) {
    const float c = term(kb, b[0], zb);
    for (int64_t i = 0; i < n; ++i)
      o[i] = static_cast<uint8_t>(requantize(term(ka, a[i], za) + c, zo, lo, hi));
  } else if (sb) {
    const float c = term(ka, a[0], za);
    for (int64_t i = 0; i < n; ++i)
      o[i] = static_cast<uint8_t>(requantize(c + term(kb, b[i], zb), zo, lo, hi));
  } else {
    const uint8_t v =
        static_cast<uint8_t>(requantize(term(ka, a[0], za) + term(kb, b[0], zb), zo, lo, hi));
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

PIPECUT_MULTIVERSION
void mul_u8_row(const uint8_t* __restrict a, int64_t sa, const uint8_t* __restrict b, int64_t sb,
                uint8_t* __restrict o, int64_t n, const QuantParams& p) {
  const float m = p.m;
  const int32_t za = p.za, zb = p.zb, zo = p.zo, lo = p.lo, hi = p.hi;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = static_cast<int32_t>(a[i * sa]) - za;
    const int32_t y = static_cast<int32_t>(b[i * sb]) - zb;
    o[i] = static_cast<uint8_t>(requantize(m * static_cast<float>(x * y), zo, lo, hi));
  }
}

PIPECUT_MULTIVERSION
void minmax_u8_row(const uint8_t* a, int64_t sa, const uint8_t* b, int64_t sb, uint8_t* o,
                   int64_t n, bool max) {
  if (max) {
    for (int64_t i = 0; i < n; ++i) o[i] = std::max(a[i * sa], b[i * sb]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = std::min(a[i * sa], b[i * sb]);
  }
}

PIPECUT_MULTIVERSION
void float_row(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* o,
               int64_t n, const FloatParams& p) {
  switch (op) {
    case BinaryOp::kAdd:
      for (int64_t i = 0; i < n; ++i)
        o[i] = std::min(std::max(a[i * sa] + p.sign_b * b[i * sb], p.lo), p.hi);
      break;
    case BinaryOp::kMul:
      for (int64_t i = 0; i < n; ++i) o[i] = std::min(std::max(a[i * sa] * b[i * sb], p.lo), p.hi);
      break;
    case BinaryOp::kDiv:
      for (int64_t i = 0; i < n; ++i) o[i] = std::min(std::max(a[i * sa] / b[i * sb], p.lo), p.hi);
      break;
    case BinaryOp::kMax:
      for (int64_t i = 0; i < n; ++i) o[i] = std::max(a[i * sa], b[i * sb]);
      break;
    case BinaryOp::kMin:
      for (int64_t i = 0; i < n; ++i) o[i] = std::min(a[i * sa], b[i * sb]);
      break;
    case BinaryOp::kPrelu:
      for (int64_t i = 0; i < n; ++i) {
        const float x = a[i * sa];
        o[i] = x >= 0 ? x : x * b[i * sb];
      }
      break;
  }
}

class BinaryKernel : public Kernel {
 public:
  BinaryKernel(OpContext& ctx, BinaryOp op, bool subtract) : op_(op) {
    ctx.require_arity(2, 1);
    const ValueInfo& a = ctx.in(0);
    const ValueInfo& b = ctx.in(1);
    const ValueInfo& o = ctx.out(0);
    ctx.require(make_broadcast(a.shape, b.shape, o.shape, &bc_),
                "shapes " + shape_text(a.shape) + " and " + shape_text(b.shape) +
                    " do not broadcast to " + shape_text(o.shape));
    ctx.read_constant(0);
    ctx.read_constant(1);
    a_ = ctx.input_index(0);
    b_ = ctx.input_index(1);
    out_ = ctx.output_index(0);
    const Activation act = ctx.options().activation;
    if (a.type == DType::kFloat32) {
      ctx.require(b.type == DType::kFloat32 && o.type == DType::kFloat32,
                  "mixed float and integer operands");
      is_float_ = true;
      fp_.sign_b = subtract ? -1.f : 1.f;
      FloatRange r;
      ctx.require(activation_range(act, &r),
                  std::string("fused activation ") + activation_name(act) + " is not supported");
      fp_.lo = r.lo;
      fp_.hi = r.hi;
      return;
    }
    ctx.require(op != BinaryOp::kDiv && op != BinaryOp::kPrelu,
                std::string("operand types ") + dtype_name(a.file_type) + ", " +
                    dtype_name(b.file_type) + " are not supported (float32 only)");
    ctx.require(a.quantized && b.quantized && o.quantized,
                std::string("operand types ") + dtype_name(a.file_type) + ", " +
                    dtype_name(b.file_type) + " -> " + dtype_name(o.file_type) +
                    " are not supported (8-bit with one scale, or float32)");
    IntRange r;
    ctx.require(activation_range(act, o, &r),
                std::string("fused activation ") + activation_name(act) + " is not supported");
    qp_.zo = o.zero_point;
    qp_.lo = r.lo;
    qp_.hi = r.hi;
    qp_.za = a.zero_point;
    qp_.zb = b.zero_point;
    switch (op) {
      case BinaryOp::kAdd: {
        const double ka = static_cast<double>(a.scale) / o.scale;
        const double kb = (subtract ? -1.0 : 1.0) * static_cast<double>(b.scale) / o.scale;
        ctx.require(fits_float(ka) && fits_float(kb), "input over output scales " +
                                                          number_text(ka) + " and " +
                                                          number_text(kb) + " are beyond a float");
        qp_.ka = static_cast<float>(ka);
        qp_.kb = static_cast<float>(kb);
        break;
      }
      case BinaryOp::kMul: {
        const double m = static_cast<double>(a.scale) * b.scale / o.scale;
        ctx.require(fits_float(m), "the input and output scales multiply to " + number_text(m) +
                                       ", beyond a float");
        qp_.m = static_cast<float>(m);
        break;
      }
      case BinaryOp::kDiv:
      case BinaryOp::kPrelu:
        break;  // refused above
      case BinaryOp::kMax:
      case BinaryOp::kMin:
        ctx.require(same_quantization(a, o) && same_quantization(b, o),
                    "inputs and output must share one scale and zero point");
        break;
    }
  }

  void bind(const Bindings& bindings) override {
    pa_ = bindings.tensor(a_);
    pb_ = bindings.tensor(b_);
    po_ = bindings.tensor(out_);
  }

  void run() override {
    const int64_t inner = bc_.inner();
    const int64_t sa = bc_.a.back(), sb = bc_.b.back();
    const int64_t rows = bc_.outer();
    // Split long rows into pieces so that a few big rows still use every thread.
    const int64_t piece = std::max<int64_t>(4096, inner / 8);
    const int64_t pieces = (inner + piece - 1) / piece;
    parallel_for(rows * pieces, 1, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const int64_t r = k / pieces, start = (k % pieces) * piece;
        const int64_t n = std::min(piece, inner - start);
        int64_t oa, ob, oo;
        bc_.offsets(r, &oa, &ob, &oo);
        oa += start * sa;
        ob += start * sb;
        oo += start;
        if (is_float_) {
          float_row(op_, reinterpret_cast<const float*>(pa_) + oa, sa,
                    reinterpret_cast<const float*>(pb_) + ob, sb,
                    reinterpret_cast<float*>(po_) + oo, n, fp_);
        } else if (op_ == BinaryOp::kAdd) {
          add_u8_row(pa_ + oa, sa, pb_ + ob, sb, po_ + oo, n, qp_);
        } else if (op_ == BinaryOp::kMul) {
          mul_u8_row(pa_ + oa, sa, pb_ + ob, sb, po_ + oo, n, qp_);
        } else {
          minmax_u8_row(pa_ + oa, sa, pb_ + ob, sb, po_ + oo, n, op_ == BinaryOp::kMax);
        }
      }
    });
  }

 private:
  BinaryOp op_;
  bool is_float_ = false;
  Broadcast bc_;
  QuantParams qp_;
  FloatParams fp_;
  int a_ = -1, b_ = -1, out_ = -1;
  const uint8_t* pa_ = nullptr;
  const uint8_t* pb_ = nullptr;
  uint8_t* po_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_add(OpContext& ctx) {
  return std::make_unique<BinaryKernel>(ctx, BinaryOp::kAdd, false);
}
std::unique_ptr<Kernel> make_sub(OpContext& ctx) {
  return std::make_unique<BinaryKernel>(ctx, BinaryOp::kAdd, true);
}
std::unique_ptr<Kernel> make_mul(OpContext& ctx) {
  return std::make_unique<BinaryKernel>(ctx, BinaryOp::kMul, false);
}
std::unique_ptr<Kernel> make_div(OpContext& ctx) {
  return std::make_unique<BinaryKernel>(ctx, BinaryOp::kDiv, false);
}
std::unique_ptr<Kernel> make_prelu(OpContext& ctx) {
  return std::make_unique<BinaryKernel>(ctx, BinaryOp::kPrelu, false);
}
std::unique_ptr<Kernel> make_maximum(OpContext& ctx) {
  return std::make_unique<BinaryKernel>(ctx, BinaryOp::kMax, false);
}
std::unique_ptr<Kernel> make_minimum(OpContext& ctx) {
  return std::make_unique<BinaryKernel>(ctx, BinaryOp::kMin, false);
}

}  // namespace pipecut::runtime
