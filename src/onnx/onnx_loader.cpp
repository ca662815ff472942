#include "onnx/onnx_loader.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include <charconv>
#include <exception>
#include <fstream>
#include <set>

#include "pipecut/error.h"
#include "pipecut/files.h"

namespace pipecut::onnx_import {

namespace fs = std::filesystem;

namespace {

constexpr int kMinOpset = 7;      // the version converter's adapters start about here
constexpr int kTargetOpset = 13;  // what the converters below are written against
constexpr int kMaxOpset = 17;

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

int default_domain_opset(const onnx::ModelProto& model) {
  for (const auto& o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") return static_cast<int>(o.version());
  }
  return 0;
}

// Weights stored beside the model ("external data"): read into the proto, so the rest of the
// import sees one self-contained model. A missing or short file is named.
void load_external_data(onnx::ModelProto& model, const fs::path& path) {
  for (auto& init : *model.mutable_graph()->mutable_initializer()) {
    if (init.data_location() != onnx::TensorProto::EXTERNAL) continue;
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& kv : init.external_data()) {
      if (kv.key() == "location") location = kv.value();
      if (kv.key() == "offset" || kv.key() == "length") {
        int64_t v = -1;
        const auto& text = kv.value();
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
          fail(path, "initializer '" + init.name() + "' has an unusable external data " + kv.key() +
                         " '" + text + "'");
        }
        (kv.key() == "offset" ? offset : length) = v;
      }
    }
    if (location.empty() || fs::path(location).is_absolute() ||
        location.find("..") != std::string::npos) {
      fail(path, "initializer '" + init.name() + "' has an unusable external data location '" +
                     location + "'");
    }
    const fs::path data_path = path.parent_path() / location;
    std::error_code ec;
    if (!fs::is_regular_file(data_path, ec)) {
      fail(path, "external data file '" + data_path.string() + "' (for initializer '" +
                     init.name() + "') is missing");
    }
    const auto size = static_cast<int64_t>(fs::file_size(data_path, ec));
    if (length < 0) length = size - offset;
    if (size < 0 || offset > size || length > size - offset) {  // no offset + length: overflow
      fail(path, "external data file '" + data_path.string() + "' is too short for initializer '" +
                     init.name() + "'");
    }
    std::ifstream in(data_path, std::ios::binary);
    std::string bytes(static_cast<size_t>(length), '\0');
    in.seekg(offset);
    if (!in.read(bytes.data(), length)) {
      fail(path, "cannot read external data file '" + data_path.string() + "'");
    }
    init.set_raw_data(std::move(bytes));
    init.clear_external_data();
    init.set_data_location(onnx::TensorProto::DEFAULT);
  }
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out;
}

// Dynamic dimensions become fixed: the first (batch) one to options.batch, others from
// options.input_shapes, or the import stops naming the one that is missing.
void fix_input_shapes(onnx::ModelProto& model, const fs::path& path,
                      const OnnxImportOptions& options) {
  std::set<std::string> initializers;
  for (const auto& init : model.graph().initializer()) initializers.insert(init.name());
  std::set<std::string> inputs;
  for (const auto& input : model.graph().input()) inputs.insert(input.name());
  for (const auto& [name, shape] : options.input_shapes) {
    if (!inputs.count(name) || initializers.count(name))
      fail(path, "--input-shape names '" + name + "', not an input of it");
  }
  for (auto& input : *model.mutable_graph()->mutable_input()) {
    if (initializers.count(input.name())) continue;  // IR < 4 lists weights as inputs
    if (!input.type().has_tensor_type() || !input.type().tensor_type().has_shape()) {
      fail(path, "input '" + input.name() + "' has no tensor shape");
    }
    auto* dims = input.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim();
    const auto wanted = options.input_shapes.find(input.name());
    if (wanted != options.input_shapes.end()) {
      if (static_cast<int>(wanted->second.size()) != dims->size()) {
        fail(path, "--input-shape " + input.name() + ":" + shape_text(wanted->second) + " has " +
                       std::to_string(wanted->second.size()) + " dimensions; the input has " +
                       std::to_string(dims->size()));
      }
    }
    for (int d = 0; d < dims->size(); ++d) {
      auto& dim = (*dims)[d];
      if (wanted != options.input_shapes.end()) {
        const int64_t v = wanted->second[static_cast<size_t>(d)];
        if (v <= 0) fail(path, "--input-shape " + input.name() + ": dimensions must be positive");
        if (dim.has_dim_value() && dim.dim_value() != v) {
          fail(path, "--input-shape " + input.name() + ": dimension " + std::to_string(d) + " is " +
                         std::to_string(dim.dim_value()) + " in the model, not " +
                         std::to_string(v));
        }
        dim.set_dim_value(v);
      } else if (!dim.has_dim_value() || dim.dim_value() <= 0) {
        if (d == 0) {
          dim.set_dim_value(options.batch);
        } else {
          const std::string label = dim.has_dim_param() ? " ('" + dim.dim_param() + "')" : "";
          fail(path, "input '" + input.name() + "' dimension " + std::to_string(d) + label +
                         " is dynamic; give the whole shape with --input-shape " + input.name() +
                         ":1,3,224,224 (for example)");
        }
      }
    }
  }
}

}  // namespace

LoadedOnnx load_onnx(const fs::path& path, const OnnxImportOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "no such file");
  if (!fs::is_regular_file(path, ec)) fail(path, "not a regular file");
  if (fs::file_size(path, ec) > (uintmax_t{1} << 31) - 1 && !ec) {
    fail(path, "is larger than 2 GiB; store its weights as external data");
  }
  const std::vector<uint8_t> bytes = read_file(path);
  if (bytes.empty()) fail(path, "is empty");
  if (bytes.size() > (size_t{1} << 31) - 1) {
    fail(path, "is larger than 2 GiB; store its weights as external data");
  }
  LoadedOnnx loaded;
  if (!loaded.model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    fail(path, "is not an ONNX model (protobuf parse failed: truncated or another format)");
  }
  if (!loaded.model.has_graph() || loaded.model.graph().node_size() == 0) {
    fail(path, "is not an ONNX model (no graph with nodes)");
  }
  if (loaded.model.ir_version() <= 0) fail(path, "is not an ONNX model (no IR version)");
  loaded.declared_opset = default_domain_opset(loaded.model);
  if (loaded.declared_opset == 0) fail(path, "declares no opset of the default ONNX domain");
  if (loaded.declared_opset < kMinOpset || loaded.declared_opset > kMaxOpset) {
    fail(path, "opset " + std::to_string(loaded.declared_opset) + " is not supported (opsets " +
                   std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")");
  }
  load_external_data(loaded.model, path);
  fix_input_shapes(loaded.model, path, options);
  try {
    onnx::checker::check_model(loaded.model);
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (const auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    fail(path, "fails the ONNX checker: " + what);
  }
  loaded.opset = loaded.declared_opset;
  if (loaded.opset < kTargetOpset) {
    try {
      // The converter's adapters need shapes (Softmax 12 -> 13 does): infer them first.
      onnx::shape_inference::InferShapes(loaded.model);
      loaded.model = onnx::version_conversion::ConvertVersion(loaded.model, kTargetOpset);
    } catch (const std::exception& e) {
      std::string what = e.what();
      if (const auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
      fail(path, "ONNX's version converter cannot bring opset " +
                     std::to_string(loaded.declared_opset) + " to " + std::to_string(kTargetOpset) +
                     ": " + what);
    }
    loaded.opset = kTargetOpset;
  }
  return loaded;
}

}  // namespace pipecut::onnx_import
