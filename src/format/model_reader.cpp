// Loading a .tflite: the flatbuffers verifier first, then the checks it cannot make (indices in
// range, sane shapes, buffer sizes, execution order), then the light view in pipecut::Model.
#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <limits>
#include <unordered_set>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/model.h"

namespace pipecut {

namespace {

constexpr const char* kEdgeTpuCustomOp = "edgetpu-custom-op";
constexpr int64_t kMaxElements = int64_t{1} << 40;  // guards shape products against overflow

}  // namespace

class ModelReader {
 public:
  ModelReader(std::vector<uint8_t> bytes, std::string origin) {
    model_.origin_ = std::move(origin);
    auto owned = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
    model_.bytes_ = {owned->data(), owned->size()};
    model_.owner_ = std::move(owned);
  }
  ModelReader(std::shared_ptr<const MappedFile> file, std::string origin) {
    model_.origin_ = std::move(origin);
    model_.bytes_ = file->bytes();
    model_.owner_ = std::move(file);
  }

  Model read() {
    verify_flatbuffer();
    const tflite::Model* root = model_.root_;
    model_.version_ = root->version();
    if (root->description()) model_.description_ = root->description()->str();
    const auto* subgraphs = root->subgraphs();
    if (!subgraphs || subgraphs->size() == 0) fail("has no subgraph");
    if (subgraphs->size() > 1) {
      fail("has " + std::to_string(subgraphs->size()) +
           " subgraphs (control flow such as WHILE or IF); pipecut splits single-subgraph models");
    }
    read_operator_codes();
    const tflite::SubGraph* graph = subgraphs->Get(0);
    read_tensors(graph);
    read_ops(graph);
    model_.inputs_ = read_index_list(graph->inputs(), "subgraph input");
    model_.outputs_ = read_index_list(graph->outputs(), "subgraph output");
    check_execution_order();
    return std::move(model_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(model_.origin_ + ": " + what);
  }

  void verify_flatbuffer() {
    const auto bytes = model_.bytes_;
    if (bytes.size() < 8) {
      fail("is too small to be a TFLite model (" + std::to_string(bytes.size()) + " bytes)");
    }
    if (!flatbuffers::BufferHasIdentifier(bytes.data(), tflite::ModelIdentifier())) {
      fail("is not a TFLite model (no 'TFL3' file identifier)");
    }
    // Models over 2 GiB keep buffers after the flatbuffer; the verifier sees the flatbuffer only.
    const size_t limit = std::min<size_t>(bytes.size(), FLATBUFFERS_MAX_BUFFER_SIZE - 1);
    flatbuffers::Verifier verifier(bytes.data(), limit, /*max_depth=*/128,
                                   /*max_tables=*/100'000'000);
    if (!tflite::VerifyModelBuffer(verifier)) {
      fail("is corrupt: the flatbuffer does not verify (truncated or not a TFLite file)");
    }
    model_.root_ = tflite::GetModel(bytes.data());
  }

  void read_operator_codes() {
    const auto* codes = model_.root_->operator_codes();
    if (!codes) return;
    for (flatbuffers::uoffset_t i = 0; i < codes->size(); ++i) {
      const auto* code = codes->Get(i);
      // Files before schema 3a carry the code in the int8 field only; newer ones in both.
      const int32_t builtin = std::max<int32_t>(code->deprecated_builtin_code(),
                                                static_cast<int32_t>(code->builtin_code()));
      std::string custom = code->custom_code() ? code->custom_code()->str() : "";
      if (builtin == tflite::BuiltinOperator_CUSTOM && custom == kEdgeTpuCustomOp) {
        fail(
            "is compiled for the Edge TPU (it contains edgetpu-custom-op); split the original "
            ".tflite with pipecut, then compile each segment");
      }
      codes_.push_back({builtin, std::move(custom), code->version()});
    }
  }

  std::span<const uint8_t> buffer_data(uint32_t index, const std::string& tensor_name) {
    const auto* buffers = model_.root_->buffers();
    if (!buffers || index >= buffers->size()) {
      fail("tensor '" + tensor_name + "' refers to buffer " + std::to_string(index) +
           " but the model has " + std::to_string(buffers ? buffers->size() : 0));
    }
    const tflite::Buffer* buffer = buffers->Get(index);
    if (!buffer) return {};
    const auto bytes = model_.bytes_;
    if (buffer->offset() > 1) {
      if (buffer->offset() > bytes.size() || buffer->size() > bytes.size() - buffer->offset()) {
        fail("buffer " + std::to_string(index) + " lies beyond the end of the file");
      }
      return {bytes.data() + buffer->offset(), static_cast<size_t>(buffer->size())};
    }
    if (!buffer->data()) return {};
    return {buffer->data()->data(), buffer->data()->size()};
  }

  void read_tensors(const tflite::SubGraph* graph) {
    const auto* tensors = graph->tensors();
    if (!tensors) fail("subgraph has no tensor table");
    model_.tensors_.reserve(tensors->size());
    for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i) {
      const tflite::Tensor* t = tensors->Get(i);
      Tensor out;
      out.index = static_cast<int>(i);
      out.name = t->name() ? t->name()->str() : "";
      const std::string label = "tensor " + std::to_string(i) + " '" + out.name + "'";
      if (t->type() < tflite::TensorType_MIN || t->type() > tflite::TensorType_MAX) {
        fail(label + " has unknown type " + std::to_string(t->type()));
      }
      out.type = static_cast<DType>(t->type());
      if (t->shape()) out.shape.assign(t->shape()->begin(), t->shape()->end());
      if (t->shape_signature()) {
        out.shape_signature.assign(t->shape_signature()->begin(), t->shape_signature()->end());
      }
      int64_t elements = 1;
      for (int32_t d : out.shape) {
        if (d < 0) fail(label + " has a negative dimension " + std::to_string(d));
        if (d > 0 && elements > kMaxElements / d) fail(label + " has a shape too large to address");
        elements *= d;
      }
      if (const auto* q = t->quantization()) {
        if (q->scale()) out.quant.scale.assign(q->scale()->begin(), q->scale()->end());
        if (const auto* zp = q->zero_point()) {
          // The verifier checks a vector's length field for 4-byte alignment only; a writer
          // aligns 64-bit elements to 8, so anything else is a damaged file (and unsafe to read).
          if (reinterpret_cast<uintptr_t>(zp->data()) % alignof(int64_t) != 0)
            fail(label + " has a misaligned quantization zero_point vector");
          out.quant.zero_point.assign(zp->begin(), zp->end());
        }
        out.quant.axis = q->quantized_dimension();
        if (out.quant.per_channel() &&
            (out.quant.axis < 0 || static_cast<size_t>(out.quant.axis) >= out.shape.size() ||
             out.shape[static_cast<size_t>(out.quant.axis)] !=
                 static_cast<int32_t>(out.quant.scale.size()))) {
          fail(label + " has " + std::to_string(out.quant.scale.size()) +
               " quantization scales that do not match dimension " +
               std::to_string(out.quant.axis));
        }
      }
      out.is_variable = t->is_variable();
      out.buffer = t->buffer();
      out.data = buffer_data(out.buffer, out.name);
      const int bits = dtype_bits(out.type);
      if (!out.data.empty() && bits > 0 && !t->sparsity()) {
        const int64_t expected = (elements * bits + 7) / 8;
        if (static_cast<int64_t>(out.data.size()) != expected) {
          fail(label + " holds " + std::to_string(out.data.size()) +
               " bytes but its shape and type need " + std::to_string(expected));
        }
      }
      model_.tensors_.push_back(std::move(out));
    }
  }

  int checked_tensor(int32_t index, const std::string& where, bool optional) {
    if (optional && index == -1) return -1;
    if (index < 0 || static_cast<size_t>(index) >= model_.tensors_.size()) {
      fail(where + " refers to tensor " + std::to_string(index) + " but the subgraph has " +
           std::to_string(model_.tensors_.size()));
    }
    return index;
  }

  std::vector<int> read_index_list(const flatbuffers::Vector<int32_t>* list,
                                   const std::string& what, bool optional = false) {
    std::vector<int> out;
    if (!list) return out;
    out.reserve(list->size());
    for (int32_t index : *list) out.push_back(checked_tensor(index, what, optional));
    return out;
  }

  void read_ops(const tflite::SubGraph* graph) {
    const auto* ops = graph->operators();
    if (!ops) return;
    model_.ops_.reserve(ops->size());
    for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
      const tflite::Operator* op = ops->Get(i);
      const std::string where = "op " + std::to_string(i);
      if (op->opcode_index() >= codes_.size()) {
        fail(where + " uses opcode " + std::to_string(op->opcode_index()) + " but the model has " +
             std::to_string(codes_.size()));
      }
      Op out;
      out.index = static_cast<int>(i);
      out.opcode_index = static_cast<int>(op->opcode_index());
      const OpCode& code = codes_[op->opcode_index()];
      out.builtin_code = code.builtin;
      out.custom_code = code.custom;
      out.version = code.version;
      out.inputs = read_index_list(op->inputs(), where + " input", /*optional=*/true);
      out.outputs = read_index_list(op->outputs(), where + " output");
      out.intermediates = read_index_list(op->intermediates(), where + " intermediate");
      if (op->large_custom_options_size() > 0) {
        const uint64_t end = op->large_custom_options_offset() + op->large_custom_options_size();
        if (op->large_custom_options_offset() < 2 || end > model_.bytes_.size() ||
            end < op->large_custom_options_offset()) {
          fail(where + " has custom options beyond the end of the file");
        }
      }
      model_.ops_.push_back(std::move(out));
    }
  }

  // Every activation an op reads must exist by then: a model input, a variable, or the output of
  // an earlier op. Every tensor is produced at most once.
  void check_execution_order() {
    std::vector<int> produced_by(model_.tensors_.size(), -1);
    std::vector<bool> available(model_.tensors_.size(), false);
    for (int index : model_.inputs_) available[static_cast<size_t>(index)] = true;
    for (const Tensor& t : model_.tensors_) {
      if (t.is_constant() || t.is_variable) available[static_cast<size_t>(t.index)] = true;
    }
    for (const Op& op : model_.ops_) {
      for (int in : op.inputs) {
        if (in < 0 || available[static_cast<size_t>(in)]) continue;
        const Tensor& t = model_.tensors_[static_cast<size_t>(in)];
        fail("op " + std::to_string(op.index) + " (" + model_.op_type(op) + ") reads tensor " +
             std::to_string(in) + " '" + t.name + "' before any op produces it");
      }
      for (int out : op.outputs) {
        if (produced_by[static_cast<size_t>(out)] >= 0) {
          fail("tensor " + std::to_string(out) + " '" +
               model_.tensors_[static_cast<size_t>(out)].name + "' is produced twice (ops " +
               std::to_string(produced_by[static_cast<size_t>(out)]) + " and " +
               std::to_string(op.index) + ")");
        }
        produced_by[static_cast<size_t>(out)] = op.index;
        available[static_cast<size_t>(out)] = true;
      }
    }
    for (int out : model_.outputs_) {
      if (!available[static_cast<size_t>(out)]) {
        fail("model output tensor " + std::to_string(out) + " is never produced");
      }
    }
  }

  struct OpCode {
    int32_t builtin;
    std::string custom;
    int version;
  };
  Model model_;
  std::vector<OpCode> codes_;
};

Model Model::load(const std::filesystem::path& path) {
  return ModelReader(MappedFile::open(path), path.string()).read();
}

Model Model::from_bytes(std::vector<uint8_t> bytes, std::string origin) {
  return ModelReader(std::move(bytes), std::move(origin)).read();
}

std::string Model::op_type(const Op& op) const {
  if (op.builtin_code == tflite::BuiltinOperator_CUSTOM) {
    return op.custom_code.empty() ? "CUSTOM" : op.custom_code;
  }
  return builtin_op_name(op.builtin_code);
}

std::string builtin_op_name(int32_t code) {
  if (code >= tflite::BuiltinOperator_MIN && code <= tflite::BuiltinOperator_MAX) {
    const char* name = tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(code));
    if (name && *name) return name;
  }
  return "UNKNOWN_" + std::to_string(code);
}

}  // namespace pipecut
