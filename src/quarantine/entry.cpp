// entry.cpp - encode/decode of quarantine entry files and their JSON metadata.
// decode_* never trust a length before checking it against the bytes actually present.
#include "quarantine/entry.h"

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

std::string encode_entry(const EntryMeta &meta, std::string_view message, const Key *key) {
  EntryMeta m = meta;
  m.encrypted = key != nullptr;
  std::string json = meta_to_json(m).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  size_t meta_len = key ? json.size() + kSealOverhead : json.size();
  size_t body_len = key ? message.size() + kSealOverhead : message.size();

  std::string out;
  out.reserve(kHeaderBytes + meta_len + kDigestBytes + body_len + kDigestBytes);
  out.append(kMagic, 4);
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(key ? kFlagEncrypted : 0));
  put_be(&out, 0, 2);
  put_be(&out, meta_len, 4);
  put_be(&out, body_len, 8);
  std::string header = out;
  if (key)
    out += seal(*key, json, aad(header, m.id, "meta"));
  else
    out += json;
  out += sha256_raw(out);
  if (key)
    out += seal(*key, message, aad(header, m.id, "body"));
  else
    out.append(message);
  out += sha256_raw(out);
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

Result<DecodedEntry> decode_entry(std::string_view file, const std::string &expected_id,
                                  const Key *key) {
  auto eh = decode_header(file);
  if (!eh) return eh.error();
  if (file.size() != eh->file_size())
    return corrupt(file.size() < eh->file_size() ? "truncated" : "trailing bytes");
  std::string_view signed_all = file.substr(0, file.size() - kDigestBytes);
  if (sha256_raw(signed_all) != file.substr(signed_all.size()))
    return tampered("file digest does not match");
  auto meta = decode_meta(file, expected_id, key);
  if (!meta) return meta.error();
  std::string_view body = file.substr(kHeaderBytes + eh->meta_len + kDigestBytes, eh->body_len);
  DecodedEntry out;
  if (key) {
    auto plain = open_sealed(*key, body, aad(file.substr(0, kHeaderBytes), expected_id, "body"));
    if (!plain) return plain.error();
    out.message = std::move(*plain);
  } else {
    out.message = std::string(body);
  }
  if (out.message.size() != meta->size || sha256_hex(out.message) != meta->sha256)
    return tampered("message SHA-256 does not match its metadata");
  out.meta = std::move(*meta);
  return out;
}

}  // namespace avsink::quarantine
