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
  // CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, pooling
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
  // STRIDED_SLICE: bit d of a mask applies to axis d
  int begin_mask = 0, end_mask = 0, ellipsis_mask = 0, new_axis_mask = 0, shrink_axis_mask = 0;
  bool slice_offset = false;  // end is relative to begin
};

OpOptions read_op_options(const Model& model, const Op& op);

const char* activation_name(Activation a);

}  // namespace pipecut::runtime
