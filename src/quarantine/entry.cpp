// entry.cpp - encode/decode of quarantine entry files and their JSON metadata.
// decode_* never trust a length before checking it against the bytes actually present.
#include "quarantine/entry.h"

#include <algorithm>
#include <array>

#include "core/action.h"
#include "core/sha256.h"
#include "quarantine/fs_util.h"

namespace avsink::quarantine {

namespace {

constexpr char kMagic[4] = {'A', 'V', 'S', 'Q'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kFlagEncrypted = 1;

constexpr std::array<FindingKind, 6> kKinds = {
    FindingKind::kVirus, FindingKind::kUnscannable, FindingKind::kBannedAttachment,
    FindingKind::kRule,  FindingKind::kMalformed,   FindingKind::kEngineError};

std::optional<FindingKind> kind_from_string(std::string_view s) {
  for (FindingKind k : kKinds)
    if (to_string(k) == s) return k;
  return std::nullopt;
}

// Raw (binary) SHA-256 of `data`.
std::string sha256_raw(std::string_view data) {
  std::string hex = sha256_hex(data), raw;
  from_hex(hex, &raw);
  return raw;
}

std::string aad(std::string_view header, const std::string &id, std::string_view label) {
  std::string a(header);
  a += id;
  a += label;
  return a;
}

Error corrupt(const std::string &what) {
  return make_error(ErrorCode::kIo, "corrupt: " + what);
}
Error tampered(const std::string &what) {
  return make_error(ErrorCode::kIo, "tampered: " + what);
}

}  // namespace

bool valid_id(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

nlohmann::json meta_to_json(const EntryMeta &m) {
  using nlohmann::json;
  json env = {{"client_address", m.envelope.client_address},
              {"client_name", m.envelope.client_name},
              {"helo", m.envelope.helo},
              {"auth_user", m.envelope.auth_user},
              {"mail_from", m.envelope.mail_from},
              {"rcpt_to", m.envelope.rcpt_to},
              {"queue_id", m.envelope.queue_id}};
  json findings = json::array();
  for (const Finding &f : m.findings) {
    json jf = {{"kind", std::string(to_string(f.kind))},
               {"inspector", f.inspector},
               {"name", f.name},
               {"part_path", f.part_path},
               {"filename", f.filename},
               {"detail", f.detail},
               {"reply_text", f.reply_text}};
    jf["action"] = f.action ? json(std::string(to_string(*f.action))) : json(nullptr);
    findings.push_back(std::move(jf));
  }
  return json{{"format", 1},          {"id", m.id},
              {"time", m.time},       {"envelope", env},
              {"findings", findings}, {"action", m.action},
              {"reason", m.reason},   {"sha256", m.sha256},
              {"size", m.size},       {"encrypted", m.encrypted}};
}

Result<EntryMeta> meta_from_json(const nlohmann::json &j) {
  try {
    EntryMeta m;
    if (!j.is_object() || j.at("format").get<int>() != 1) return corrupt("unknown metadata format");
    m.id = j.at("id").get<std::string>();
    m.time = j.at("time").get<int64_t>();
    const auto &e = j.at("envelope");
    m.envelope.client_address = e.at("client_address").get<std::string>();
    m.envelope.client_name = e.at("client_name").get<std::string>();
    m.envelope.helo = e.at("helo").get<std::string>();
    m.envelope.auth_user = e.at("auth_user").get<std::string>();
    m.envelope.mail_from = e.at("mail_from").get<std::string>();
    m.envelope.rcpt_to = e.at("rcpt_to").get<std::vector<std::string>>();
    m.envelope.queue_id = e.at("queue_id").get<std::string>();
    for (const auto &jf : j.at("findings")) {
      Finding f;
      auto kind = kind_from_string(jf.at("kind").get<std::string>());
      if (!kind) return corrupt("unknown finding kind");
      f.kind = *kind;
      f.inspector = jf.at("inspector").get<std::string>();
      f.name = jf.at("name").get<std::string>();
      f.part_path = jf.at("part_path").get<std::string>();
      f.filename = jf.at("filename").get<std::string>();
      f.detail = jf.at("detail").get<std::string>();
      f.reply_text = jf.at("reply_text").get<std::string>();
      if (!jf.at("action").is_null()) {
        f.action = action_from_string(jf.at("action").get<std::string>());
        if (!f.action) return corrupt("unknown finding action");
      }
      m.findings.push_back(std::move(f));
    }
    m.action = j.at("action").get<std::string>();
    m.reason = j.at("reason").get<std::string>();
    m.sha256 = j.at("sha256").get<std::string>();
    m.size = j.at("size").get<uint64_t>();
    m.encrypted = j.at("encrypted").get<bool>();
    return m;
  } catch (const nlohmann::json::exception &ex) {
    return corrupt(std::string("metadata: ") + ex.what());
  }
}

Result<WrittenEntry> write_entry(const EntryMeta &meta, std::string_view message, const Key *key,
                                 const ByteSink &out) {
  EntryMeta m = meta;
  m.encrypted = key != nullptr;
  std::string json = meta_to_json(m).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const size_t meta_len = key ? json.size() + kSealOverhead : json.size();
  const uint64_t body_len = key ? message.size() + kSealOverhead : message.size();

  Sha256 signed_hash, all_hash;  // bytes before the final digest; every byte
  WrittenEntry w;
  auto emit = [&](std::string_view d) -> Result<void> {
    all_hash.update(d);
    w.size += d.size();
    return out(d);
  };
  auto emit_signed = [&](std::string_view d) -> Result<void> {
    signed_hash.update(d);
    return emit(d);
  };

  std::string head;
  head.append(kMagic, 4);
  head.push_back(static_cast<char>(kVersion));
  head.push_back(static_cast<char>(key ? kFlagEncrypted : 0));
  put_be(&head, 0, 2);
  put_be(&head, meta_len, 4);
  put_be(&head, body_len, 8);
  // Header, metadata section and its digest: one piece (the metadata digest covers just these).
  std::string prefix = head + (key ? seal(*key, json, aad(head, m.id, "meta")) : json);
  prefix += sha256_raw(prefix);
  if (auto r = emit_signed(prefix); !r) return r.error();
  prefix.clear();
  prefix.shrink_to_fit();

  std::string piece;
  if (key) {
    const std::string nonce = random_bytes(kNonceBytes);
    if (auto r = emit_signed(nonce); !r) return r.error();
    Gcm gcm(Gcm::Mode::kEncrypt, *key, nonce, aad(head, m.id, "body"));
    for (size_t off = 0; off < message.size(); off += kStreamPiece) {
      piece.clear();
      gcm.update(message.substr(off, kStreamPiece), &piece);
      if (auto r = emit_signed(piece); !r) return r.error();
    }
    if (auto r = emit_signed(gcm.finish_encrypt()); !r) return r.error();
  } else {
    for (size_t off = 0; off < message.size(); off += kStreamPiece)
      if (auto r = emit_signed(message.substr(off, kStreamPiece)); !r) return r.error();
  }
  std::string digest;
  from_hex(signed_hash.final_hex(), &digest);
  if (auto r = emit(digest); !r) return r.error();
  w.sha256 = all_hash.final_hex();
  return w;
}

std::string encode_entry(const EntryMeta &meta, std::string_view message, const Key *key) {
  std::string out;
  (void)write_entry(meta, message, key, [&](std::string_view d) -> Result<void> {
    out.append(d);
    return {};
  });
  return out;
}

Result<EntryHeader> decode_header(std::string_view h) {
  if (h.size() < kHeaderBytes) return corrupt("truncated header");
  if (h.substr(0, 4) != std::string_view(kMagic, 4)) return corrupt("not a quarantine entry");
  if (static_cast<uint8_t>(h[4]) != kVersion) return corrupt("unknown entry format version");
  auto flags = static_cast<uint8_t>(h[5]);
  if ((flags & ~kFlagEncrypted) != 0 || get_be(h, 6, 2) != 0) return corrupt("unknown flags");
  EntryHeader eh;
  eh.encrypted = (flags & kFlagEncrypted) != 0;
  eh.meta_len = static_cast<uint32_t>(get_be(h, 8, 4));
  eh.body_len = get_be(h, 12, 8);
  if (eh.meta_len > kMaxMetaBytes) return corrupt("metadata length out of range");
  if (eh.body_len > (uint64_t{1} << 40)) return corrupt("body length out of range");
  return eh;
}

Result<EntryMeta> decode_meta(std::string_view prefix, const std::string &expected_id,
                              const Key *key) {
  auto eh = decode_header(prefix);
  if (!eh) return eh.error();
  if (prefix.size() < kHeaderBytes + eh->meta_len + kDigestBytes) return corrupt("truncated");
  std::string_view signed_part = prefix.substr(0, kHeaderBytes + eh->meta_len);
  if (sha256_raw(signed_part) != prefix.substr(signed_part.size(), kDigestBytes))
    return tampered("metadata digest does not match");
  if (eh->encrypted && key == nullptr)
    return make_error(ErrorCode::kConfig, "entry is encrypted and no key file is configured");
  if (!eh->encrypted && key != nullptr)
    return tampered("unencrypted entry in a store that has an encryption key");
  std::string_view section = signed_part.substr(kHeaderBytes);
  std::string json_text;
  if (key) {
    auto plain =
        open_sealed(*key, section, aad(prefix.substr(0, kHeaderBytes), expected_id, "meta"));
    if (!plain) return plain.error();
    json_text = std::move(*plain);
  } else {
    json_text = std::string(section);
  }
  auto j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return corrupt("metadata is not JSON");
  auto meta = meta_from_json(j);
  if (!meta) return meta;
  if (meta->id != expected_id) return tampered("entry id does not match its file name");
  if (meta->encrypted != eh->encrypted) return tampered("encryption flag does not match");
  if (!eh->encrypted && meta->size != eh->body_len) return tampered("size does not match");
  if (eh->encrypted && meta->size + kSealOverhead != eh->body_len)
    return tampered("size does not match");
  return meta;
}

struct EntryReader::State {
  enum class Stage { kHeader, kMeta, kNonce, kBody, kTag, kDigest, kDone };
  std::string id;
  const Key *key = nullptr;
  ByteSink out;
  Stage stage = Stage::kHeader;
  std::string buf;  // the fixed-size part being collected
  std::string head;
  EntryHeader eh;
  std::optional<EntryMeta> meta;
  std::unique_ptr<Gcm> gcm;
  uint64_t body_left = 0;  // message bytes (plaintext) or ciphertext bytes still to come
  Sha256 signed_hash, all_hash, message_hash;
  uint64_t fed = 0, message_bytes = 0;
  std::string file_sha;
  std::optional<Error> failed;

  size_t want() const {
    switch (stage) {
      case Stage::kHeader:
        return kHeaderBytes;
      case Stage::kMeta:
        return eh.meta_len + kDigestBytes;
      case Stage::kNonce:
        return kNonceBytes;
      case Stage::kTag:
        return kTagBytes;
      case Stage::kDigest:
        return kDigestBytes;
      default:
        return 0;
    }
  }

  Result<void> body(std::string_view d) {
    std::string plain;
    std::string_view p = d;
    if (gcm) {
      gcm->update(d, &plain);
      p = plain;
    }
    message_hash.update(p);
    message_bytes += p.size();
    if (out) return out(p);
    return {};
  }

  // `buf` holds want() bytes of the current stage: act on them.
  Result<void> complete() {
    switch (stage) {
      case Stage::kHeader: {
        auto h = decode_header(buf);
        if (!h) return h.error();
        eh = *h;
        head = buf;
        stage = Stage::kMeta;
        return {};
      }
      case Stage::kMeta: {
        auto m = decode_meta(head + buf, id, key);
        if (!m) return m.error();
        meta = std::move(*m);
        if (eh.encrypted) {
          if (eh.body_len < kSealOverhead) return tampered("sealed section too short");
          body_left = eh.body_len - kSealOverhead;
          stage = Stage::kNonce;
        } else {
          body_left = eh.body_len;
          stage = body_left ? Stage::kBody : Stage::kDigest;
        }
        return {};
      }
      case Stage::kNonce:
        gcm = std::make_unique<Gcm>(Gcm::Mode::kDecrypt, *key, buf, aad(head, id, "body"));
        stage = body_left ? Stage::kBody : Stage::kTag;
        return {};
      case Stage::kTag: {
        if (auto r = gcm->finish_decrypt(buf); !r) return r;
        return end_of_body();
      }
      case Stage::kDigest: {
        std::string mine;
        from_hex(signed_hash.final_hex(), &mine);
        if (mine != buf) return tampered("file digest does not match");
        stage = Stage::kDone;
        return {};
      }
      default:
        return corrupt("internal reader state");
    }
  }

  Result<void> end_of_body() {
    if (message_bytes != meta->size || message_hash.final_hex() != meta->sha256)
      return tampered("message SHA-256 does not match its metadata");
    stage = Stage::kDigest;
    return {};
  }

  Result<void> feed(std::string_view d) {
    fed += d.size();
    while (!d.empty()) {
      if (stage == Stage::kDone) return corrupt("trailing bytes");
      if (stage == Stage::kBody) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(body_left, d.size()));
        signed_hash.update(d.substr(0, n));
        all_hash.update(d.substr(0, n));
        if (auto r = body(d.substr(0, n)); !r) return r;
        body_left -= n;
        d.remove_prefix(n);
        if (body_left == 0) {
          if (gcm) {
            stage = Stage::kTag;
          } else if (auto r = end_of_body(); !r) {
            return r;
          }
        }
        continue;
      }
      size_t n = std::min(want() - buf.size(), d.size());
      buf.append(d.substr(0, n));
      if (stage != Stage::kDigest) signed_hash.update(d.substr(0, n));
      all_hash.update(d.substr(0, n));
      d.remove_prefix(n);
      if (buf.size() == want()) {
        auto r = complete();
        buf.clear();
        if (!r) return r;
      }
    }
    return {};
  }
};

EntryReader::EntryReader(std::string expected_id, const Key *key, ByteSink message_out)
    : st_(std::make_unique<State>()) {
  st_->id = std::move(expected_id);
  st_->key = key;
  st_->out = std::move(message_out);
}

EntryReader::~EntryReader() = default;

Result<void> EntryReader::feed(std::string_view data) {
  if (st_->failed) return *st_->failed;
  auto r = st_->feed(data);
  if (!r) st_->failed = r.error();
  return r;
}

Result<EntryMeta> EntryReader::finish() {
  if (st_->failed) return *st_->failed;
  if (st_->stage != State::Stage::kDone) {
    st_->failed = corrupt("truncated");
    return *st_->failed;
  }
  st_->file_sha = st_->all_hash.final_hex();
  st_->stage = State::Stage::kDone;
  st_->failed = corrupt("finish() called twice");  // the hashes are spent
  return *st_->meta;
}

uint64_t EntryReader::bytes_fed() const {
  return st_->fed;
}

const std::string &EntryReader::file_sha256() const {
  return st_->file_sha;
}

Result<DecodedEntry> decode_entry(std::string_view file, const std::string &expected_id,
                                  const Key *key) {
  DecodedEntry out;
  EntryReader reader(expected_id, key, [&](std::string_view d) -> Result<void> {
    out.message.append(d);
    return {};
  });
  auto fail = [&](Error e) -> Result<DecodedEntry> {
    wipe(&out.message);
    return e;
  };
  if (auto r = reader.feed(file); !r) return fail(r.error());
  auto meta = reader.finish();
  if (!meta) return fail(meta.error());
  out.meta = std::move(*meta);
  return out;
}

}  // namespace avsink::quarantine
