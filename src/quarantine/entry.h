// entry.h - one quarantine entry: its metadata and the on-disk file format (encode / decode).
// An entry file is self-describing and self-verifying: header, metadata, digests, optional AES-GCM.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/envelope.h"
#include "core/finding.h"
#include "core/result.h"
#include "quarantine/crypto.h"

namespace avsink::quarantine {

// What the store keeps about a message besides its bytes. On put(), the store fills id, sha256,
// size and encrypted itself, and time when it is 0.
struct EntryMeta {
  std::string id;          // 32 lowercase hex characters (128 random bits)
  int64_t time = 0;        // quarantine time, Unix seconds UTC
  Envelope envelope;       // as the MTA reported it
  Findings findings;       // every finding of the scan
  std::string action;      // the verdict's action name ("quarantine", "rewrite", ...)
  std::string reason;      // the verdict's reason text
  std::string sha256;      // lowercase hex SHA-256 of the message bytes
  uint64_t size = 0;       // message bytes
  bool encrypted = false;  // stored with AES-256-GCM
};

// True for exactly 32 lowercase hex characters: the only ids the store accepts, so an id can never
// name a path outside the store ("../x", "/etc/passwd", "", upper case, ... are all refused).
bool valid_id(std::string_view id);

// Metadata <-> JSON (the "meta" section of an entry file, and `avsink quarantine list --json`).
// Strings that are not UTF-8 are stored with U+FFFD replacements. meta_from_json: kIo on a
// missing or mistyped field.
nlohmann::json meta_to_json(const EntryMeta &meta);
Result<EntryMeta> meta_from_json(const nlohmann::json &j);

// ---- the entry file (format version 1; all integers big-endian) ----
//   offset 0   4  magic "AVSQ"
//          4   1  version = 1
//          5   1  flags: bit 0 = encrypted (AES-256-GCM); other bits 0
//          6   2  reserved = 0
//          8   4  M = length of the meta section
//         12   8  B = length of the body section
//         20   M  meta section: UTF-8 JSON (meta_to_json), or sealed(JSON)
//       20+M  32  SHA-256 of bytes [0, 20+M)          (lets list() check metadata alone)
//       52+M   B  body section: the message bytes, or sealed(message)
//     52+M+B  32  SHA-256 of bytes [0, 52+M+B)        (whole-file check: truncation, bit rot)
// sealed(x) = nonce(12) || AES-256-GCM ciphertext of x || tag(16), with additional authenticated
// data = header bytes [0, 20) || id (32 ASCII) || "meta" or "body"; so a section cannot be moved
// to another entry or another position without the tag failing.
inline constexpr size_t kHeaderBytes = 20;
inline constexpr size_t kDigestBytes = 32;
inline constexpr uint32_t kMaxMetaBytes = 64u << 20;

struct EntryHeader {
  bool encrypted = false;
  uint32_t meta_len = 0;
  uint64_t body_len = 0;
  uint64_t file_size() const { return kHeaderBytes + meta_len + kDigestBytes + body_len + 32; }
};

// Takes bytes handed over in pieces (entry files, messages, archives). Errors stop the producer.
using ByteSink = std::function<Result<void>(std::string_view)>;

// The piece size of every streamed read and write of an entry: what the store holds in memory
// besides the caller's own message.
inline constexpr size_t kStreamPiece = size_t{1} << 20;

// Writes the entry file for `message` to `out` in pieces of at most kStreamPiece bytes (the
// metadata section may be larger): besides `message`, memory holds one piece and the metadata.
// `meta` must carry id, sha256 and size; `key` null = plaintext. Returns the file's size and
// lowercase hex SHA-256. Errors: whatever `out` returns. Thread-safe.
struct WrittenEntry {
  uint64_t size = 0;
  std::string sha256;
};
Result<WrittenEntry> write_entry(const EntryMeta &meta, std::string_view message, const Key *key,
                                 const ByteSink &out);

// Builds the complete entry file (write_entry into one string). `meta` must already carry id,
// sha256 and size; `key` null = plaintext. Thread-safe.
std::string encode_entry(const EntryMeta &meta, std::string_view message, const Key *key);

// Parses the fixed header. Errors: kIo "corrupt: ..." (bad magic, version, flags, sizes).
Result<EntryHeader> decode_header(std::string_view header20);

// Decodes the metadata from header || meta section || meta digest (the first
// 20 + meta_len + 32 bytes of the file). `expected_id` must equal the id inside.
// Errors: kIo "corrupt: ..." or "tampered: ..."; kConfig when the entry is encrypted and no key
// is given, or is plaintext although the store has a key.
Result<EntryMeta> decode_meta(std::string_view prefix, const std::string &expected_id,
                              const Key *key);

// Decodes and fully verifies a whole entry file: both digests, both GCM tags, the id, the
// message's size and SHA-256. Errors as decode_meta, plus kIo "tampered: ..." on any mismatch.
struct DecodedEntry {
  EntryMeta meta;
  std::string message;
};
Result<DecodedEntry> decode_entry(std::string_view file, const std::string &expected_id,
                                  const Key *key);

// Decodes and verifies an entry file fed in pieces of any size, with memory bounded by the
// largest piece plus the metadata (the checks of decode_entry, in file order). The message goes
// to `message_out` (null: checked, not kept) as it is decrypted; those bytes are not yet
// authenticated: a caller must discard them unless finish() succeeds. feed() fails at the first
// bad byte it can judge (header, metadata digest, tag, message digest, trailing bytes); after a
// failure every call returns that error. One thread at a time per object.
class EntryReader {
 public:
  EntryReader(std::string expected_id, const Key *key, ByteSink message_out = nullptr);
  ~EntryReader();
  EntryReader(const EntryReader &) = delete;
  EntryReader &operator=(const EntryReader &) = delete;
  Result<void> feed(std::string_view data);
  // After the last byte: kIo "corrupt: truncated" when the file ended early, else the metadata.
  Result<EntryMeta> finish();
  uint64_t bytes_fed() const;
  // SHA-256 (lowercase hex) of every byte fed; valid after a successful finish().
  const std::string &file_sha256() const;

 private:
  struct State;
  std::unique_ptr<State> st_;
};

}  // namespace avsink::quarantine
