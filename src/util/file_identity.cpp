#include "util/file_identity.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "pipecut/error.h"

namespace pipecut {

FileIdentity file_identity(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    throw Error(path.string() + ": cannot read (" + std::strerror(errno) + ")");
  return {info.st_dev, info.st_ino};
}

}  // namespace pipecut
