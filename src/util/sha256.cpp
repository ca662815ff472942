#include <openssl/evp.h>

#include <memory>

#include "pipecut/error.h"
#include "pipecut/files.h"
#include "util/hex.h"

namespace pipecut {

std::string sha256_hex(std::span<const uint8_t> bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw Error("sha256: OpenSSL digest failed");
  }
  return lower_hex(digest, length);
}

}  // namespace pipecut
