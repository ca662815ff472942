#include "cli/picture_files.h"

#include <algorithm>
#include <cctype>

#include "pipecut/error.h"

namespace pipecut::cli {

std::vector<std::filesystem::path> pictures(const std::vector<std::string>& paths) {
  std::vector<std::filesystem::path> out;
  for (const auto& p : paths) {
    if (!std::filesystem::is_directory(p)) {
      out.emplace_back(p);
      continue;
    }
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(p)) {
      std::string ext = entry.path().extension().string();
      for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp")
        found.push_back(entry.path());
    }
    if (found.empty()) throw Error(p + ": no JPEG, PNG or BMP pictures in this folder");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace pipecut::cli
