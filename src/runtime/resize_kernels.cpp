// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR over NHWC, with TensorFlow Lite's coordinate rules
// (align_corners, half_pixel_centers). 8-bit bilinear follows TensorFlow Lite's integer kernel:
// source positions in 1/1024 units, products summed exactly, rounded half away from zero in the
// file's own domain. Coordinates and weights are computed once at load.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/simd.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

struct Tap {
  int64_t i0 = 0, i1 = 0;     // source indices
  int32_t w0 = 1024, w1 = 0;  // 8-bit weights in 1/1024
  float f = 0;                // float: fraction towards i1
};

// TensorFlow Lite's integer source position (ResizeBilinearInteger).
std::vector<Tap> integer_taps(int in, int out, bool align_corners, bool half_pixel) {
  int32_t scale = ((1 << 10) * in + out / 2) / out;
  if (align_corners && out > 1) scale = ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
  std::vector<Tap> taps(static_cast<size_t>(out));
  for (int v = 0; v < out; ++v) {
    const int32_t scaled = half_pixel ? v * scale + scale / 2 - (1 << 9) : v * scale;
    Tap& t = taps[static_cast<size_t>(v)];
    t.i0 = std::max(scaled / (1 << 10), 0);
    t.i1 = std::min((scaled + (1 << 10) - 1) / (1 << 10), in - 1);
    t.w1 = scaled - (1 << 10) * static_cast<int32_t>(t.i0);
    t.w0 = (1 << 10) - t.w1;
  }
  return taps;
}

// TensorFlow Lite's float source position (reference ResizeBilinear).
std::vector<Tap> float_taps(int in, int out, bool align_corners, bool half_pixel) {
  float scale = static_cast<float>(in) / static_cast<float>(out);
  if (align_corners && out > 1) scale = static_cast<float>(in - 1) / static_cast<float>(out - 1);
  std::vector<Tap> taps(static_cast<size_t>(out));
  for (int v = 0; v < out; ++v) {
    const float scaled =
        half_pixel ? (static_cast<float>(v) + 0.5f) * scale - 0.5f : static_cast<float>(v) * scale;
    Tap& t = taps[static_cast<size_t>(v)];
    t.i0 = std::max(static_cast<int64_t>(std::floor(scaled)), int64_t{0});
    t.i1 = std::min(static_cast<int64_t>(std::ceil(scaled)), int64_t{in} - 1);
    t.f = scaled - static_cast<float>(t.i0);
  }
  return taps;
}

struct BilinearArgs {
  int64_t n = 1, ih = 1, iw = 1, c = 1, oh = 1, ow = 1;
  const Tap* ty = nullptr;
  const Tap* tx = nullptr;
  int32_t shift = 0;
  const uint8_t* in = nullptr;
  uint8_t* out = nullptr;
};

PIPECUT_MULTIVERSION
void bilinear_rows_u8(const BilinearArgs& a, int64_t begin, int64_t end) {
  constexpr int32_t kHalf = 1 << 19;
  const int32_t offset = a.shift << 20;
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / a.oh, y = row % a.oh;
    const Tap& ty = a.ty[y];
    const uint8_t* r0 = a.in + (n * a.ih + ty.i0) * a.iw * a.c;
    const uint8_t* r1 = a.in + (n * a.ih + ty.i1) * a.iw * a.c;
    uint8_t* out = a.out + row * a.ow * a.c;
    for (int64_t x = 0; x < a.ow; ++x) {
      const Tap& tx = a.tx[x];
      const uint8_t* p00 = r0 + tx.i0 * a.c;
      const uint8_t* p01 = r0 + tx.i1 * a.c;
      const uint8_t* p10 = r1 + tx.i0 * a.c;
      const uint8_t* p11 = r1 + tx.i1 * a.c;
      const int32_t w00 = ty.w0 * tx.w0, w01 = ty.w0 * tx.w1, w10 = ty.w1 * tx.w0,
                    w11 = ty.w1 * tx.w1;
      uint8_t* o = out + x * a.c;
      for (int64_t c = 0; c < a.c; ++c) {
        const int32_t s = p00[c] * w00 + p01[c] * w01 + p10[c] * w10 + p11[c] * w11 - offset;
        const int32_t v = (s + (s > 0 ? kHalf : -kHalf)) / (1 << 20) + a.shift;
        o[c] = static_cast<uint8_t>(std::min(std::max(v, 0), 255));
      }
    }
  }
}

void bilinear_rows_f32(const BilinearArgs& a, int64_t begin, int64_t end) {
  const float* in = reinterpret_cast<const float*>(a.in);
  float* outp = reinterpret_cast<float*>(a.out);
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / a.oh, y = row % a.oh;
    const Tap& ty = a.ty[y];
    const float* r0 = in + (n * a.ih + ty.i0) * a.iw * a.c;
    const float* r1 = in + (n * a.ih + ty.i1) * a.iw * a.c;
    for (int64_t x = 0; x < a.ow; ++x) {
      const Tap& tx = a.tx[x];
      float* o = outp + (row * a.ow + x) * a.c;
      for (int64_t c = 0; c < a.c; ++c) {
        o[c] = r0[tx.i0 * a.c + c] * (1 - ty.f) * (1 - tx.f) +
               r1[tx.i0 * a.c + c] * ty.f * (1 - tx.f) + r0[tx.i1 * a.c + c] * (1 - ty.f) * tx.f +
               r1[tx.i1 * a.c + c] * ty.f * tx.f;
      }
    }
  }
}

void check_resize(OpContext& ctx, const ValueInfo& in, const ValueInfo& out) {
  ctx.require(in.rank() == 4 && out.rank() == 4, "input and output must be 4-D");
  ctx.require(in.shape[0] == out.shape[0] && in.shape[3] == out.shape[3],
              "batch or channels differ");
  const std::vector<int64_t> size = ctx.constant_ints(1);
  ctx.require(size.size() == 2 && size[0] == out.shape[1] && size[1] == out.shape[2],
              "size input does not match output " + shape_text(out.shape));
  ctx.require(in.type == out.type && same_quantization(in, out) && in.shift == out.shift,
              "input and output must share one type, scale and zero point");
  ctx.require(!(ctx.options().align_corners && ctx.options().half_pixel_centers),
              "align_corners and half_pixel_centers together");
}

class BilinearKernel : public Kernel {
 public:
  explicit BilinearKernel(OpContext& ctx) {
    ctx.require(ctx.num_inputs() >= 2 && ctx.num_outputs() == 1, "expects input and size");
    const ValueInfo& in = ctx.in(0);
    const ValueInfo& out = ctx.out(0);
    if (in.constant) ctx.read_constant(0);
    check_resize(ctx, in, out);
    is_float_ = in.type == DType::kFloat32;
    ctx.require(is_float_ || in.quantized,
                std::string("type ") + dtype_name(in.file_type) + " is not supported");
    const bool ac = ctx.options().align_corners, hp = ctx.options().half_pixel_centers;
    a_.n = in.shape[0];
    a_.ih = in.shape[1];
    a_.iw = in.shape[2];
    a_.c = in.shape[3];
    a_.oh = out.shape[1];
    a_.ow = out.shape[2];
    a_.shift = in.shift;
    const int ih = in.shape[1], iw = in.shape[2], oh = out.shape[1], ow = out.shape[2];
    ty_ = is_float_ ? float_taps(ih, oh, ac, hp) : integer_taps(ih, oh, ac, hp);
    tx_ = is_float_ ? float_taps(iw, ow, ac, hp) : integer_taps(iw, ow, ac, hp);
    a_.ty = ty_.data();
    a_.tx = tx_.data();
    input_ = ctx.input_index(0);
    output_ = ctx.output_index(0);
  }
  void bind(const Bindings& b) override {
    a_.in = b.tensor(input_);
    a_.out = b.tensor(output_);
  }
  void run() override {
    parallel_for(a_.n * a_.oh, 1, [this](int64_t begin, int64_t end) {
      if (is_float_)
        bilinear_rows_f32(a_, begin, end);
      else
        bilinear_rows_u8(a_, begin, end);
    });
  }

 private:
  bool is_float_ = false;
  BilinearArgs a_;
  std::vector<Tap> ty_, tx_;
  int input_ = -1, output_ = -1;
};

// TensorFlow Lite's GetNearestNeighbor.
std::vector<int64_t> nearest(int in, int out, bool align_corners, bool half_pixel) {
  float scale = static_cast<float>(in) / static_cast<float>(out);
  if (align_corners && out > 1) scale = static_cast<float>(in - 1) / static_cast<float>(out - 1);
  const float offset = half_pixel ? 0.5f : 0.f;
  std::vector<int64_t> idx(static_cast<size_t>(out));
  for (int v = 0; v < out; ++v) {
    const float p = (static_cast<float>(v) + offset) * scale;
    int64_t i =
        align_corners ? static_cast<int64_t>(std::round(p)) : static_cast<int64_t>(std::floor(p));
    i = std::min<int64_t>(i, in - 1);
    if (half_pixel) i = std::max<int64_t>(i, 0);
    idx[static_cast<size_t>(v)] = i;
  }
  return idx;
}

class NearestKernel : public Kernel {
 public:
  explicit NearestKernel(OpContext& ctx) {
    ctx.require(ctx.num_inputs() >= 2 && ctx.num_outputs() == 1, "expects input and size");
    const ValueInfo& in = ctx.in(0);
    const ValueInfo& out = ctx.out(0);
    if (in.constant) ctx.read_constant(0);
    check_resize(ctx, in, out);
    ctx.require(element_size(in.type) > 0,
                std::string("type ") + dtype_name(in.file_type) + " is not supported");
    const bool ac = ctx.options().align_corners, hp = ctx.options().half_pixel_centers;
    n_ = in.shape[0];
    ih_ = in.shape[1];
    iw_ = in.shape[2];
    oh_ = out.shape[1];
    ow_ = out.shape[2];
    pixel_ = int64_t{in.shape[3]} * element_size(in.type);
    ys_ = nearest(in.shape[1], out.shape[1], ac, hp);
    xs_ = nearest(in.shape[2], out.shape[2], ac, hp);
    input_ = ctx.input_index(0);
    output_ = ctx.output_index(0);
  }
  void bind(const Bindings& b) override {
    in_ = b.tensor(input_);
    out_ = b.tensor(output_);
  }
  void run() override {
    parallel_for(n_ * oh_, 1, [this](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t n = row / oh_, y = row % oh_;
        const uint8_t* src = in_ + (n * ih_ + ys_[static_cast<size_t>(y)]) * iw_ * pixel_;
        uint8_t* dst = out_ + row * ow_ * pixel_;
        for (int64_t x = 0; x < ow_; ++x) {
          std::memcpy(dst + x * pixel_, src + xs_[static_cast<size_t>(x)] * pixel_,
                      static_cast<size_t>(pixel_));
        }
      }
    });
  }

 private:
  int64_t n_ = 1, ih_ = 1, iw_ = 1, oh_ = 1, ow_ = 1, pixel_ = 1;
  std::vector<int64_t> ys_, xs_;
  int input_ = -1, output_ = -1;
  const uint8_t* in_ = nullptr;
  uint8_t* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_resize_bilinear(OpContext& ctx) {
  return std::make_unique<BilinearKernel>(ctx);
}
std::unique_ptr<Kernel> make_resize_nearest_neighbor(OpContext& ctx) {
  return std::make_unique<NearestKernel>(ctx);
}

}  // namespace pipecut::runtime
