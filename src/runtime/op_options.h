#pragma once
// The builtin options of one op, read from the flatbuffer into plain fields, so that only
// op_options.cpp compiles the large generated schema header.
#include <cstdint>
#include <vector>

#include "pipecut/model.h"

namespace pipecut::runtime {

enum class Activation { kNone, kRelu, kReluN1To1, kRelu6, kTanh, kSignBit };
enum class Padding { kSame, kValid };

struct OpOptions {
  // CONV_2D, DEPTHWISE_CONV_2D, pooling
  Padding padding = Padding::kSame;
  int stride_w = 1, stride_h = 1;
  int dilation_w = 1, dilation_h = 1;
  int filter_w = 1, filter_h = 1;  // pooling
  int depth_multiplier = 1;
  Activation activation = Activation::kNone;
  // FULLY_CONNECTED
  int weights_format = 0;  // 0 = DEFAULT
  bool keep_num_dims = false;
  bool asymmetric_quantize_inputs = false;
  // CONCATENATION, PACK, UNPACK, GATHER
  int axis = 0;
  int count = 0;  // num_splits, values_count, num
  // MEAN, SUM, REDUCE_*
  bool keep_dims = false;
  // SOFTMAX, LEAKY_RELU
  float beta = 1.f;
  float alpha = 0.f;
  // RESIZE_*
  bool align_corners = false;
  bool half_pixel_centers = false;
  // RESHAPE, SQUEEZE
  std::vector<int32_t> new_shape;
  bool has_new_shape = false;
  std::vector<int32_t> squeeze_dims;
  // ARG_MAX, ARG_MIN
  DType output_type = DType::kInt64;
  // ADD, SUB
  bool pot_scale_int16 = true;
  // MIRROR_PAD: 0 = REFLECT, 1 = SYMMETRIC
  int mirror_mode = 0;
};

OpOptions read_op_options(const Model& model, const Op& op);

const char* activation_name(Activation a);

}  // namespace pipecut::runtime
