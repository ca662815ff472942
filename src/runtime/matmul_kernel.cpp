#include <algorithm>
#include <cstring>
#include <map>

#include "runtime/conv_kernels.h"
#include "runtime/dnnl_conv_common.h"
#include "runtime/dnnl_env.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

class MatmulKernel : public DnnlPrimitiveKernel {
 public:
  MatmulKernel(OpContext& ctx, const ConvSetup& s) : DnnlPrimitiveKernel(ctx, s), g_(s.g) {
    const ConvGeometry& g = s.g;
    rows_ = int64_t{g.n} * g.oh * g.ow;
    depth_ = int64_t{g.kh} * g.kw * g.ic;
    im2col_ = !g.pointwise();
    // im2col rows are padded to a multiple of 4 bytes (VNNI's depth step) with real zeros.
    row_ = im2col_ ? (depth_ + 3) / 4 * 4 : depth_;
    input_zero_ = static_cast<uint8_t>(s.q.input_zero);
    const dt act = s.is_float ? dt::f32 : dt::u8;
    std::vector<int8_t> s8;
    const void* wdata = nullptr;
    int32_t weight_zero = 0;
    if (s.is_float) {
      wdata = s.w.values.data();
    } else {
      if (s.w.fits_s8) {
        s8.assign(s.w.centered.begin(), s.w.centered.end());
      } else {  // uint8 weights with one zero point: w - 128 fits, the zero point moves by 128
        s8.resize(s.w.centered.size());
        for (size_t i = 0; i < s8.size(); ++i)  // the file's byte, w = centred + zero point
          s8[i] = static_cast<int8_t>(s.w.centered[i] + s.w.zero - 128);
        weight_zero = s.w.zero - 128;
      }
      if (row_ != depth_) {  // pad every output channel's row
        std::vector<int8_t> padded(static_cast<size_t>(row_ * g.oc),
                                   static_cast<int8_t>(weight_zero));
        for (int64_t o = 0; o < g.oc; ++o) {
          std::copy_n(s8.begin() + o * depth_, depth_, padded.begin() + o * row_);
        }
        s8 = std::move(padded);
      }
      wdata = s8.data();
    }
    // Where products may saturate (see split_weights): the high halves of every output channel,
    // then the low halves, as twice the columns in int32; the kernel adds them and requantizes.
    std::vector<int8_t> high, low;
    const bool wide = !s.is_float && split_weights(s8, &high, &low);
    const int64_t oc = wide ? 2 * g.oc : g.oc;  // columns of the primitive
    if (wide) {
      s8 = std::move(high);
      s8.insert(s8.end(), low.begin(), low.end());
      wdata = s8.data();
      widen(s, weight_zero, row_, row_);
    }
    const dt wtype = s.is_float ? dt::f32 : dt::s8;
    // File weights are [oc][kh][kw][ic] = [N][K]: the [K, N] matrix with strides {1, K}.
    const memory::desc user_wmd({row_, oc}, wtype, memory::dims{1, row_});
    const memory::desc any_wmd({row_, oc}, wtype, tag::any);
    const memory::desc bias_md =
        wide ? memory::desc() : memory::desc({1, oc}, s.is_float ? dt::f32 : dt::s32, tag::ab);
    const dt dst_type = wide ? dt::s32 : act;
    const dnnl::primitive_attr attr =
        wide ? wide_primitive_attr(s) : conv_primitive_attr(s, weight_zero);

    // Bands of rows (output pixels): each a matmul of its own; equal bands share one primitive.
    const int64_t elem = s.is_float ? 4 : 1;
    std::map<int64_t, int> shapes;  // rows of a band -> primitive
    const int64_t max_rows = wide ? wide_band_rows(g.oc) : 0;
    for (const auto& [r0, r1] : row_bands(rows_, row_ * g.oc, ctx.threads(), max_rows)) {
      auto it = shapes.find(r1 - r0);
      if (it == shapes.end()) {
        const memory::desc src_md({r1 - r0, row_}, act, tag::ab);
        const memory::desc dst_md({r1 - r0, oc}, dst_type, tag::ab);
        const dnnl::matmul::desc desc(src_md, any_wmd, bias_md, dst_md);
        const dnnl::matmul::primitive_desc pd(desc, attr, env_->engine);
        const int id = adopt(s, pd, dnnl::matmul(pd), src_md, dst_md, user_wmd, wdata, bias_md);
        it = shapes.emplace(r1 - r0, id).first;
      }
      add_band(it->second, r0 * row_ * elem, r0, r1 - r0);
    }
    finish_bands(ctx);
    if (im2col_) {
      ctx.require(!s.is_float, "float convolutions go through oneDNN convolution");
      columns_ = ctx.scratch(rows_ * row_);
    }
  }

  void bind(const Bindings& b) override {
    in_ = b.tensor(input_);
    if (im2col_) col_ = b.scratch.at(static_cast<size_t>(columns_));
    bind_source(b, im2col_ ? col_ : in_);
  }

  void run() override {
    if (im2col_) fill_columns();
    execute();
  }

  std::string detail() const override {
    return std::string(im2col_ ? "im2col + " : "") + "dnnl matmul " + DnnlPrimitiveKernel::detail();
  }

 private:
  // Small copies without a library call: two overlapping 8-byte moves cover 8..16 bytes.
  static void copy_bytes(uint8_t* dst, const uint8_t* src, int64_t n) {
    if (n >= 8 && n <= 16) {
      uint64_t a, b;
      std::memcpy(&a, src, 8);
      std::memcpy(&b, src + n - 8, 8);
      std::memcpy(dst, &a, 8);
      std::memcpy(dst + n - 8, &b, 8);
    } else if (n < 8) {
      for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
    } else {
      std::memcpy(dst, src, static_cast<size_t>(n));
    }
  }

  // One row per output pixel: the kh x kw x ic window, padded with the input zero point (a real 0).
  void fill_columns() {
    const ConvGeometry& g = g_;
    const int64_t window_w = int64_t{g.kw} * g.ic;  // bytes of one window row when contiguous
    parallel_for(rows_, 64, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t ow = r % g.ow, oh = (r / g.ow) % g.oh, n = r / (int64_t{g.ow} * g.oh);
        const int64_t iw0 = ow * g.stride_w - g.pad_left;
        const bool columns_inside = g.dilation_w == 1 && iw0 >= 0 && iw0 + g.kw <= g.iw;
        uint8_t* dst = col_ + r * row_;
        for (int kh = 0; kh < g.kh; ++kh) {
          const int64_t ih = oh * g.stride_h - g.pad_top + int64_t{kh} * g.dilation_h;
          if (ih < 0 || ih >= g.ih) {
            std::memset(dst, input_zero_, static_cast<size_t>(window_w));
            dst += window_w;
            continue;
          }
          const uint8_t* src_row = in_ + (n * g.ih + ih) * g.iw * g.ic;
          if (columns_inside) {
            copy_bytes(dst, src_row + iw0 * g.ic, window_w);
            dst += window_w;
            continue;
          }
          for (int kw = 0; kw < g.kw; ++kw) {
            const int64_t iw = iw0 + int64_t{kw} * g.dilation_w;
            if (iw < 0 || iw >= g.iw) {
              std::memset(dst, input_zero_, static_cast<size_t>(g.ic));
            } else {
              copy_bytes(dst, src_row + iw * g.ic, g.ic);
            }
            dst += g.ic;
          }
        }
        for (int64_t k = depth_; k < row_; ++k) *dst++ = input_zero_;
      }
    });
  }

  ConvGeometry g_;
  int64_t rows_ = 0, depth_ = 0, row_ = 0;
  bool im2col_ = false;
  uint8_t input_zero_ = 0;
  int columns_ = -1;
  uint8_t* in_ = nullptr;
  uint8_t* col_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_matmul_conv(OpContext& ctx, const ConvSetup& s) {
  return std::make_unique<MatmulKernel>(ctx, s);
}

}  // namespace pipecut::runtime
