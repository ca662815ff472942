#include <algorithm>
#include <array>

#include "format/tflite_schema.h"
#include "pipecut/edgetpu.h"

namespace pipecut {

bool edgetpu_supports_op(int32_t code) {
  using namespace tflite;
  static constexpr std::array kSupported = {
      BuiltinOperator_ADD,
      BuiltinOperator_AVERAGE_POOL_2D,
      BuiltinOperator_CONCATENATION,
      BuiltinOperator_CONV_2D,
      BuiltinOperator_DEPTHWISE_CONV_2D,
      BuiltinOperator_EXPAND_DIMS,
      BuiltinOperator_FULLY_CONNECTED,
      BuiltinOperator_L2_NORMALIZATION,
      BuiltinOperator_LOGISTIC,
      BuiltinOperator_LSTM,
      BuiltinOperator_MAXIMUM,
      BuiltinOperator_MAX_POOL_2D,
      BuiltinOperator_MEAN,
      BuiltinOperator_MINIMUM,
      BuiltinOperator_MUL,
      BuiltinOperator_PACK,
      BuiltinOperator_PAD,
      BuiltinOperator_PRELU,
      BuiltinOperator_QUANTIZE,
      BuiltinOperator_REDUCE_MAX,
      BuiltinOperator_REDUCE_MIN,
      BuiltinOperator_RELU,
      BuiltinOperator_RELU6,
      BuiltinOperator_RELU_N1_TO_1,
      BuiltinOperator_RESHAPE,
      BuiltinOperator_RESIZE_BILINEAR,
      BuiltinOperator_RESIZE_NEAREST_NEIGHBOR,
      BuiltinOperator_RSQRT,
      BuiltinOperator_SLICE,
      BuiltinOperator_SOFTMAX,
      BuiltinOperator_SPACE_TO_DEPTH,
      BuiltinOperator_SPLIT,
      BuiltinOperator_SQUEEZE,
      BuiltinOperator_STRIDED_SLICE,
      BuiltinOperator_SUB,
      BuiltinOperator_SUM,
      BuiltinOperator_SQUARED_DIFFERENCE,
      BuiltinOperator_TANH,
      BuiltinOperator_TRANSPOSE,
      BuiltinOperator_TRANSPOSE_CONV,
      BuiltinOperator_HARD_SWISH,
  };
  return std::find(kSupported.begin(), kSupported.end(), static_cast<BuiltinOperator>(code)) !=
         kSupported.end();
}

}  // namespace pipecut
