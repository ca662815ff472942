#pragma once
// Reading an .onnx file into a checked ModelProto: external data resolved, opset converted to 13
// when older, dynamic dimensions fixed. Internal to the onnx layer.
#include <onnx/onnx_pb.h>

#include <filesystem>

#include "pipecut/onnx_import.h"

namespace pipecut::onnx_import {

struct LoadedOnnx {
  onnx::ModelProto model;
  int declared_opset = 0;  // before conversion
  int opset = 0;           // what the graph now follows
};

LoadedOnnx load_onnx(const std::filesystem::path& path, const OnnxImportOptions& options);

}  // namespace pipecut::onnx_import
