#pragma once
// The builtin options of one op, read from the flatbuffer into plain fields, so that only
// op_options.cpp compiles the large generated schema header.
#include <cstdint>
#include <vector>

#include "pipecut/model.h"

namespace pipecut::runtime {

enum class Activation { kNone, kRelu, kReluN1To1, kRelu6, kTanh, kSignBit };
enum class Padding { kSame, kValid };

// Only what the kernels read; the options of ops the runtime refuses are not parsed.
struct OpOptions {
  // CONV_2D, DEPTHWISE_CONV_2D, pooling
  Padding padding = Padding::kSame;
  int stride_w = 1, stride_h = 1;
  int dilation_w = 1, dilation_h = 1;
  int filter_w = 1, filter_h = 1;  // pooling
  Activation activation = Activation::kNone;
  // FULLY_CONNECTED
  int weights_format = 0;  // 0 = DEFAULT
  // CONCATENATION
  int axis = 0;
  // SOFTMAX, LEAKY_RELU
  float beta = 1.f;
  float alpha = 0.f;
  // RESIZE_*
  bool align_corners = false;
  bool half_pixel_centers = false;
};

OpOptions read_op_options(const Model& model, const Op& op);

const char* activation_name(Activation a);

}  // namespace pipecut::runtime
