#pragma once
// Pictures for models: JPEG, PNG and BMP files decoded (Debian's stb_image), raw square RGB
// files (../shared/models/coral/bird.rgb), and resizing to a model's input.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace pipecut {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height x width x 3, row-major
};

// Decodes a JPEG, PNG or BMP file (any size up to 16384 x 16384; grey and alpha become RGB), or
// reads a raw square RGB file (`.rgb`: S x S x 3 bytes). Throws pipecut::Error naming the file
// and what is wrong (unreadable, not an image, too large, corrupt).
Image load_image(const std::filesystem::path& path);

// Bilinear resampling to width x height (with a box average first when shrinking by 4x or more,
// so small inputs do not alias). Throws pipecut::Error for an empty size.
Image resize_image(const Image& image, int width, int height);

}  // namespace pipecut
