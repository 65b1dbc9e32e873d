// sha256.h - SHA-256 digests (OpenSSL EVP) as lowercase hex, for findings, audit and quarantine.
// Stateless helpers plus an incremental hasher; all thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace avsink {

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Incremental SHA-256. One thread at a time per object.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256 &) = delete;  // owns an EVP_MD_CTX
  Sha256 &operator=(const Sha256 &) = delete;
  void update(std::string_view data);
  std::string final_hex();  // ends the digest; the object may not be updated again

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace avsink
