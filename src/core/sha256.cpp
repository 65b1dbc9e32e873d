// sha256.cpp - SHA-256 through OpenSSL's EVP interface.
// Allocation failure inside OpenSSL throws std::bad_alloc (caught at the C ABI boundary).
#include "core/sha256.h"

#include <new>

#include <openssl/evp.h>

namespace avsink {

namespace {
std::string to_hex(const unsigned char *p, unsigned n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (unsigned i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}
}  // namespace

struct Sha256::Ctx {
  EVP_MD_CTX *md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
    throw std::bad_alloc();
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

std::string Sha256::final_hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx_->md, digest, &len);
  return to_hex(digest, len);
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.final_hex();
}

}  // namespace avsink
