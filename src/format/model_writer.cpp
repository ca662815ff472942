// Writing a submodel: small tables (tensors, ops, opcodes, metadata) go through the generated
// object API, so every field the schema knows is carried over. Large constant buffers are not
// copied into the builder at all: their space is reserved, and the file is handed on as pieces
// (builder bytes, source weights, builder bytes, ...) that a writer gathers with one writev.
#include "pipecut/model_writer.h"

#include <sys/mman.h>

#include <algorithm>
#include <map>
#include <memory>
#include <new>
#include <unordered_map>

#include "format/tflite_schema.h"
#include "pipecut/error.h"

namespace pipecut {

namespace {

constexpr size_t kBufferAlignment = 16;  // what the TFLite converter uses for weight data
// Constant buffers from this size up stay in the source's memory (one more piece for the writer);
// smaller ones are copied into the builder, where a copy costs less than a piece.
constexpr size_t kGatherFrom = 16 << 10;
constexpr const char* kModelDescriptionMetadata = "TFLITE_METADATA";  // describes the model's I/O

// The builder's memory, kept per thread from one model to the next: a file of tens of MiB built
// in fresh memory costs a page fault per 4 KiB before the first byte is copied. The buffer grows
// to the largest model written; a builder that outgrows it mid-build gets plain memory for the
// rest of that model.
class ReusedBuffer : public flatbuffers::Allocator {
 public:
  ReusedBuffer() = default;
  ReusedBuffer(const ReusedBuffer&) = delete;
  ReusedBuffer& operator=(const ReusedBuffer&) = delete;
  ~ReusedBuffer() override { release(); }

  uint8_t* allocate(size_t size) override {
    if (in_use_) return new uint8_t[size];
    if (size > capacity_) {
      release();  // free the old one first: the peak stays one buffer
      // Mapped memory asked for in 2 MiB pages where the kernel allows it (transparent huge
      // pages in "madvise" mode): a 40 MiB model then costs 20 page faults, not 10,000.
      void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      madvise(p, size, MADV_HUGEPAGE);  // a hint; without it the pages are ordinary
      buffer_ = static_cast<uint8_t*>(p);
      capacity_ = size;
    }
    in_use_ = true;
    return buffer_;
  }
  void deallocate(uint8_t* p, size_t) override {
    if (p == buffer_) {
      in_use_ = false;
    } else {
      delete[] p;
    }
  }

 private:
  void release() {
    if (buffer_) munmap(buffer_, capacity_);
    buffer_ = nullptr;
    capacity_ = 0;
  }
  uint8_t* buffer_ = nullptr;
  size_t capacity_ = 0;
  bool in_use_ = false;
};

ReusedBuffer& reused_buffer() {
  thread_local ReusedBuffer buffer;
  return buffer;
}

class SubmodelWriter {
 public:
  SubmodelWriter(const Model& source, const SubmodelSpec& spec)
      : source_(source), spec_(spec), root_(source.flatbuffer()) {}

  void write(const PiecesSink& sink) {
    collect_tensors();
    size_t estimate = 1 << 16;
    for (int t : tensors_) estimate += source_.tensor(t).data.size() + kBufferAlignment;
    builder_ = std::make_unique<flatbuffers::FlatBufferBuilder>(estimate, &reused_buffer());
    auto& fbb = *builder_;
    buffer_offsets_.push_back(tflite::CreateBuffer(fbb));  // buffer 0: the empty sentinel

    std::vector<flatbuffers::Offset<tflite::Tensor>> tensor_offsets;
    for (int t : tensors_) tensor_offsets.push_back(write_tensor(t));
    std::vector<flatbuffers::Offset<tflite::Operator>> op_offsets;
    for (int op : spec_.ops) op_offsets.push_back(write_op(op));
    const auto inputs = fbb.CreateVector(remap_list(spec_.inputs));
    const auto outputs = fbb.CreateVector(remap_list(spec_.outputs));
    const auto* src_graph = root_->subgraphs()->Get(0);
    const auto graph_name = src_graph->name() ? fbb.CreateString(src_graph->name()->str()) : 0;
    const auto graph = tflite::CreateSubGraph(fbb, fbb.CreateVector(tensor_offsets), inputs,
                                              outputs, fbb.CreateVector(op_offsets), graph_name);
    const auto metadata = write_metadata();
    const auto signatures = write_signature_defs();
    const auto codes = write_operator_codes();
    const auto description =
        fbb.CreateString(spec_.description.empty() ? source_.description() : spec_.description);
    const auto metadata_buffers = metadata_buffer_list();
    const auto buffers = fbb.CreateVector(buffer_offsets_);
    const auto graphs = fbb.CreateVector(std::vector{graph});
    const auto model = tflite::CreateModel(fbb, root_->version(), codes, graphs, description,
                                           buffers, metadata_buffers, metadata, signatures);
    tflite::FinishModelBuffer(fbb, model);
    if (fbb.GetSize() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
      throw Error(source_.origin() +
                  ": the submodel would exceed 2 GiB, which pipecut does not write");
    }
    sink(pieces());
  }

 private:
  void use_tensor(int t) {
    if (t >= 0 && tensor_map_.emplace(t, -1).second) tensors_.push_back(t);
  }

  // Kept tensors stay in their source order, so a submodel reads like the source.
  void collect_tensors() {
    const auto& ops = source_.ops();
    for (int op : spec_.ops) {
      if (op < 0 || static_cast<size_t>(op) >= ops.size()) {
        throw Error(source_.origin() + ": submodel names op " + std::to_string(op) +
                    " out of range");
      }
      for (int t : ops[static_cast<size_t>(op)].inputs) use_tensor(t);
      for (int t : ops[static_cast<size_t>(op)].outputs) use_tensor(t);
      for (int t : ops[static_cast<size_t>(op)].intermediates) use_tensor(t);
    }
    for (int t : spec_.inputs) use_tensor(t);
    for (int t : spec_.outputs) use_tensor(t);
    std::sort(tensors_.begin(), tensors_.end());
    for (size_t i = 0; i < tensors_.size(); ++i) tensor_map_[tensors_[i]] = static_cast<int>(i);
  }

  std::vector<int32_t> remap_list(const std::vector<int>& list) const {
    std::vector<int32_t> out;
    out.reserve(list.size());
    for (int t : list) out.push_back(t < 0 ? -1 : tensor_map_.at(t));
    return out;
  }

  // Source buffer -> new buffer index; each buffer with data is written once.
  uint32_t write_buffer(uint32_t source_buffer, std::span<const uint8_t> data) {
    if (data.empty()) return 0;
    auto it = buffer_map_.find(source_buffer);
    if (it != buffer_map_.end()) return it->second;
    auto& fbb = *builder_;
    fbb.ForceVectorAlignment(data.size(), sizeof(uint8_t), kBufferAlignment);
    flatbuffers::Offset<flatbuffers::Vector<uint8_t>> vec;
    if (data.size() >= kGatherFrom) {
      // Space only; the bytes are gathered from the source when the file is written. The builder
      // grows from the end, so a place's distance from the end survives later growth.
      uint8_t* place = nullptr;
      vec = fbb.CreateUninitializedVector(data.size(), &place);
      const size_t from_end =
          fbb.GetSize() - static_cast<size_t>(place - fbb.GetCurrentBufferPointer());
      gathered_.push_back({from_end, data});
    } else {
      vec = fbb.CreateVector(data.data(), data.size());
    }
    const auto index = static_cast<uint32_t>(buffer_offsets_.size());
    buffer_offsets_.push_back(tflite::CreateBuffer(fbb, vec));
    buffer_map_.emplace(source_buffer, index);
    return index;
  }

  flatbuffers::Offset<tflite::Tensor> write_tensor(int t) {
    const Tensor& info = source_.tensor(t);
    std::unique_ptr<tflite::TensorT> obj(root_->subgraphs()
                                             ->Get(0)
                                             ->tensors()
                                             ->Get(static_cast<flatbuffers::uoffset_t>(t))
                                             ->UnPack());
    obj->buffer = write_buffer(info.buffer, info.data);
    if (obj->quantization && obj->quantization->details.value == nullptr)  // as in write_op
      obj->quantization->details.Reset();
    return tflite::CreateTensor(*builder_, obj.get());
  }

  flatbuffers::Offset<tflite::Operator> write_op(int op_index) {
    const auto* src =
        root_->subgraphs()->Get(0)->operators()->Get(static_cast<flatbuffers::uoffset_t>(op_index));
    std::unique_ptr<tflite::OperatorT> obj(src->UnPack());
    const Op& info = source_.ops()[static_cast<size_t>(op_index)];
    obj->inputs = remap_list(info.inputs);
    obj->outputs = remap_list(info.outputs);
    obj->intermediates = remap_list(info.intermediates);
    auto [it, inserted] =
        opcode_map_.emplace(info.opcode_index, static_cast<int>(opcode_map_.size()));
    if (inserted) opcode_order_.push_back(info.opcode_index);
    obj->opcode_index = static_cast<uint32_t>(it->second);
    // The verifier accepts an options type whose table is absent, which readers take as the
    // defaults; the object API would write through the null table, so write no options instead.
    if (obj->builtin_options.value == nullptr) obj->builtin_options.Reset();
    if (obj->builtin_options_2.value == nullptr) obj->builtin_options_2.Reset();
    if (src->large_custom_options_size() > 0) {
      // Options kept outside the flatbuffer (models over 2 GiB) come back inline.
      const auto* begin = source_.bytes().data() + src->large_custom_options_offset();
      obj->custom_options.assign(begin, begin + src->large_custom_options_size());
      obj->large_custom_options_offset = 0;
      obj->large_custom_options_size = 0;
    }
    return tflite::CreateOperator(*builder_, obj.get());
  }

  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<tflite::OperatorCode>>>
  write_operator_codes() {
    std::vector<flatbuffers::Offset<tflite::OperatorCode>> out;
    for (int source_code : opcode_order_) {
      std::unique_ptr<tflite::OperatorCodeT> obj(
          root_->operator_codes()->Get(static_cast<flatbuffers::uoffset_t>(source_code))->UnPack());
      out.push_back(tflite::CreateOperatorCode(*builder_, obj.get()));
    }
    return builder_->CreateVector(out);
  }

  bool same_io_as_source() const {
    return spec_.inputs == source_.inputs() && spec_.outputs == source_.outputs();
  }

  // Metadata that describes the whole model's inputs and outputs no longer applies to a part.
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<tflite::Metadata>>> write_metadata() {
    const auto* list = root_->metadata();
    if (!list || list->size() == 0) return 0;
    std::vector<flatbuffers::Offset<tflite::Metadata>> out;
    for (const tflite::Metadata* m : *list) {
      const std::string name = m->name() ? m->name()->str() : "";
      if (name == kModelDescriptionMetadata && !same_io_as_source()) continue;
      const auto* buffers = root_->buffers();
      if (!buffers || m->buffer() >= buffers->size()) continue;
      const auto* buffer = buffers->Get(m->buffer());
      std::span<const uint8_t> data;
      if (buffer && buffer->offset() > 1) {
        data = {source_.bytes().data() + buffer->offset(), static_cast<size_t>(buffer->size())};
      } else if (buffer && buffer->data()) {
        data = {buffer->data()->data(), buffer->data()->size()};
      }
      const uint32_t index = write_buffer(m->buffer(), data);
      if (index == 0) continue;
      out.push_back(tflite::CreateMetadata(*builder_, builder_->CreateString(name), index));
    }
    return builder_->CreateVector(out);
  }

  // The older list of metadata buffer indices, kept for the buffers this file still has.
  flatbuffers::Offset<flatbuffers::Vector<int32_t>> metadata_buffer_list() {
    const auto* list = root_->metadata_buffer();
    if (!list || list->size() == 0) return 0;
    std::vector<int32_t> kept;
    for (int32_t b : *list) {
      auto it = buffer_map_.find(static_cast<uint32_t>(b));
      if (b >= 0 && it != buffer_map_.end()) kept.push_back(static_cast<int32_t>(it->second));
    }
    return builder_->CreateVector(kept);
  }

  // The source's signatures when the I/O is unchanged; otherwise one "serving_default" signature
  // whose keys are the boundary tensor names, so signature-based runners can address a segment.
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<tflite::SignatureDef>>>
  write_signature_defs() {
    auto& fbb = *builder_;
    std::vector<flatbuffers::Offset<tflite::SignatureDef>> out;
    const auto* defs = root_->signature_defs();
    if (same_io_as_source() && defs && defs->size() > 0) {
      for (const tflite::SignatureDef* def : *defs) {
        std::unique_ptr<tflite::SignatureDefT> obj(def->UnPack());
        bool valid = true;
        for (auto* maps : {&obj->inputs, &obj->outputs}) {
          for (auto& map : *maps) {
            auto it = tensor_map_.find(static_cast<int>(map->tensor_index));
            if (it == tensor_map_.end())
              valid = false;
            else
              map->tensor_index = static_cast<uint32_t>(it->second);
          }
        }
        obj->subgraph_index = 0;
        if (valid) out.push_back(tflite::CreateSignatureDef(fbb, obj.get()));
      }
    } else {
      tflite::SignatureDefT def;
      def.signature_key = "serving_default";
      for (auto [list, maps] :
           {std::pair{&spec_.inputs, &def.inputs}, std::pair{&spec_.outputs, &def.outputs}}) {
        for (int t : *list) {
          auto map = std::make_unique<tflite::TensorMapT>();
          map->name = source_.tensor(t).name;
          map->tensor_index = static_cast<uint32_t>(tensor_map_.at(t));
          maps->push_back(std::move(map));
        }
      }
      out.push_back(tflite::CreateSignatureDef(fbb, &def));
    }
    return fbb.CreateVector(out);
  }

  // The finished file as pieces in file order: the builder's bytes around the gathered buffers.
  std::vector<std::span<const uint8_t>> pieces() const {
    const uint8_t* begin = builder_->GetBufferPointer();
    const size_t size = builder_->GetSize();
    std::vector<std::span<const uint8_t>> out;
    out.reserve(gathered_.size() * 2 + 1);
    size_t at = 0;
    // Buffers were created back to front, so the last one created comes first in the file.
    for (auto g = gathered_.rbegin(); g != gathered_.rend(); ++g) {
      const size_t start = size - g->from_end;
      out.emplace_back(begin + at, start - at);
      out.push_back(g->data);
      at = start + g->data.size();
    }
    out.emplace_back(begin + at, size - at);
    return out;
  }

  struct Gathered {
    size_t from_end;  // where the buffer's bytes start, counted from the file's end
    std::span<const uint8_t> data;
  };

  const Model& source_;
  const SubmodelSpec& spec_;
  const tflite::Model* root_;
  std::unique_ptr<flatbuffers::FlatBufferBuilder> builder_;
  std::vector<int> tensors_;
  std::unordered_map<int, int> tensor_map_;
  std::vector<flatbuffers::Offset<tflite::Buffer>> buffer_offsets_;
  std::unordered_map<uint32_t, uint32_t> buffer_map_;
  std::unordered_map<int, int> opcode_map_;
  std::vector<int> opcode_order_;
  std::vector<Gathered> gathered_;
};

}  // namespace

std::vector<uint8_t> write_submodel(const Model& source, const SubmodelSpec& spec) {
  std::vector<uint8_t> bytes;
  SubmodelWriter(source, spec).write([&](FilePieces pieces) {
    size_t size = 0;
    for (const auto& p : pieces) size += p.size();
    bytes.reserve(size);
    for (const auto& p : pieces) bytes.insert(bytes.end(), p.begin(), p.end());
  });
  return bytes;
}

void write_submodel_to(const Model& source, const SubmodelSpec& spec, const PiecesSink& sink) {
  SubmodelWriter(source, spec).write(sink);
}

}  // namespace pipecut
