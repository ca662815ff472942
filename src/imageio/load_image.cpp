// Decoding with stb_image (Debian's libstb): its header declares, the library defines.
#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <memory>

#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/image.h"

namespace pipecut {

namespace {

constexpr int kMaxSide = 16384;

Image raw_square(const std::filesystem::path& path, std::vector<uint8_t> bytes) {
  const auto side =
      static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(bytes.size()) / 3.0)));
  if (side <= 0 || side > kMaxSide || side * side * 3 != static_cast<int64_t>(bytes.size())) {
    throw Error(path.string() + ": not a square raw RGB image (" + std::to_string(bytes.size()) +
                " bytes)");
  }
  Image image;
  image.width = image.height = static_cast<int>(side);
  image.rgb = std::move(bytes);
  return image;
}

}  // namespace

Image load_image(const std::filesystem::path& path) {
  std::vector<uint8_t> bytes = read_file(path);
  if (path.extension() == ".rgb") return raw_square(path, std::move(bytes));
  if (bytes.empty()) throw Error(path.string() + ": empty file, not an image");
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error(path.string() + ": larger than 2 GiB");
  // Only the formats we document: stb_image also takes TGA, which has no signature, so any file
  // could decode as one.
  const auto starts = [&](std::initializer_list<uint8_t> magic) {
    return bytes.size() >= magic.size() && std::equal(magic.begin(), magic.end(), bytes.begin());
  };
  if (!starts({0xFF, 0xD8, 0xFF}) && !starts({0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}) &&
      !starts({'B', 'M'})) {
    throw Error(path.string() + ": not a JPEG, PNG or BMP image");
  }
  const int size = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  // The header first: refuse what is not an image, or too large to decode safely.
  if (!stbi_info_from_memory(bytes.data(), size, &w, &h, &channels)) {
    throw Error(path.string() + ": not a JPEG, PNG or BMP image (" + stbi_failure_reason() + ")");
  }
  if (w <= 0 || h <= 0 || w > kMaxSide || h > kMaxSide) {
    throw Error(path.string() + ": image of " + std::to_string(w) + " x " + std::to_string(h) +
                " pixels; at most " + std::to_string(kMaxSide) + " per side");
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), size, &w, &h, &channels, 3), stbi_image_free);
  if (!pixels) {
    throw Error(path.string() + ": corrupt image (" + std::string(stbi_failure_reason()) + ")");
  }
  Image image;
  image.width = w;
  image.height = h;
  image.rgb.assign(pixels.get(), pixels.get() + static_cast<size_t>(w) * h * 3);
  return image;
}

}  // namespace pipecut
