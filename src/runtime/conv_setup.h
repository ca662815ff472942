#pragma once
// What CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED share before a kernel is chosen: the
// geometry (TensorFlow Lite's SAME/VALID padding), and the weights, biases and requantization
// scales in one canonical form.
#include <cstdint>
#include <vector>

#include "runtime/kernel.h"
#include "runtime/quant_math.h"

namespace pipecut::runtime {

struct ConvGeometry {
  int n = 1, ih = 1, iw = 1, ic = 1;
  int oh = 1, ow = 1, oc = 1;
  int kh = 1, kw = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int groups = 1;  // ic for a depthwise convolution
  bool depthwise = false;
  int depth_multiplier = 1;
  int ic_per_group() const { return ic / groups; }
  int oc_per_group() const { return oc / groups; }
  bool pointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 &&
           pad_bottom == 0 && pad_right == 0;
  }
};

// Largest extent ((kernel - 1) x dilation + 1) and stride of a window, far beyond any real model.
constexpr int64_t kMaxWindow = int64_t{1} << 24;

// TensorFlow Lite's padding for one dimension: the output size and the padding before and after.
struct PaddedDim {
  int out = 0, before = 0, after = 0;
};
PaddedDim pad_dim(Padding padding, int in, int kernel, int stride, int dilation);

// The sliding window of a convolution or pooling over an NHWC input: with g's kernel, strides,
// dilations and output channels set, takes n, ih, iw, ic from `in`, computes oh, ow and the
// padding, and refuses an output that is not [n, oh, ow, oc] or is empty.
void place_window(OpContext& ctx, ConvGeometry& g, Padding padding, const ValueInfo& in,
                  const ValueInfo& out);

// Weights as signed integers centred on their zero point (w - z_w) or floats, in the file's
// layout: [oc][kh][kw][ic/groups] for CONV_2D and FULLY_CONNECTED ([oc][ic]), [kh][kw][oc] for
// DEPTHWISE_CONV_2D.
struct ConvWeights {
  std::vector<int32_t> centered;  // 8-bit
  std::vector<float> values;      // float
  bool per_tensor_zero = true;    // one weight zero point
  int32_t zero = 0;               // that zero point (file domain)
  bool fits_s8 = true;            // every centred value is in [-128, 127]
  bool raw_uint8 = false;         // file weights are uint8 (w - 128 always fits s8)
};

// 8-bit requantization: out = clamp(round(scale[c] * (acc + bias[c])) + output_zero).
struct ConvQuant {
  int32_t input_zero = 0;   // stored domain
  int32_t output_zero = 0;  // stored domain
  std::vector<float> scale;
  std::vector<int32_t> bias;
  IntRange act;
};

struct ConvSetup {
  ConvGeometry g;
  bool is_float = false;
  ConvWeights w;
  ConvQuant q;                    // 8-bit
  std::vector<float> float_bias;  // float
  FloatRange float_act;           // float
  int input = -1, output = -1;    // tensor indices
};

// CONV_2D (depthwise = false) or DEPTHWISE_CONV_2D.
ConvSetup make_conv_setup(OpContext& ctx, bool depthwise);
// FULLY_CONNECTED as a 1x1 convolution over [batch, 1, 1, input size].
ConvSetup make_fc_setup(OpContext& ctx);

}  // namespace pipecut::runtime
