#include <cctype>

#include "onnx/importer.h"
#include "onnx/onnx_loader.h"
#include "pipecut/onnx_import.h"

namespace pipecut {

OnnxImportResult import_onnx(const std::filesystem::path& path, const OnnxImportOptions& options) {
  const onnx_import::LoadedOnnx loaded = onnx_import::load_onnx(path, options);
  onnx_import::Importer importer(path, loaded.model, loaded.opset, options);
  OnnxImportResult result = importer.run();
  result.opset = loaded.declared_opset;
  return result;
}

Model load_model_file(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext != ".onnx") return Model::load(path);
  return Model::from_bytes(import_onnx(path, {}).tflite, path.string());
}

}  // namespace pipecut
