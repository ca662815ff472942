#include "pipecut/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <random>

#include "pipecut/error.h"

namespace pipecut {
namespace fs = std::filesystem;

std::vector<uint8_t> read_file(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error(path.string() + ": is a folder, not a file");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  if (size < 0) throw Error(path.string() + ": cannot read its size");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw Error(path.string() + ": read failed");
  }
  return bytes;
}

std::shared_ptr<const MappedFile> MappedFile::open(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error(path.string() + ": is a folder, not a file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    throw Error(path.string() + ": cannot read its size: " + reason);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path.string() + ": not a regular file");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {  // mmap refuses zero bytes; an empty file has nothing to map
    ::close(fd);
    return std::shared_ptr<const MappedFile>(new MappedFile(nullptr, 0));
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const std::string reason = p == MAP_FAILED ? std::strerror(errno) : "";
  ::close(fd);  // the mapping keeps the file
  if (p == MAP_FAILED) throw Error(path.string() + ": cannot map: " + reason);
  return std::shared_ptr<const MappedFile>(new MappedFile(static_cast<const uint8_t*>(p), size));
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

namespace {

// A name no other writer uses, beside the target so the rename stays on one file system.
fs::path temporary_beside(const fs::path& path) {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  std::string name = ".";  // appended piece by piece: g++ 12 warns falsely on chained +
  name += path.filename().string();
  name += ".tmp-";
  name += std::to_string(::getpid());
  name += '-';
  name += std::to_string(counter++);
  name += '-';
  name += std::to_string(rd() & 0xffffu);
  return path.parent_path() / name;
}

void write_all(int fd, const uint8_t* data, size_t size, const fs::path& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(path.string() + ": write failed: " + std::strerror(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Writes the pieces in order with as few writev calls as the kernel allows (IOV_MAX pieces per
// call; a short write resumes inside the piece it stopped in).
void write_all(int fd, std::span<const std::span<const uint8_t>> pieces, const fs::path& path) {
  std::vector<iovec> iov;
  iov.reserve(pieces.size());
  for (const auto& p : pieces) {
    if (!p.empty()) iov.push_back({const_cast<uint8_t*>(p.data()), p.size()});
  }
  size_t next = 0;
  while (next < iov.size()) {
    const int count = static_cast<int>(std::min<size_t>(iov.size() - next, IOV_MAX));
    ssize_t n = ::writev(fd, iov.data() + next, count);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw Error(path.string() +
                  ": write failed: " + (n < 0 ? std::strerror(errno) : "nothing written"));
    }
    while (n > 0 && next < iov.size()) {
      iovec& v = iov[next];
      const size_t used = std::min(v.iov_len, static_cast<size_t>(n));
      v.iov_base = static_cast<uint8_t*>(v.iov_base) + used;
      v.iov_len -= used;
      n -= static_cast<ssize_t>(used);
      if (v.iov_len == 0) ++next;
    }
  }
}

// Creates a temporary beside `path`, lets `fill` write it, then renames it into place.
template <typename Fill>
void write_atomically(const fs::path& path, const Fill& fill) {
  const fs::path tmp = temporary_beside(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path.string() + ": cannot create: " + std::strerror(errno));
  try {
    fill(fd);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {  // closed either way; a failure may mean the data never reached disk
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path.string() + ": close failed: " + reason);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path.string() + ": cannot rename into place: " + reason);
  }
}

}  // namespace

void write_file_atomic(const fs::path& path, std::span<const uint8_t> bytes) {
  write_atomically(path, [&](int fd) { write_all(fd, bytes.data(), bytes.size(), path); });
}

void write_file_atomic(const fs::path& path, std::span<const std::span<const uint8_t>> pieces) {
  write_atomically(path, [&](int fd) { write_all(fd, pieces, path); });
}

void write_file_atomic(const fs::path& path, std::string_view text) {
  write_file_atomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace pipecut
