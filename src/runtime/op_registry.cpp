#include <algorithm>
#include <map>

#include "runtime/kernels.h"

namespace pipecut::runtime {

namespace {

const std::map<std::string, KernelFactory>& registry() {
  static const std::map<std::string, KernelFactory> factories = {
      {"ADD", &make_add},
      {"ARG_MAX", &make_arg_max},
      {"ARG_MIN", &make_arg_min},
      {"AVERAGE_POOL_2D", &make_average_pool_2d},
      {"CONCATENATION", &make_concatenation},
      {"CONV_2D", &make_conv_2d},
      {"DEPTHWISE_CONV_2D", &make_depthwise_conv_2d},
      {"DEQUANTIZE", &make_dequantize},
      {"DIV", &make_div},
      {"EXPAND_DIMS", &make_reshape},
      {"FULLY_CONNECTED", &make_fully_connected},
      {"HARD_SWISH", &make_unary},
      {"LEAKY_RELU", &make_unary},
      {"LOGISTIC", &make_unary},
      {"MAXIMUM", &make_maximum},
      {"MAX_POOL_2D", &make_max_pool_2d},
      {"MEAN", &make_mean},
      {"MINIMUM", &make_minimum},
      {"MUL", &make_mul},
      {"PAD", &make_pad},
      {"PADV2", &make_pad},
      {"PRELU", &make_prelu},
      {"QUANTIZE", &make_quantize},
      {"REDUCE_MAX", &make_reduce_max},
      {"REDUCE_MIN", &make_reduce_min},
      {"RELU", &make_unary},
      {"RELU6", &make_unary},
      {"RELU_N1_TO_1", &make_unary},
      {"RESHAPE", &make_reshape},
      {"RESIZE_BILINEAR", &make_resize_bilinear},
      {"RESIZE_NEAREST_NEIGHBOR", &make_resize_nearest_neighbor},
      {"SLICE", &make_slice},
      {"SOFTMAX", &make_softmax},
      {"SPLIT", &make_split},
      {"SPLIT_V", &make_split_v},
      {"SQUEEZE", &make_reshape},
      {"STRIDED_SLICE", &make_strided_slice},
      {"SUB", &make_sub},
      {"SUM", &make_sum},
      {"TANH", &make_unary},
      {"TRANSPOSE", &make_transpose},
      {"TRANSPOSE_CONV", &make_transpose_conv},
  };
  return factories;
}

}  // namespace

KernelFactory find_kernel_factory(const std::string& op_type) {
  auto it = registry().find(op_type);
  return it == registry().end() ? nullptr : it->second;
}

std::vector<std::string> supported_op_types() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

}  // namespace pipecut::runtime
