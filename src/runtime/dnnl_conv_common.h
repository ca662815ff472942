#pragma once
// What oneDNN convolution and matmul kernels set up and run the same way: the attributes that
// carry the requantization (scales, zero points, the activation clamp), the weights and bias,
// reordered once at load into the layout the primitive prefers, and the output cut into bands of
// rows, each computed by a primitive of its own on whichever thread of the team claims it (see
// threading.h: oneDNN itself always runs on one OpenMP thread).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/conv_setup.h"
#include "runtime/dnnl_env.h"
#include "runtime/kernel.h"

namespace pipecut::runtime {

// Scratchpad owned by the caller; for 8-bit: output scales (one, or one per output channel),
// input/output zero points and `weight_zero` where non-zero, and the activation as a clamp in
// the output's centred domain; for float: the activation as relu or clip.
dnnl::primitive_attr conv_primitive_attr(const ConvSetup& s, int32_t weight_zero = 0);

// For a widened primitive (see DnnlPrimitiveKernel::widen): scratchpad owned by the caller and
// the input zero point only; the kernel scales, shifts and clamps the int32 sums itself.
dnnl::primitive_attr wide_primitive_attr(const ConvSetup& s);

// Whether oneDNN's 8-bit kernels on this CPU add pairs of u8 x s8 products in int16 with
// saturation (vpmaddubsw: CPUs without VNNI). Two products of weights beyond +-64 can pass 32767
// there, and the result is silently wrong. Weights within +-64 never do. The environment variable
// PIPECUT_RUNTIME_SPLIT_INT8_WEIGHTS makes it true anywhere (the tests use it on VNNI CPUs).
bool int8_products_saturate();

// Splits 8-bit weights into two halves within +-64 (w = floor(w / 2) + ceil(w / 2)) when
// int8_products_saturate() and some weight lies beyond +-64; else returns false. The kernel then
// computes both halves as twice the output channels in int32 and adds them (see widen()).
bool split_weights(const std::vector<int8_t>& weights, std::vector<int8_t>* high,
                   std::vector<int8_t>* low);

// Cuts `rows` rows of `work_per_row` multiply-accumulates each into bands [begin, end) for a team
// of `threads`: one band for one thread or little work, else up to two per thread (a thread that
// finishes first takes another), none under about two million multiply-accumulates (below that,
// oneDNN's call overhead would eat the gain); and none over `max_rows` rows when that is not 0.
std::vector<std::pair<int64_t, int64_t>> row_bands(int64_t rows, int64_t work_per_row, int threads,
                                                   int64_t max_rows = 0);

// Rows of a widened band (see DnnlPrimitiveKernel::widen) with `oc` output channels: its int32
// sums stay within a core's cache.
int64_t wide_band_rows(int64_t oc);

// A kernel that runs oneDNN primitives from the op's source (or a buffer standing in for it) to
// its output, one per band of the output. A subclass builds a primitive descriptor per distinct
// band shape, hands each to adopt(), and places the bands with add_band().
class DnnlPrimitiveKernel : public Kernel {
 public:
  void bind(const Bindings& b) override { bind_source(b, b.tensor(input_)); }
  void run() override { execute(); }
  std::string detail() const override;
  int64_t weight_bytes() const override { return weight_bytes_; }

 protected:
  DnnlPrimitiveKernel(OpContext& ctx, const ConvSetup& s)
      : env_(&ctx.dnnl()),
        input_(s.input),
        output_(s.output),
        output_row_bytes_(int64_t{s.g.oc} * (s.is_float ? 4 : 1)) {}

  // Keeps a primitive made from `pd` (reading src_md, writing dst_md) and returns its id. The
  // weights (`weights` described by `user_wmd`) are reordered into the primitive's layout once
  // per distinct layout; the bias (s's, described by `bias_md`) is copied once per kernel.
  template <typename PrimitiveDesc>
  int adopt(const ConvSetup& s, const PrimitiveDesc& pd, dnnl::primitive primitive,
            const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md,
            const dnnl::memory::desc& user_wmd, const void* weights,
            const dnnl::memory::desc& bias_md) {
    if (impl_.empty()) impl_ = pd.impl_info_str();
    return keep_primitive(s, std::move(primitive), src_md, dst_md, pd.weights_desc(),
                          pd.scratchpad_desc(), user_wmd, weights, bias_md);
  }

  // One band: primitive `primitive` reads from the source `src_offset` bytes on and writes
  // output rows (pixels) [first_row, first_row + rows).
  void add_band(int primitive, int64_t src_offset, int64_t first_row, int64_t rows);
  // After the last add_band: a scratchpad, a stream and (widened) a buffer of sums for each
  // thread of the executable, as bands run at the same time.
  void finish_bands(OpContext& ctx);

  // Split weights (see split_weights): the primitives write int32 sums of the high halves for
  // output channels [0, oc) and of the low halves for [oc, 2 oc), per group of oc_per_group
  // channels, into a buffer of the plan; after each band the kernel adds the halves, subtracts
  // weight_zero x (sum over the row's `depth` source values of (x - input zero)) when weight_zero
  // is not 0 (source rows `row_stride` bytes apart, one per output row), adds the bias and
  // requantizes as the fused primitive would. Bands then hold at most wide_band_rows() rows.
  void widen(const ConvSetup& s, int32_t weight_zero, int64_t depth, int64_t row_stride);
  bool widened() const { return wide_.on; }

  // Binds every band to `source` (the op's input, or a buffer derived from it) and the output.
  void bind_source(const Bindings& b, uint8_t* source);
  // Runs every band, on the team.
  void execute();

  DnnlEnv* env_;
  int input_, output_;

 private:
  struct Primitive {
    dnnl::primitive primitive;
    dnnl::memory::desc src_md, dst_md, scratchpad_md;
    int weights = -1;  // index in weights_
  };
  struct Band {
    int primitive = -1;
    int64_t src_offset = 0, first_row = 0, rows = 0;
    std::vector<std::unordered_map<int, dnnl::memory>> args;  // by slot, bound
    const uint8_t* source = nullptr;                          // bound: the band's first source row
  };
  struct Slot {  // what one thread of the team uses while it runs a band
    int scratchpad = -1;
    int sums = -1;  // widened: scratch id of the band's int32 sums, [rows][2 oc]
    dnnl::stream stream;
    int32_t* sums_at = nullptr;  // bound
  };
  struct Wide {
    bool on = false;
    int64_t oc = 0, oc_per_group = 0, depth = 0, row_stride = 0;
    int32_t weight_zero = 0, input_zero = 0, output_zero = 0, lo = 0, hi = 255;
    std::vector<float> scale;
    std::vector<int32_t> bias;
    uint8_t* output = nullptr;  // bound
  };

  int keep_primitive(const ConvSetup& s, dnnl::primitive primitive,
                     const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md,
                     const dnnl::memory::desc& weights_md, const dnnl::memory::desc& scratchpad_md,
                     const dnnl::memory::desc& user_wmd, const void* weights,
                     const dnnl::memory::desc& bias_md);
  void run_band(Band& band, int slot);
  void requantize_band(const Band& band, const int32_t* sums) const;

  std::vector<Primitive> primitives_;
  std::vector<dnnl::memory> weights_;
  dnnl::memory bias_;
  std::vector<Band> bands_;
  std::vector<Slot> slots_;
  Wide wide_;
  int64_t output_row_bytes_ = 0;  // of the op's output: channels x element size
  std::string impl_;
  int64_t weight_bytes_ = 0;
};

}  // namespace pipecut::runtime
