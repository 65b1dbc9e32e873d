// crypto.cpp - AES-256-GCM, HMAC-SHA256 and the CSPRNG through OpenSSL 3's EVP interfaces.
// Every context is freed on every path (unique_ptr with the EVP free function).
#include "quarantine/crypto.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <new>

#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/read_file.h"

namespace avsink::quarantine {

namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX *c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char *bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char *>(s.data());
}

}  // namespace

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char *>(out.data()), static_cast<int>(n)) != 1)
    throw std::bad_alloc();
  return out;
}

std::string random_id() {
  return to_hex(random_bytes(16));
}

std::string to_hex(std::string_view data) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(data.size() * 2, '0');
  for (size_t i = 0; i < data.size(); ++i) {
    auto b = static_cast<unsigned char>(data[i]);
    out[2 * i] = kHex[b >> 4];
    out[2 * i + 1] = kHex[b & 15];
  }
  return out;
}

bool from_hex(std::string_view hex, std::string *out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  std::string r(hex.size() / 2, '\0');
  for (size_t i = 0; i < r.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    r[i] = static_cast<char>(hi << 4 | lo);
  }
  *out = std::move(r);
  return true;
}

Result<Key> load_key_file(const std::string &path) {
  struct stat st {};
  // 256 bytes: 32 raw bytes or 64 hex digits with surrounding whitespace.
  auto read = read_regular_file(path, 256, &st);
  if (!read) {
    Error e = read.error();
    e.code = ErrorCode::kConfig;
    e.message = "key file: " + e.message;
    return e;
  }
  std::string buf = std::move(*read);
  if ((st.st_mode & (S_IRWXO | S_IWGRP)) != 0) {
    OPENSSL_cleanse(buf.data(), buf.size());
    return make_error(ErrorCode::kConfig,
                      "key file is accessible by others or writable by its group (chmod 600)",
                      path);
  }
  std::string_view data(buf);
  Key key{};
  if (data.size() == key.size()) {
    std::memcpy(key.data(), data.data(), key.size());
    OPENSSL_cleanse(buf.data(), buf.size());
    return key;
  }
  while (!data.empty() && std::isspace(static_cast<unsigned char>(data.back())))
    data.remove_suffix(1);
  while (!data.empty() && std::isspace(static_cast<unsigned char>(data.front())))
    data.remove_prefix(1);
  std::string raw;
  bool ok = data.size() == 64 && from_hex(data, &raw);
  OPENSSL_cleanse(buf.data(), buf.size());
  if (!ok)
    return make_error(ErrorCode::kConfig,
                      "key file must hold exactly 32 raw bytes or 64 hex characters", path);
  std::memcpy(key.data(), raw.data(), key.size());
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

struct Gcm::Ctx {
  CipherCtx c;
  Mode mode;
};

Gcm::Gcm(Mode mode, const Key &key, std::string_view nonce12, std::string_view aad)
    : ctx_(std::make_unique<Ctx>()) {
  ctx_->mode = mode;
  ctx_->c.reset(EVP_CIPHER_CTX_new());
  if (!ctx_->c || nonce12.size() != kNonceBytes) throw std::bad_alloc();
  EVP_CIPHER_CTX *c = ctx_->c.get();
  int len = 0;
  bool ok;
  if (mode == Mode::kEncrypt)
    ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
         EVP_EncryptInit_ex(c, nullptr, nullptr, key.data(), bytes(nonce12)) == 1 &&
         EVP_EncryptUpdate(c, nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1;
  else
    ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
         EVP_DecryptInit_ex(c, nullptr, nullptr, key.data(), bytes(nonce12)) == 1 &&
         EVP_DecryptUpdate(c, nullptr, &len, bytes(aad), static_cast<int>(aad.size())) == 1;
  if (!ok) throw std::bad_alloc();  // only reachable when OpenSSL itself is broken
}

Gcm::~Gcm() = default;

void Gcm::update(std::string_view in, std::string *out) {
  const size_t base = out->size();
  out->resize(base + in.size());
  auto *o = reinterpret_cast<unsigned char *>(out->data()) + base;
  // EVP takes int lengths: feed large inputs in pieces.
  size_t done = 0;
  while (done < in.size()) {
    size_t n = std::min<size_t>(in.size() - done, 1u << 30);
    int len = 0;
    int ok = ctx_->mode == Mode::kEncrypt
                 ? EVP_EncryptUpdate(ctx_->c.get(), o + done, &len, bytes(in) + done,
                                     static_cast<int>(n))
                 : EVP_DecryptUpdate(ctx_->c.get(), o + done, &len, bytes(in) + done,
                                     static_cast<int>(n));
    if (ok != 1) throw std::bad_alloc();
    done += n;
  }
}

std::string Gcm::finish_encrypt() {
  unsigned char tail[16];
  std::string tag(kTagBytes, '\0');
  int len = 0;
  if (EVP_EncryptFinal_ex(ctx_->c.get(), tail, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_->c.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag.data()) != 1)
    throw std::bad_alloc();
  return tag;
}

Result<void> Gcm::finish_decrypt(std::string_view tag) {
  unsigned char t[kTagBytes], tail[16];
  int len = 0;
  if (tag.size() != kTagBytes)
    return make_error(ErrorCode::kIo, "tampered: authentication tag missing");
  std::memcpy(t, tag.data(), kTagBytes);
  if (EVP_CIPHER_CTX_ctrl(ctx_->c.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, t) != 1 ||
      EVP_DecryptFinal_ex(ctx_->c.get(), tail, &len) != 1)
    return make_error(ErrorCode::kIo,
                      "tampered: authentication tag does not verify (altered bytes or wrong key)");
  return {};
}

std::string seal(const Key &key, std::string_view plain, std::string_view aad) {
  std::string out = random_bytes(kNonceBytes);
  out.reserve(kNonceBytes + plain.size() + kTagBytes);
  Gcm g(Gcm::Mode::kEncrypt, key, out, aad);
  g.update(plain, &out);
  out += g.finish_encrypt();
  return out;
}

Result<std::string> open_sealed(const Key &key, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < kSealOverhead)
    return make_error(ErrorCode::kIo, "tampered: sealed section too short");
  std::string out;
  out.reserve(sealed.size() - kSealOverhead);
  Gcm g(Gcm::Mode::kDecrypt, key, sealed.substr(0, kNonceBytes), aad);
  g.update(sealed.substr(kNonceBytes, sealed.size() - kSealOverhead), &out);
  if (auto r = g.finish_decrypt(sealed.substr(sealed.size() - kTagBytes)); !r) {
    OPENSSL_cleanse(out.data(), out.size());
    return r.error();
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(data), data.size(), md,
           &len) == nullptr)
    throw std::bad_alloc();
  return std::string(reinterpret_cast<char *>(md), len);
}

void wipe(Key *key) {
  OPENSSL_cleanse(key->data(), key->size());
}
void wipe(std::string *secret) {
  OPENSSL_cleanse(secret->data(), secret->size());
}

bool equal_ct(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace avsink::quarantine
