// crypto.h - quarantine cryptography: AES-256-GCM sections, HMAC-SHA256, random ids, key files.
// OpenSSL state is scoped to one call (RAII); nothing here keeps a key beyond its caller's copy.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace avsink::quarantine {

using Key = std::array<unsigned char, 32>;

inline constexpr size_t kNonceBytes = 12;  // GCM nonce, random per sealed section
inline constexpr size_t kTagBytes = 16;    // GCM tag
inline constexpr size_t kSealOverhead = kNonceBytes + kTagBytes;

// `n` bytes from OpenSSL's CSPRNG. Throws std::bad_alloc only if the CSPRNG is unusable (never
// expected after OpenSSL initialised). Thread-safe.
std::string random_bytes(size_t n);

// A fresh 128-bit id as 32 lowercase hex characters. Thread-safe.
std::string random_id();

// Lowercase hex of `data`; and back (nullopt-like: false when `hex` is not even-length hex).
std::string to_hex(std::string_view data);
bool from_hex(std::string_view hex, std::string *out);

// Reads a key file: exactly 32 raw bytes, or 64 hex characters (surrounding whitespace allowed).
// Refuses a file that others may read or anyone but the owner may write (like ssh does), and
// anything but a regular file of at most 256 bytes (read_regular_file: a FIFO never blocks).
// Errors: kConfig naming the file and the reason.
Result<Key> load_key_file(const std::string &path);

// Seals `plain` as nonce(12) || ciphertext || tag(16) with AES-256-GCM; `aad` is authenticated,
// not stored. Thread-safe. Throws std::bad_alloc when OpenSSL cannot allocate a context.
std::string seal(const Key &key, std::string_view plain, std::string_view aad);

// Opens what seal() produced. Errors: kIo "tampered" when the tag does not verify (wrong key,
// altered bytes, altered aad) or the input is too short.
Result<std::string> open_sealed(const Key &key, std::string_view sealed, std::string_view aad);

// AES-256-GCM over a stream: what seal()/open_sealed() do, fed in pieces, so a section of any
// size is processed with memory bounded by the piece. One thread at a time per object. Decrypted
// bytes are unauthenticated until finish_decrypt() succeeds: a caller must discard them otherwise.
// Throws std::bad_alloc when OpenSSL cannot allocate a context (as seal()).
class Gcm {
 public:
  enum class Mode { kEncrypt, kDecrypt };
  Gcm(Mode mode, const Key &key, std::string_view nonce12, std::string_view aad);
  ~Gcm();
  Gcm(const Gcm &) = delete;  // owns an EVP_CIPHER_CTX
  Gcm &operator=(const Gcm &) = delete;
  // Appends the transformed bytes of `in` (same length) to `out`.
  void update(std::string_view in, std::string *out);
  // Encrypt: the tag (16 bytes). Decrypt: checks `tag`; kIo "tampered: ..." when it fails.
  std::string finish_encrypt();
  Result<void> finish_decrypt(std::string_view tag);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// HMAC-SHA256(key, data) as raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Overwrites secret material before it is freed (OPENSSL_cleanse: not optimised away).
void wipe(Key *key);
void wipe(std::string *secret);

// Constant-time equality for secrets of equal public length (false when lengths differ).
bool equal_ct(std::string_view a, std::string_view b);

}  // namespace avsink::quarantine
