// CONCATENATION, SPLIT and SPLIT_V: byte copies of slices along one axis. An 8-bit piece whose
// scale or zero point differs from the whole tensor's is requantized through a 256-entry table
// (TensorFlow Lite's round((x - z_in) * s_in / s_out) + z_out).
#include <cstring>
#include <vector>

#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

struct Piece {
  int tensor = -1;
  int64_t inner_bytes = 0;   // bytes per outer index
  int64_t offset_bytes = 0;  // where it starts inside the whole tensor's row
  bool requantize = false;
  Lut lut{};
  uint8_t* data = nullptr;
};

class AxisCopyKernel : public Kernel {
 public:
  // concat: pieces are copied into the whole; split: the whole is copied out into the pieces.
  AxisCopyKernel(bool concat, int whole, int64_t outer, int64_t whole_inner_bytes,
                 std::vector<Piece> pieces)
      : concat_(concat),
        whole_(whole),
        outer_(outer),
        whole_inner_(whole_inner_bytes),
        pieces_(std::move(pieces)) {}

  void bind(const Bindings& b) override {
    whole_data_ = b.tensor(whole_);
    for (Piece& p : pieces_) p.data = b.tensor(p.tensor);
  }

  void run() override {
    const int64_t count = static_cast<int64_t>(pieces_.size());
    parallel_for(outer_ * count, 16, [this, count](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const int64_t o = k / count;
        const Piece& p = pieces_[static_cast<size_t>(k % count)];
        uint8_t* whole = whole_data_ + o * whole_inner_ + p.offset_bytes;
        uint8_t* part = p.data + o * p.inner_bytes;
        const uint8_t* src = concat_ ? part : whole;
        uint8_t* dst = concat_ ? whole : part;
        if (p.requantize) {
          for (int64_t i = 0; i < p.inner_bytes; ++i) dst[i] = p.lut[src[i]];
        } else {
          std::memcpy(dst, src, static_cast<size_t>(p.inner_bytes));
        }
      }
    });
  }

 private:
  bool concat_;
  int whole_;
  int64_t outer_, whole_inner_;
  std::vector<Piece> pieces_;
  uint8_t* whole_data_ = nullptr;
};

int64_t product(const std::vector<int32_t>& shape, int from, int to) {
  int64_t n = 1;
  for (int i = from; i < to; ++i) n *= shape[static_cast<size_t>(i)];
  return n;
}

// Checks that a piece matches the whole except along `axis`, and sets up its requantization.
Piece make_piece(OpContext& ctx, const ValueInfo& piece, const ValueInfo& whole, int axis,
                 bool concat) {
  ctx.require(piece.rank() == whole.rank(),
              "ranks differ: " + shape_text(piece.shape) + " and " + shape_text(whole.shape));
  for (int d = 0; d < whole.rank(); ++d) {
    ctx.require(
        d == axis || piece.shape[static_cast<size_t>(d)] == whole.shape[static_cast<size_t>(d)],
        "shapes " + shape_text(piece.shape) + " and " + shape_text(whole.shape) +
            " differ off the axis");
  }
  ctx.require(piece.type == whole.type && piece.quantized == whole.quantized,
              std::string("types ") + dtype_name(piece.file_type) + " and " +
                  dtype_name(whole.file_type) + " differ");
  ctx.require(element_size(piece.type) > 0,
              std::string("type ") + dtype_name(piece.file_type) + " is not supported");
  Piece p;
  p.tensor = piece.tensor;
  p.inner_bytes = product(piece.shape, axis, piece.rank()) * element_size(piece.type);
  if (piece.quantized && !same_quantization(piece, whole)) {
    p.lut = concat ? make_lut(piece, whole, [](double x) { return x; })
                   : make_lut(whole, piece, [](double x) { return x; });
    p.requantize = !is_identity(p.lut);
  }
  return p;
}

}  // namespace

std::unique_ptr<Kernel> make_concatenation(OpContext& ctx) {
  ctx.require(ctx.num_inputs() >= 1 && ctx.num_outputs() == 1, "expects inputs and one output");
  ctx.require(ctx.options().activation == Activation::kNone, "fused activations are not supported");
  const ValueInfo& out = ctx.out(0);
  const int axis = ctx.normalized_axis(ctx.options().axis, out.rank());
  std::vector<Piece> pieces;
  int64_t offset = 0, along = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const ValueInfo& in = ctx.in(i);
    ctx.read_constant(i);
    Piece p = make_piece(ctx, in, out, axis, true);
    p.offset_bytes = offset;
    offset += p.inner_bytes;
    along += in.shape[static_cast<size_t>(axis)];
    pieces.push_back(std::move(p));
  }
  ctx.require(along == out.shape[static_cast<size_t>(axis)],
              "inputs do not add up to the output along the axis");
  return std::make_unique<AxisCopyKernel>(true, ctx.output_index(0), product(out.shape, 0, axis),
                                          offset, std::move(pieces));
}

namespace {

std::unique_ptr<Kernel> make_split_common(OpContext& ctx, int value_input, int64_t axis_value) {
  const ValueInfo& in = ctx.in(value_input);
  ctx.read_constant(value_input);
  const int axis = ctx.normalized_axis(axis_value, in.rank());
  std::vector<Piece> pieces;
  int64_t offset = 0, along = 0;
  for (int i = 0; i < ctx.num_outputs(); ++i) {
    const ValueInfo& out = ctx.out(i);
    Piece p = make_piece(ctx, out, in, axis, false);
    p.offset_bytes = offset;
    offset += p.inner_bytes;
    along += out.shape[static_cast<size_t>(axis)];
    pieces.push_back(std::move(p));
  }
  ctx.require(along == in.shape[static_cast<size_t>(axis)],
              "outputs do not add up to the input along the axis");
  return std::make_unique<AxisCopyKernel>(false, ctx.input_index(value_input),
                                          product(in.shape, 0, axis), offset, std::move(pieces));
}

}  // namespace

std::unique_ptr<Kernel> make_split(OpContext& ctx) {
  ctx.require(ctx.num_inputs() == 2 && ctx.num_outputs() >= 1, "expects axis and value inputs");
  return make_split_common(ctx, 1, ctx.axis_input(0));
}

std::unique_ptr<Kernel> make_split_v(OpContext& ctx) {
  ctx.require(ctx.num_inputs() == 3 && ctx.num_outputs() >= 1,
              "expects value, size_splits and axis inputs");
  return make_split_common(ctx, 0, ctx.axis_input(2));
}

}  // namespace pipecut::runtime
