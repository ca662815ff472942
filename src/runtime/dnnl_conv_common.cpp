#include "runtime/dnnl_conv_common.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/simd.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

// Below this much work a band would cost about as much in oneDNN's call overhead as it saves.
constexpr int64_t kMinBandWork = int64_t{1} << 21;
// A widened band's int32 sums: small enough to stay in a core's L2 cache until requantized.
constexpr int64_t kWideBandBytes = int64_t{256} << 10;

// out[c] = requantize((high[c] + low[c] - shift + bias[c]) x scale[c]), in one vectorizable loop.
PIPECUT_MULTIVERSION
void requantize_halves(uint8_t* __restrict out, const int32_t* __restrict high,
                       const int32_t* __restrict low, const int32_t* __restrict bias,
                       const float* __restrict scale, int64_t n, int32_t shift, int32_t zero,
                       int32_t lo, int32_t hi) {
  for (int64_t c = 0; c < n; ++c) {
    const int32_t acc = high[c] + low[c] - shift + bias[c];
    out[c] = static_cast<uint8_t>(requantize(static_cast<float>(acc) * scale[c], zero, lo, hi));
  }
}

}  // namespace

dnnl::primitive_attr conv_primitive_attr(const ConvSetup& s, int32_t weight_zero) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops po;
  if (s.is_float) {
    if (s.float_act.lo > -INFINITY || s.float_act.hi < INFINITY) {
      if (s.float_act.hi == INFINITY) {  // RELU: the only clamp without an upper end
        po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      } else {
        po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, s.float_act.lo, s.float_act.hi);
      }
    }
  } else {
    const bool common =
        std::all_of(s.q.scale.begin(), s.q.scale.end(), [&](float v) { return v == s.q.scale[0]; });
    attr.set_output_scales(common ? 0 : 2, common ? std::vector<float>{s.q.scale[0]} : s.q.scale);
    if (s.q.input_zero != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {s.q.input_zero});
    if (weight_zero != 0) attr.set_zero_points(DNNL_ARG_WEIGHTS, 0, {weight_zero});
    if (s.q.output_zero != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {s.q.output_zero});
    if (s.q.act.lo > ValueInfo::kMin || s.q.act.hi < ValueInfo::kMax) {
      po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip,
                        static_cast<float>(s.q.act.lo - s.q.output_zero),
                        static_cast<float>(s.q.act.hi - s.q.output_zero));
    }
  }
  attr.set_post_ops(po);
  return attr;
}

dnnl::primitive_attr wide_primitive_attr(const ConvSetup& s) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (s.q.input_zero != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {s.q.input_zero});
  return attr;
}

bool int8_products_saturate() {
  static const bool saturate = [] {
    using isa = dnnl::cpu_isa;
    // For tests on CPUs with VNNI: take the splitting path there too.
    if (std::getenv("PIPECUT_RUNTIME_SPLIT_INT8_WEIGHTS") != nullptr) return true;
    const isa effective = dnnl::get_effective_cpu_isa();
    return !(effective == isa::avx512_core_vnni || effective == isa::avx512_core_bf16 ||
             effective == isa::avx512_core_amx || effective == isa::avx2_vnni);
  }();
  return saturate;
}

bool split_weights(const std::vector<int8_t>& weights, std::vector<int8_t>* high,
                   std::vector<int8_t>* low) {
  if (!int8_products_saturate()) return false;
  // 255 x 64 x 2 = 32640: two products of weights within +-64 fit int16.
  if (std::all_of(weights.begin(), weights.end(), [](int8_t w) { return w >= -64 && w <= 64; })) {
    return false;
  }
  high->resize(weights.size());
  low->resize(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    const int w = weights[i];
    (*high)[i] = static_cast<int8_t>(w >> 1);  // floor(w / 2): C++20 shifts arithmetically
    (*low)[i] = static_cast<int8_t>(w - (*high)[i]);
  }
  return true;
}

std::vector<std::pair<int64_t, int64_t>> row_bands(int64_t rows, int64_t work_per_row, int threads,
                                                   int64_t max_rows) {
  int64_t count = 1;
  if (threads > 1 && rows > 1) {
    const int64_t work = rows * std::max<int64_t>(1, work_per_row);
    count = std::clamp<int64_t>(work / kMinBandWork, 1, std::min<int64_t>(rows, 2 * threads));
  }
  if (max_rows > 0) count = std::max(count, (rows + max_rows - 1) / max_rows);
  std::vector<std::pair<int64_t, int64_t>> bands;
  for (int64_t i = 0; i < count; ++i) bands.emplace_back(rows * i / count, rows * (i + 1) / count);
  return bands;
}

int64_t wide_band_rows(int64_t oc) {
  return std::max<int64_t>(1, kWideBandBytes / (2 * oc * 4));
}

std::string DnnlPrimitiveKernel::detail() const {
  std::string text = impl_;
  if (bands_.size() > 1) text += " in " + std::to_string(bands_.size()) + " bands";
  if (wide_.on) text += ", weights in halves";
  return text;
}

int DnnlPrimitiveKernel::keep_primitive(const ConvSetup& s, dnnl::primitive primitive,
                                        const dnnl::memory::desc& src_md,
                                        const dnnl::memory::desc& dst_md,
                                        const dnnl::memory::desc& weights_md,
                                        const dnnl::memory::desc& scratchpad_md,
                                        const dnnl::memory::desc& user_wmd, const void* weights,
                                        const dnnl::memory::desc& bias_md) {
  Primitive p{std::move(primitive), src_md, dst_md, scratchpad_md, -1};
  for (size_t w = 0; w < weights_.size(); ++w) {
    if (weights_[w].get_desc() == weights_md) p.weights = static_cast<int>(w);
  }
  if (p.weights < 0) {  // a layout not held yet: reorder the file's weights into it
    dnnl::memory user(user_wmd, env_->engine, const_cast<void*>(weights));
    dnnl::memory reordered(weights_md, env_->engine);
    dnnl::reorder(user, reordered).execute(env_->stream, user, reordered);
    env_->stream.wait();
    weight_bytes_ += static_cast<int64_t>(weights_md.get_size());
    p.weights = static_cast<int>(weights_.size());
    weights_.push_back(std::move(reordered));
  }
  if (!bias_ && bias_md.get_size() > 0) {  // a widened kernel adds the bias itself
    bias_ = dnnl::memory(bias_md, env_->engine);
    const void* bias = s.is_float ? static_cast<const void*>(s.float_bias.data()) : s.q.bias.data();
    std::memcpy(bias_.get_data_handle(), bias, static_cast<size_t>(s.g.oc) * 4);
    weight_bytes_ += int64_t{s.g.oc} * 4;
  }
  primitives_.push_back(std::move(p));
  return static_cast<int>(primitives_.size()) - 1;
}

void DnnlPrimitiveKernel::widen(const ConvSetup& s, int32_t weight_zero, int64_t depth,
                                int64_t row_stride) {
  wide_.on = true;
  wide_.oc = s.g.oc;
  wide_.oc_per_group = s.g.oc_per_group();
  wide_.weight_zero = weight_zero;
  wide_.input_zero = s.q.input_zero;
  wide_.output_zero = s.q.output_zero;
  wide_.lo = s.q.act.lo;
  wide_.hi = s.q.act.hi;
  wide_.depth = depth;
  wide_.row_stride = row_stride;
  wide_.scale = s.q.scale;
  if (wide_.scale.size() == 1) wide_.scale.assign(static_cast<size_t>(s.g.oc), s.q.scale[0]);
  wide_.bias = s.q.bias;
}

void DnnlPrimitiveKernel::add_band(int primitive, int64_t src_offset, int64_t first_row,
                                   int64_t rows) {
  Band band;
  band.primitive = primitive;
  band.src_offset = src_offset;
  band.first_row = first_row;
  band.rows = rows;
  bands_.push_back(std::move(band));
}

void DnnlPrimitiveKernel::finish_bands(OpContext& ctx) {
  int64_t scratchpad = 0, rows = 0;
  for (const Primitive& p : primitives_) {
    scratchpad = std::max(scratchpad, static_cast<int64_t>(p.scratchpad_md.get_size()));
  }
  for (const Band& band : bands_) rows = std::max(rows, band.rows);
  const int slots = bands_.size() > 1 ? std::max(1, ctx.threads()) : 1;
  for (int i = 0; i < slots; ++i) {
    Slot slot;
    slot.scratchpad = ctx.scratch(scratchpad);
    if (wide_.on) slot.sums = ctx.scratch(rows * 2 * wide_.oc * 4);
    slot.stream = dnnl::stream(env_->engine);
    slots_.push_back(std::move(slot));
  }
}

void DnnlPrimitiveKernel::bind_source(const Bindings& b, uint8_t* source) {
  uint8_t* output = b.tensor(output_);
  wide_.output = output;
  for (Slot& slot : slots_) {
    if (wide_.on) {
      slot.sums_at = reinterpret_cast<int32_t*>(b.scratch.at(static_cast<size_t>(slot.sums)));
    }
  }
  for (Band& band : bands_) {
    const Primitive& p = primitives_[static_cast<size_t>(band.primitive)];
    band.source = source + band.src_offset;
    band.args.clear();
    for (const Slot& slot : slots_) {
      void* dst = wide_.on ? static_cast<void*>(slot.sums_at)
                           : static_cast<void*>(output + band.first_row * output_row_bytes_);
      std::unordered_map<int, dnnl::memory> args = {
          {DNNL_ARG_SRC, dnnl::memory(p.src_md, env_->engine, source + band.src_offset)},
          {DNNL_ARG_WEIGHTS, weights_[static_cast<size_t>(p.weights)]},
          {DNNL_ARG_DST, dnnl::memory(p.dst_md, env_->engine, dst)},
          {DNNL_ARG_SCRATCHPAD, dnnl::memory(p.scratchpad_md, env_->engine,
                                             b.scratch.at(static_cast<size_t>(slot.scratchpad)))}};
      if (bias_) args.emplace(DNNL_ARG_BIAS, bias_);
      band.args.push_back(std::move(args));
    }
  }
}

void DnnlPrimitiveKernel::requantize_band(const Band& band, const int32_t* band_sums) const {
  const Wide& w = wide_;
  const int64_t group = w.oc_per_group;
  for (int64_t r = 0; r < band.rows; ++r) {
    const int32_t* sums = band_sums + r * 2 * w.oc;
    uint8_t* out = w.output + (band.first_row + r) * w.oc;
    int32_t shift = 0;  // the weight zero point's share: weight_zero x sum of (x - input zero)
    if (w.weight_zero != 0) {
      const uint8_t* x = band.source + r * w.row_stride;
      int32_t total = 0;
      for (int64_t k = 0; k < w.depth; ++k) total += x[k];
      shift = w.weight_zero * (total - w.input_zero * static_cast<int32_t>(w.depth));
    }
    for (int64_t c = 0; c < w.oc; c += group) {  // per group: its high halves, then its low halves
      requantize_halves(out + c, sums + 2 * c, sums + 2 * c + group, w.bias.data() + c,
                        w.scale.data() + c, group, shift, w.output_zero, w.lo, w.hi);
    }
  }
}

void DnnlPrimitiveKernel::run_band(Band& band, int slot) {
  Slot& s = slots_[static_cast<size_t>(slot)];
  primitives_[static_cast<size_t>(band.primitive)].primitive.execute(
      s.stream, band.args[static_cast<size_t>(slot)]);
  s.stream.wait();
  if (wide_.on) requantize_band(band, s.sums_at);
}

void DnnlPrimitiveKernel::execute() {
  if (slots_.size() == 1) {  // one thread: the bands in turn
    for (Band& band : bands_) run_band(band, 0);
    return;
  }
  auto one = [this](int64_t i, int slot) { run_band(bands_[static_cast<size_t>(i)], slot); };
  parallel_chunks(static_cast<int>(bands_.size()), ChunkFn(one));
}

}  // namespace pipecut::runtime
