#include "remote/frame_codec.h"

#include <cstring>

#include "pipecut/error.h"

namespace pipecut::remote {

namespace {

constexpr uint32_t kMagic = 0x31464350;  // "PCF1"
constexpr size_t kMaxRank = 16;
constexpr size_t kMaxNameBytes = 4096;

class Writer {
 public:
  template <typename T>
  void put(T value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    out.insert(out.end(), p, p + sizeof(T));
  }
  void put_bytes(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    out.insert(out.end(), p, p + size);
  }
  std::vector<uint8_t> out;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  template <typename T>
  T get() {
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  const uint8_t* take(size_t size) {
    if (size > bytes_.size() - at_) throw Error("frame message is cut short");
    const uint8_t* p = bytes_.data() + at_;
    at_ += size;
    return p;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
};

int64_t tensor_header_size(const std::string& name, size_t rank, const Quantization& q) {
  return 2 + static_cast<int64_t>(name.size()) + 1 + 1 + 4 * static_cast<int64_t>(rank) + 4 +
         12 * static_cast<int64_t>(q.scale.size()) + 4 + 8;
}

}  // namespace

std::vector<uint8_t> encode_frame(const Frame& frame) {
  for (const auto& t : frame.tensors) {  // what decode_frame would refuse, refused here
    if (t.name.size() > kMaxNameBytes || t.shape.size() > kMaxRank)
      throw Error("tensor " + t.name.substr(0, 64) + " has a name or rank too large to send");
  }
  Writer w;
  size_t total = 16;
  for (const auto& t : frame.tensors)
    total +=
        static_cast<size_t>(tensor_header_size(t.name, t.shape.size(), t.quant)) + t.data.size();
  w.out.reserve(total);
  w.put<uint32_t>(kMagic);
  w.put<uint64_t>(frame.number);
  w.put<uint32_t>(static_cast<uint32_t>(frame.tensors.size()));
  for (const auto& t : frame.tensors) {
    w.put<uint16_t>(static_cast<uint16_t>(t.name.size()));
    w.put_bytes(t.name.data(), t.name.size());
    w.put<int8_t>(static_cast<int8_t>(t.type));
    w.put<uint8_t>(static_cast<uint8_t>(t.shape.size()));
    for (int32_t d : t.shape) w.put<int32_t>(d);
    w.put<uint32_t>(static_cast<uint32_t>(t.quant.scale.size()));
    for (size_t i = 0; i < t.quant.scale.size(); ++i) {
      w.put<float>(t.quant.scale[i]);
      w.put<int64_t>(i < t.quant.zero_point.size() ? t.quant.zero_point[i] : 0);
    }
    w.put<int32_t>(t.quant.axis);
    w.put<uint64_t>(t.data.size());
    w.put_bytes(t.data.data(), t.data.size());
  }
  return std::move(w.out);
}

Frame decode_frame(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  if (r.get<uint32_t>() != kMagic) throw Error("not a pipecut frame message (wrong magic)");
  Frame frame;
  frame.number = r.get<uint64_t>();
  const uint32_t count = r.get<uint32_t>();
  if (count > bytes.size()) throw Error("frame message claims more tensors than it can hold");
  for (uint32_t i = 0; i < count; ++i) {
    TensorValue t;
    const uint16_t name_size = r.get<uint16_t>();
    if (name_size > kMaxNameBytes) throw Error("frame message has an overlong tensor name");
    const uint8_t* name = r.take(name_size);
    t.name.assign(reinterpret_cast<const char*>(name), name_size);
    t.type = static_cast<DType>(r.get<int8_t>());
    const uint8_t rank = r.get<uint8_t>();
    if (rank > kMaxRank) throw Error("frame message: tensor " + t.name + " has rank above 16");
    for (uint8_t d = 0; d < rank; ++d) t.shape.push_back(r.get<int32_t>());
    const uint32_t scales = r.get<uint32_t>();
    if (scales > bytes.size()) throw Error("frame message: tensor " + t.name + " is cut short");
    for (uint32_t s = 0; s < scales; ++s) {
      t.quant.scale.push_back(r.get<float>());
      t.quant.zero_point.push_back(r.get<int64_t>());
    }
    t.quant.axis = r.get<int32_t>();
    const uint64_t size = r.get<uint64_t>();
    if (size > bytes.size()) throw Error("frame message: tensor " + t.name + " is cut short");
    // The bytes must be what the shape and type say: a frame is never run on a tensor whose
    // data and shape disagree.
    const int bits = dtype_bits(t.type);
    if (bits <= 0 || static_cast<uint8_t>(t.type) > static_cast<uint8_t>(DType::kFloat8E5M2))
      throw Error("frame message: tensor " + t.name + " has an unknown or unsized type");
    uint64_t elements = 1;
    for (int32_t d : t.shape) {
      if (d < 0) throw Error("frame message: tensor " + t.name + " has a negative dimension");
      elements *= static_cast<uint64_t>(d);
      if (elements > bytes.size() * 8)
        throw Error("frame message: tensor " + t.name + " is cut short");
    }
    if ((elements * static_cast<uint64_t>(bits) + 7) / 8 != size)
      throw Error("frame message: tensor " + t.name + " has " + std::to_string(size) +
                  " bytes, not what its shape and type need");
    const uint8_t* data = r.take(static_cast<size_t>(size));
    t.data.assign(data, data + size);
    frame.tensors.push_back(std::move(t));
  }
  if (!r.done()) throw Error("frame message has bytes after its last tensor");
  return frame;
}

int64_t encoded_size(uint64_t, const std::vector<TensorSpec>& specs) {
  int64_t total = 16;
  for (const auto& s : specs)
    total += tensor_header_size(s.name, s.shape.size(), s.quant) + s.byte_size();
  return total;
}

}  // namespace pipecut::remote
