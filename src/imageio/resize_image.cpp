// Resampling for model inputs: an integer box filter first when shrinking a lot (so a 4000-pixel
// photo does not alias into a 224-pixel input), then bilinear with half-pixel centres.
#include <algorithm>
#include <cmath>

#include "pipecut/error.h"
#include "pipecut/image.h"

namespace pipecut {

namespace {

// Averages factor x factor blocks (the last partial block over what it has).
Image box_shrink(const Image& in, int factor) {
  Image out;
  out.width = (in.width + factor - 1) / factor;
  out.height = (in.height + factor - 1) / factor;
  out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int64_t sum[3] = {0, 0, 0}, n = 0;
      for (int sy = y * factor; sy < std::min(in.height, (y + 1) * factor); ++sy) {
        for (int sx = x * factor; sx < std::min(in.width, (x + 1) * factor); ++sx) {
          const uint8_t* p = &in.rgb[(static_cast<size_t>(sy) * in.width + sx) * 3];
          for (int c = 0; c < 3; ++c) sum[c] += p[c];
          ++n;
        }
      }
      for (int c = 0; c < 3; ++c)
        out.rgb[(static_cast<size_t>(y) * out.width + x) * 3 + c] =
            static_cast<uint8_t>((sum[c] + n / 2) / n);
    }
  }
  return out;
}

}  // namespace

Image resize_image(const Image& image, int width, int height) {
  if (width <= 0 || height <= 0 || image.width <= 0 || image.height <= 0)
    throw Error("resize: empty image or size");
  if (image.width == width && image.height == height) return image;
  const int factor = std::min(image.width / width, image.height / height) / 2;
  const Image shrunk = factor >= 2 ? box_shrink(image, factor) : Image{};
  const Image& src = factor >= 2 ? shrunk : image;
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.resize(static_cast<size_t>(width) * height * 3);
  const double sx = static_cast<double>(src.width) / width;
  const double sy = static_cast<double>(src.height) / height;
  for (int y = 0; y < height; ++y) {
    const double fy = std::clamp((y + 0.5) * sy - 0.5, 0.0, src.height - 1.0);
    const int y0 = static_cast<int>(fy), y1 = std::min(y0 + 1, src.height - 1);
    const double wy = fy - y0;
    for (int x = 0; x < width; ++x) {
      const double fx = std::clamp((x + 0.5) * sx - 0.5, 0.0, src.width - 1.0);
      const int x0 = static_cast<int>(fx), x1 = std::min(x0 + 1, src.width - 1);
      const double wx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        const auto at = [&](int yy, int xx) {
          return static_cast<double>(src.rgb[(static_cast<size_t>(yy) * src.width + xx) * 3 + c]);
        };
        const double v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) +
                         wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
        out.rgb[(static_cast<size_t>(y) * width + x) * 3 + c] =
            static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return out;
}

}  // namespace pipecut
