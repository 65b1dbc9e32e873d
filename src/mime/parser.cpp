// parser.cpp - turns raw RFC 5322 bytes into a MessageTree with an explicit stack (no recursion).
// Bounded by Limits; malformed input yields a Finding, never an exception out of parse_message().
#include "mime/parser.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mime/decode.h"
#include "mime/entity.h"
#include "mime/header_words.h"
#include "mime/multipart.h"
#include "mime/readings.h"
#include "util/text.h"

namespace avsink::mime {
namespace {

// Alternate readings (PartOrigin::kAlternate entities) per message; past it: unscannable
// ("Limits.Exceeded.Alternates"). Ordinary mail has none; each reading also counts against
// max_parts.
constexpr size_t kMaxAltReadingsPerMessage = 128;
// Distinct "--X" delimiter-like lines examined per entity; past it: unscannable.
constexpr size_t kMaxDelimiterCandidates = 4096;

// One entity waiting to be parsed.
struct Work {
  std::string_view bytes;  // header + body of the entity
  // When not empty: a same-length copy of the header block of `bytes` that is scanned instead
  // (the bare-CR reading: its lone CRs are line ends). The body still comes from `bytes`.
  std::string_view header_copy;
  uint64_t raw_offset = 0;  // where `bytes` sits in the raw message (or the anchor, see below)
  uint64_t raw_length = 0;
  bool in_raw = true;  // false: `bytes` is a decoded buffer (an encoded message/rfc822 body);
                       // raw_offset/raw_length then name the encoded body it came from
  std::string path;
  int parent = -1;
  uint32_t depth = 0;
  uint32_t rfc822_depth = 0;
  bool digest_child = false;
  bool top = false;  // the message itself, or an alternate reading of it (mbox "From " allowed)
  bool message_root = false;  // the message itself, or the message a message/* part carries
  PartOrigin origin = PartOrigin::kMime;  // kAlternate for an alternate reading and all below it
  bool has_reading = false;               // `reading` replaces what the fields say
  AltReading reading;
  // When not npos: the header block ends here (a reading that ends it at a whitespace-only line).
  size_t header_end = std::string_view::npos;
};

// Bare CRs (not followed by LF) in `s`.
bool has_bare_cr(std::string_view s) {
  for (size_t i = s.find('\r'); i != std::string_view::npos; i = s.find('\r', i + 1))
    if (i + 1 >= s.size() || s[i + 1] != '\n') return true;
  return false;
}

// Replaces every bare CR in *s by LF (same length, so offsets keep their meaning).
void bare_cr_to_lf(std::string *s) {
  for (size_t i = 0; i < s->size(); ++i)
    if ((*s)[i] == '\r' && (i + 1 >= s->size() || (*s)[i + 1] != '\n')) (*s)[i] = '\n';
}

// A message (or decoded message/rfc822 body) with CR-only line ends (HOSTILE #31).
bool cr_only_lines(std::string_view s) {
  return s.find('\n') == std::string_view::npos && s.find('\r') != std::string_view::npos;
}

// Does `body` hold something after its first empty line (a header block and then a body)?
bool has_body_after_header_block(std::string_view body) {
  for (size_t at = 0; at < body.size();) {
    const size_t eol = body.find('\n', at);
    if (eol == std::string_view::npos) return false;
    const std::string_view line = body.substr(at, eol - at);
    at = eol + 1;
    if (line.empty() || line == "\r") {
      return body.substr(at).find_first_not_of(" \t\r\n") != std::string_view::npos;
    }
  }
  return false;
}

bool is_message_type(const std::string &type, const std::string &subtype) {
  return type == "message" && (subtype == "rfc822" || subtype == "global");
}

// Where the MIME entities a text holds start: the first line of each header block (field lines
// and their continuations, ended by an empty line) that has a Content-Type field naming a
// multipart, a message, a boundary or a name, a Content-Transfer-Encoding other than identity,
// or a Content-Disposition naming an attachment or a name. At most `max`. Linear; a text with
// no "content-" in either case costs two memmem calls.
std::vector<size_t> embedded_entities(std::string_view text, size_t max) {
  std::vector<size_t> out;
  if (text.find("ontent-") == std::string_view::npos &&
      text.find("ONTENT-") == std::string_view::npos)
    return out;
  size_t block = std::string_view::npos;  // start of the current run of field lines
  bool qualifies = false, last_was_field = false;
  for (size_t pos = 0; pos < text.size() && out.size() < max;) {
    const size_t nl = text.find('\n', pos);
    const size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = text.substr(pos, next - pos);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    const size_t here = pos;
    pos = next;
    if (line.empty()) {
      if (block != std::string_view::npos && qualifies) out.push_back(block);
      block = std::string_view::npos;
      qualifies = last_was_field = false;
      continue;
    }
    if ((line[0] == ' ' || line[0] == '\t') && last_was_field) continue;  // a continuation
    size_t colon = 0;
    while (colon < line.size() && (std::isalnum(static_cast<unsigned char>(line[colon])) ||
                                   line[colon] == '-' || line[colon] == '_'))
      ++colon;
    if (colon == 0 || colon >= line.size() || line[colon] != ':') {
      block = std::string_view::npos;
      qualifies = last_was_field = false;
      continue;
    }
    if (block == std::string_view::npos) block = here;
    last_was_field = true;
    const std::string name = util::ascii_lower(line.substr(0, colon));
    const std::string value = util::ascii_lower(line.substr(colon + 1));
    auto has = [&value](std::string_view x) { return value.find(x) != std::string::npos; };
    if (name == "content-type")
      qualifies |= has("multipart") || has("message/") || has("boundary") || has("name");
    else if (name == "content-transfer-encoding") {
      const TransferEncoding te = classify_transfer_encoding(normalize_token(value));
      qualifies |= te != TransferEncoding::kIdentity && te != TransferEncoding::kUnknown;
    } else if (name == "content-disposition") {
      qualifies |= has("attachment") || has("name");
    }
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view raw, const Limits &limits, const Deadline &deadline)
      : raw_(raw), lim_(limits), deadline_(deadline), decoded_limit_(decoded_limit(raw, limits)) {}

  MessageTree run() {
    Work root;
    root.bytes = raw_;
    root.raw_length = raw_.size();
    root.path = "1";
    root.top = true;
    root.message_root = true;
    if (cr_only_lines(raw_)) {
      // No LF at all: every CR is a line end (old Mac). Same length, so offsets still hold.
      // An oversized message is only read for its header: copy no more than that needs.
      const size_t n = raw_.size() > lim_.max_message_bytes
                           ? std::min<size_t>(raw_.size(), lim_.max_header_bytes + 1024u)
                           : raw_.size();
      cr_copy_.assign(raw_.data(), n);
      bare_cr_to_lf(&cr_copy_);
      root.bytes = cr_copy_;
      malformed("MIME.Malformed.BareCR", "1", "CR-only line ends: read each CR as a line end");
    }
    if (raw_.size() > lim_.max_message_bytes) {
      unscannable("MessageBytes", "",
                  "message of " + std::to_string(raw_.size()) +
                      " bytes exceeds max_message_bytes " + std::to_string(lim_.max_message_bytes));
      headers_only_ = true;
    }
    stack_.push_back(std::move(root));
    while (!stack_.empty()) {
      if (!tree_.parts.empty() && deadline_.expired()) {  // the top-level entity is always read
        unscannable("ScanTime", "", "scan deadline passed during MIME parsing");
        break;
      }
      Work w = std::move(stack_.back());
      stack_.pop_back();
      process(w);
    }
    return std::move(tree_);
  }

 private:
  void add(FindingKind kind, std::string name, const std::string &path, std::string detail) {
    if (!seen_.insert(name + "\n" + path).second) return;
    Finding f;
    f.kind = kind;
    f.inspector = "mime";
    f.name = std::move(name);
    f.part_path = path;
    f.detail = std::move(detail);
    // Findings are reported while their part is the current or the newest one: O(1) lookup.
    for (size_t i : {cur_, tree_.parts.size() - 1}) {
      if (i < tree_.parts.size() && tree_.parts[i].path == path &&
          !tree_.parts[i].filenames.empty()) {
        f.filename = tree_.parts[i].filenames[0];
        break;
      }
    }
    tree_.findings.push_back(std::move(f));
  }
  void unscannable(const std::string &what, const std::string &path, std::string detail) {
    add(FindingKind::kUnscannable, "Limits.Exceeded." + what, path, std::move(detail));
  }
  void malformed(const std::string &name, const std::string &path, std::string detail) {
    add(FindingKind::kMalformed, name, path, std::move(detail));
  }

  // How many more parts may still be created (pending stack entries count as created).
  size_t parts_budget() const {
    size_t used = tree_.parts.size() + stack_.size();
    return used >= lim_.max_parts ? 0 : lim_.max_parts - used;
  }

  // All decoded bodies together: max_decoded_bytes, or max_decoded_percent of the message size +
  // kDecodedFloorBytes when that is less.
  static uint64_t decoded_limit(std::string_view raw, const Limits &lim) {
    const uint64_t percent = lim.max_decoded_percent;
    const uint64_t by_size = raw.size() > lim.max_decoded_bytes
                                 ? lim.max_decoded_bytes
                                 : raw.size() * percent / 100 + kDecodedFloorBytes;
    return std::min(lim.max_decoded_bytes, by_size);
  }
  std::string decoded_limit_text() const {
    return decoded_limit_ == lim_.max_decoded_bytes
               ? "max_decoded_bytes " + std::to_string(lim_.max_decoded_bytes)
               : std::to_string(decoded_limit_) + " bytes (max_decoded_percent " +
                     std::to_string(lim_.max_decoded_percent) + " of the message size + 8 MiB)";
  }

  // Bytes the next decoded body may take, and which limit bounds it.
  uint64_t decode_cap(bool *file_bound) const {
    uint64_t total_left =
        tree_.decoded_bytes >= decoded_limit_ ? 0 : decoded_limit_ - tree_.decoded_bytes;
    *file_bound = lim_.max_file_bytes <= total_left;
    return *file_bound ? lim_.max_file_bytes : total_left;
  }

  // Decodes `in` into *out under the file/decoded caps; reports problems for `path`.
  // `uu_lines`: `in` is the data of one uuencode block (no "begin" line to look for).
  DecodeStatus decode_capped(TransferEncoding te, std::string_view in, std::string *out,
                             const std::string &path, bool uu_lines = false,
                             DecodeDialect dialect = DecodeDialect::kDefault) {
    bool file_bound = false;
    uint64_t cap = decode_cap(&file_bound);
    DecodeStatus st = uu_lines ? decode_uuencode_lines(in, cap, out, &deadline_)
                               : decode_transfer_dialect(te, dialect, in, cap, out, &deadline_);
    if (st.timed_out)
      unscannable("ScanTime", path, "scan deadline passed while decoding; the rest is unread");
    if (st.truncated) {
      if (file_bound)
        unscannable("FileBytes", path,
                    "decoded part exceeds max_file_bytes " + std::to_string(lim_.max_file_bytes));
      else
        unscannable("DecodedBytes", path, "decoded bodies exceed " + decoded_limit_text());
    }
    tree_.decoded_bytes += out->size();
    return st;
  }

  // The same entity bytes read the same way were already parsed (an alternate reading's child
  // that equals a primary child): its parts and readings are all in the tree already.
  bool already_parsed(const Work &w) {
    std::string key;
    auto add_num = [&key](uint64_t v) { key.append(reinterpret_cast<const char *>(&v), sizeof v); };
    add_num(reinterpret_cast<uintptr_t>(w.bytes.data()));
    add_num(w.bytes.size());
    add_num(reinterpret_cast<uintptr_t>(w.header_copy.data()));
    add_num(w.header_end);
    add_num(w.digest_child ? 1 : 0);
    if (w.has_reading) {
      const AltReading &r = w.reading;
      key += r.type + "/" + r.subtype + "\n" + r.boundary + "\n" + r.transfer_encoding + "\n";
      add_num(r.prefix ? 1 : 0);
      add_num(static_cast<uint64_t>(r.dialect));
    }
    return !parsed_.insert(std::move(key)).second;
  }

  void process(Work &w) {
    if (w.origin == PartOrigin::kAlternate && already_parsed(w)) return;
    if (w.origin != PartOrigin::kAlternate) already_parsed(w);  // remember it
    const int idx = static_cast<int>(tree_.parts.size());
    cur_ = tree_.parts.size();
    tree_.parts.emplace_back();
    {
      Part &p = tree_.parts.back();
      p.path = w.path;
      p.depth = w.depth;
      p.parent = w.parent;
      p.origin = w.origin;
      p.raw_offset = w.raw_offset;
      p.raw_length = w.raw_length;
    }
    const std::string path = w.path;

    const std::string_view header_src = w.header_copy.empty() ? w.bytes : w.header_copy;
    HeaderScan hs = scan_headers(
        w.header_end == std::string_view::npos ? header_src : header_src.substr(0, w.header_end),
        w.top, lim_);
    if (w.header_end != std::string_view::npos) hs.body_offset = w.header_end;
    EntityInfo info = analyze_entity(hs.fields, w.digest_child, lim_.max_params);
    if (w.has_reading) {
      info.type = w.reading.type;
      info.subtype = w.reading.subtype;
      info.boundary = w.reading.boundary;
      info.transfer_encoding = w.reading.transfer_encoding;
      info.alternates.clear();
      info.problems.clear();  // already reported on the primary reading
      hs.problems.clear();
    }
    {
      Part &p = tree_.parts[static_cast<size_t>(idx)];
      p.media_type = info.media_type();
      p.transfer_encoding = info.transfer_encoding;
      p.charset = info.charset;
      p.disposition = info.disposition;
      p.filename_raw = info.filename_raw;
      p.filenames = info.filenames;
      p.headers = std::move(hs.fields);
    }
    for (const auto &prob : hs.problems) malformed(prob, path, "header block: " + prob);
    for (const auto &prob : info.problems) malformed(prob, path, "MIME fields: " + prob);
    bool limited = false;
    if (hs.fields_exceeded) {
      limited = true;
      unscannable("HeaderFields", path,
                  "more than max_header_fields " + std::to_string(lim_.max_header_fields) +
                      " header fields");
    }
    if (hs.bytes_exceeded) {
      limited = true;
      unscannable(
          "HeaderBytes", path,
          "header block longer than max_header_bytes " + std::to_string(lim_.max_header_bytes));
    }
    if (info.params_exceeded) {
      limited = true;
      unscannable("Params", path,
                  "more than max_params " + std::to_string(lim_.max_params) + " parameters");
    }
    if (headers_only_) return;

    std::string_view body = w.bytes.substr(hs.body_offset);
    const uint64_t body_raw_offset = w.in_raw ? w.raw_offset + hs.body_offset : w.raw_offset;
    const bool is_multipart = info.type == "multipart";
    const bool is_message = is_message_type(info.type, info.subtype);
    const DashLines lines(body);  // found once, read by every split of this body below
    if (!limited) plan_alternates(w, idx, hs, info, lines);

    if (is_multipart) {
      if (info.boundary.empty() && !(w.has_reading && w.reading.empty_boundary)) {
        malformed("MIME.Malformed.NoBoundary", path, "multipart without a boundary parameter");
      } else if (info.boundary.size() > lim_.max_boundary_length) {
        tree_.parts[static_cast<size_t>(idx)].is_multipart = true;
        unscannable("BoundaryLength", path,
                    "boundary of " + std::to_string(info.boundary.size()) +
                        " bytes exceeds max_boundary_length " +
                        std::to_string(lim_.max_boundary_length));
        return;
      } else if (limited) {
        tree_.parts[static_cast<size_t>(idx)].is_multipart = true;
        return;
      } else if (w.depth + 1 > lim_.max_mime_depth) {
        tree_.parts[static_cast<size_t>(idx)].is_multipart = true;
        unscannable(
            "Depth", path,
            "MIME nesting deeper than max_mime_depth " + std::to_string(lim_.max_mime_depth));
        return;
      } else {
        MultipartSplit split = split_multipart(lines, info.boundary, parts_budget(),
                                               w.has_reading && w.reading.prefix);
        if (!split.found_start) {
          malformed("MIME.Malformed.BoundaryNotFound", path,
                    "no delimiter line for boundary \"" + info.boundary + "\"");
        } else {
          split_into_children(w, idx, info, body, body_raw_offset, split);
          return;
        }
      }
      // Fall through: the multipart is read as one leaf (as Python and most MUAs do).
    } else if (is_message) {
      tree_.parts[static_cast<size_t>(idx)].is_message = true;
      if (limited) return;
      if (w.depth + 1 > lim_.max_mime_depth || w.rfc822_depth + 1 > lim_.max_rfc822_depth) {
        unscannable(
            "Depth", path,
            w.depth + 1 > lim_.max_mime_depth
                ? "MIME nesting deeper than max_mime_depth " + std::to_string(lim_.max_mime_depth)
                : "message/rfc822 nesting deeper than max_rfc822_depth " +
                      std::to_string(lim_.max_rfc822_depth));
        return;
      }
      if (parts_budget() == 0) {
        unscannable("Parts", "",
                    "more than max_parts " + std::to_string(lim_.max_parts) + " parts");
        return;
      }
      Work child;
      child.path = path + ".1";
      child.parent = idx;
      child.depth = w.depth + 1;
      child.rfc822_depth = w.rfc822_depth + 1;
      child.message_root = true;
      child.origin = w.origin;
      child.raw_offset = body_raw_offset;
      child.raw_length = body.size();
      child.in_raw = w.in_raw;
      TransferEncoding te = classify_transfer_encoding(info.transfer_encoding);
      if (te == TransferEncoding::kIdentity || te == TransferEncoding::kUnknown) {
        child.bytes = body;
      } else {
        // Not allowed by RFC 2046, but attackers do it: decode, then parse what it hides.
        malformed("MIME.Malformed.EncodedMessage", path,
                  "message/* body with Content-Transfer-Encoding " + info.transfer_encoding);
        arena_.emplace_back();
        decode_capped(te, body, &arena_.back(), path);
        if (cr_only_lines(arena_.back())) {
          bare_cr_to_lf(&arena_.back());
          malformed("MIME.Malformed.BareCR", child.path,
                    "CR-only line ends: read each CR as a line end");
        }
        child.bytes = arena_.back();
        child.in_raw = false;
      }
      stack_.push_back(std::move(child));
      return;
    }

    // A leaf: decode the body.
    if (info.type == "message" && info.subtype == "partial")
      add(FindingKind::kUnscannable, "MIME.MessagePartial", path,
          "message/partial: one fragment of a message split across mails (never reassembled)");
    if (info.type == "message" && info.subtype == "external-body")
      add(FindingKind::kMalformed, "MIME.ExternalBody", path,
          "message/external-body: carries no content; the reader fetches it like a link");
    Part &p = tree_.parts[static_cast<size_t>(idx)];
    TransferEncoding te = classify_transfer_encoding(info.transfer_encoding);
    if (te == TransferEncoding::kUnknown)
      malformed(
          "MIME.Malformed.UnknownTransferEncoding", path,
          "unknown Content-Transfer-Encoding \"" + info.transfer_encoding + "\" read as identity");
    DecodeStatus st = decode_capped(te, body, &p.body, path, false,
                                    w.has_reading ? w.reading.dialect : DecodeDialect::kDefault);
    if (st.malformed) {
      const char *name = te == TransferEncoding::kBase64 ? "MIME.Malformed.Base64"
                         : te == TransferEncoding::kQuotedPrintable
                             ? "MIME.Malformed.QuotedPrintable"
                         : te == TransferEncoding::kBinhex ? "MIME.Malformed.Binhex"
                         : te == TransferEncoding::kYenc   ? "MIME.Malformed.Yenc"
                                                           : "MIME.Malformed.Uuencode";
      malformed(name, path, "transfer encoding errors were skipped");
    }
    const bool texty = info.type == "text" || is_multipart || info.type == "message";
    if (texty && te != TransferEncoding::kUuencode) find_embedded(idx, p.body, w.rfc822_depth);
  }

  void split_into_children(const Work &w, int idx, const EntityInfo &info, std::string_view body,
                           uint64_t body_raw_offset, const MultipartSplit &split) {
    const std::string &path = w.path;
    tree_.parts[static_cast<size_t>(idx)].is_multipart = true;
    if (!split.found_close)
      malformed("MIME.Malformed.MissingCloseBoundary", path,
                "no close delimiter \"--" + info.boundary + "--\"; the rest is the last part");
    if (split.after_close)
      malformed("MIME.Ambiguous.PartsAfterCloseBoundary", path,
                "delimiter lines after the close delimiter (epilogue kept, not split)");
    if (split.parts_exceeded)
      unscannable("Parts", "", "more than max_parts " + std::to_string(lim_.max_parts) + " parts");
    const bool digest = info.subtype == "digest";
    for (size_t k = split.parts.size(); k-- > 0;) {
      const Range &r = split.parts[k];
      Work child;
      child.bytes = body.substr(r.begin, r.size());
      child.in_raw = w.in_raw;
      child.raw_offset = w.in_raw ? body_raw_offset + r.begin : w.raw_offset;
      child.raw_length = w.in_raw ? r.size() : w.raw_length;
      child.path = path + "." + std::to_string(k + 1);
      child.parent = idx;
      child.depth = w.depth + 1;
      child.rfc822_depth = w.rfc822_depth;
      child.digest_child = digest;
      child.origin = w.origin;
      stack_.push_back(std::move(child));
    }
    // Preamble and epilogue are searched for embedded files too (after the children are queued,
    // so that the parts budget already counts them).
    if (split.preamble.size() > 0)
      find_embedded(idx, body.substr(split.preamble.begin, split.preamble.size()), w.rfc822_depth);
    if (split.epilogue.size() > 0)
      find_embedded(idx, body.substr(split.epilogue.begin, split.epilogue.size()), w.rfc822_depth);
  }

  // Queues the other readings of the entity `w` (parts[idx]) as kAlternate entities
  // "<path>.a1", "<path>.a2" ... (HOSTILE #13-15, #24, #26: UNION; docs/hostile-input.md,
  // "Readings"). They are processed after the primary reading's subtree and count against
  // max_parts, max_decoded_bytes and kMaxAltReadingsPerMessage. A reading that cannot differ from
  // the primary one (or from an earlier reading) is skipped; a bound that drops one is a finding.
  void plan_alternates(const Work &w, int idx, const HeaderScan &hs, const EntityInfo &info,
                       const DashLines &lines) {
    const std::string_view body = lines.body();
    struct Planned {
      std::string_view bytes;  // empty: the entity's own (w.bytes)
      std::string_view header_copy;
      size_t header_end = std::string_view::npos;
      bool has_reading = false;
      AltReading reading;
      std::string detail;
    };
    // An entity-level reading was planned with every other reading of the same bytes: it plans
    // none of its own (its children do).
    if (w.has_reading) return;
    std::vector<Planned> planned;
    const std::string &path = w.path;
    const bool primary_header = w.header_copy.empty() && w.header_end == std::string_view::npos;

    // 1. Where the header block's lines and end are: readings of a rewritten (same-length) copy
    //    of the header block, or of a block that ends earlier.
    if (primary_header) plan_header_readings(w, hs, info, &planned);

    // 1b. Bare CRs (not before an LF) in the body of a multipart message (the message itself,
    //     or one a message/* part carries) that has LF line ends too: readers that take every CR
    //     for a line end (Python's email, uudeview) find delimiter lines and header fields
    //     there. The whole message is read again as a same-length copy with each bare CR an LF
    //     (offsets still hold); nested entities are read in that copy. (Bare CRs in the header
    //     block alone: plan_header_readings().)
    if (w.message_root && primary_header && w.origin != PartOrigin::kAlternate && !headers_only_ &&
        info.type == "multipart" && w.bytes.size() <= lim_.max_message_bytes &&
        hs.body_offset < w.bytes.size() && has_bare_cr(w.bytes.substr(hs.body_offset))) {
      arena_.emplace_back(w.bytes);
      bare_cr_to_lf(&arena_.back());
      Planned pl;
      pl.bytes = arena_.back();
      pl.detail = "MIME.Ambiguous.BareCR: also read with each bare CR as a line end";
      planned.push_back(std::move(pl));
    }

    // 2. Structure: every boundary any dialect reads (readings.h) or the body offers, split by
    //    exact and by prefix delimiter lines; kept when the split differs from all others.
    const bool splittable = info.boundary.size() <= lim_.max_boundary_length;
    MultipartSplit primary_split;
    std::optional<AltReading> prefix_primary;
    if (info.type == "multipart" && !info.boundary.empty() && splittable)
      primary_split = split_multipart(lines, info.boundary, lim_.max_parts);
    if (primary_split.prefix_lines) {
      // Readers that match delimiter lines by prefix split the primary boundary differently.
      MultipartSplit m = split_multipart(lines, info.boundary, lim_.max_parts, true);
      if (m.found_start) {
        AltReading a{info.type,     info.subtype,
                     info.boundary, info.transfer_encoding,
                     false,         "MIME.Ambiguous.PrefixDelimiter"};
        a.prefix = true;
        prefix_primary = std::move(a);
      }
    }
    const bool primary_is_split = primary_split.found_start;
    std::vector<std::vector<std::pair<size_t, size_t>>> splits_seen;
    auto ranges_of = [](const MultipartSplit &m) {
      std::vector<std::pair<size_t, size_t>> r;
      for (const Range &x : m.parts) r.emplace_back(x.begin, x.end);
      return r;
    };
    if (primary_is_split) splits_seen.push_back(ranges_of(primary_split));
    std::vector<AltReading> readings = info.alternates;
    if (prefix_primary) readings.push_back(std::move(*prefix_primary));
    {
      // (process() has moved the fields into the part.)
      const std::vector<HeaderField> &fields = tree_.parts[static_cast<size_t>(idx)].headers;
      HeaderReadings hr = header_readings(fields, lim_.max_params);
      std::vector<std::string> candidates = hr.boundaries;
      auto add_candidate = [&candidates](std::string_view x) {
        if (std::find(candidates.begin(), candidates.end(), x) == candidates.end())
          candidates.emplace_back(x);
      };
      bool more = false;
      // The body's own delimiter lines outside the primary reading's parts (all of it when it
      // does not split): those a Content-Type field mentions in any form; and, when some reader
      // could take the entity for a multipart, every one (a reader that guesses, or a boundary
      // hidden in a way no dialect reads). Lines inside the parts are their own entities' lines.
      auto outside = [&](std::string_view region) {
        for (std::string_view x : delimiter_candidates(region, kMaxDelimiterCandidates, &more))
          if (hr.multipart_ish || hr.mentions(x)) add_candidate(x);
      };
      if (!primary_is_split) {
        outside(body);
      } else {
        outside(body.substr(primary_split.preamble.begin, primary_split.preamble.size()));
        outside(body.substr(primary_split.epilogue.begin, primary_split.epilogue.size()));
      }
      if (more)
        unscannable("Alternates", path,
                    "more than " + std::to_string(kMaxDelimiterCandidates) +
                        " distinct delimiter-like lines");
      const std::string subtype = info.type == "multipart" ? info.subtype : "mixed";
      // The readings the fields already give (a second Content-Type, duplicate parameters).
      for (const AltReading &a : info.alternates) {
        if (a.type != "multipart" || a.boundary.empty() || a.fallback_only ||
            a.boundary.size() > lim_.max_boundary_length)
          continue;
        MultipartSplit m = split_multipart(lines, a.boundary, lim_.max_parts);
        if (m.found_start) splits_seen.push_back(ranges_of(m));
      }
      // An empty boundary (readers that accept `boundary=""` split on "--" lines): only when
      // the primary reading does not split, as "-- " signature lines would split ordinary mail.
      if (!primary_is_split && (hr.empty_boundary || hr.multipart_ish)) {
        MultipartSplit m = split_multipart(lines, "", lim_.max_parts);
        if (m.found_start) {
          splits_seen.push_back(ranges_of(m));
          AltReading a{"multipart", subtype,
                       "",          info.transfer_encoding,
                       false,       "MIME.Ambiguous.EmptyBoundary"};
          a.empty_boundary = true;
          readings.push_back(std::move(a));
        }
      }
      for (const std::string &b : candidates) {
        if (b.empty() || b.size() > lim_.max_boundary_length) continue;
        if (body.find("--" + b) == std::string_view::npos) continue;  // cheap: never a delimiter
        bool prefix_differs = false;
        for (bool prefix : {false, true}) {
          if (prefix && !prefix_differs) continue;
          MultipartSplit m = split_multipart(lines, b, lim_.max_parts, prefix);
          prefix_differs = m.prefix_lines;
          if (!m.found_start) continue;
          auto r = ranges_of(m);
          if (std::find(splits_seen.begin(), splits_seen.end(), r) != splits_seen.end()) continue;
          splits_seen.push_back(std::move(r));
          AltReading a{
              "multipart",
              subtype,
              b,
              info.transfer_encoding,
              false,
              hr.mentions(b) ? "MIME.Ambiguous.Boundary" : "MIME.Ambiguous.GuessedBoundary"};
          a.prefix = prefix;
          readings.push_back(std::move(a));
        }
      }
    }

    // 3. Encodings, for a body read as a leaf: every encoding any Content-Transfer-Encoding field
    //    could name (read leniently), what an unknown one looks like, and each decoder dialect
    //    that decodes this body differently.
    const bool primary_leaf = !primary_is_split && !is_message_type(info.type, info.subtype);
    const bool primary_texty =
        info.type == "text" || info.type == "multipart" || info.type == "message";
    const TransferEncoding primary_te = classify_transfer_encoding(info.transfer_encoding);
    if (primary_leaf) {
      std::vector<TransferEncoding> tes;
      auto add_te = [&tes](TransferEncoding te) {
        if (std::find(tes.begin(), tes.end(), te) == tes.end()) tes.push_back(te);
      };
      if (primary_te != TransferEncoding::kUnknown) add_te(primary_te);
      for (const HeaderField &f : tree_.parts[static_cast<size_t>(idx)].headers)
        if (normalize_field_name(f.name) == "content-transfer-encoding")
          for (TransferEncoding te : lenient_transfer_encodings(f.value)) add_te(te);
      if (primary_te == TransferEncoding::kUnknown) {
        // An unknown encoding: also what the body looks like.
        if (looks_like_base64(body)) add_te(TransferEncoding::kBase64);
        if (looks_like_quoted_printable(body)) add_te(TransferEncoding::kQuotedPrintable);
      }
      for (TransferEncoding te : tes) {
        if (te != primary_te)
          readings.push_back(AltReading{info.type, info.subtype, info.boundary, te_name(te), false,
                                        "MIME.Ambiguous.TransferEncoding"});
        const std::vector<DecodeDialect> dialects = decode_dialects(te, body, &deadline_);
        if (deadline_.expired())  // the list may be short: readings not planned are not read
          unscannable("ScanTime", path, "scan deadline passed while planning readings");
        for (DecodeDialect d : dialects) {
          AltReading a{info.type,   info.subtype, info.boundary,
                       te_name(te), false,        "MIME.Ambiguous.Encoding"};
          a.dialect = d;
          readings.push_back(std::move(a));
        }
      }
    }

    // 3b. A message/* body under an encoding it is not in (RFC 2046 forbids any; the message
    //     branch of process() decodes it): readers that ignore the encoding, or keep what fails
    //     to decode, parse the body as it is. For base64, when the body holds bytes outside the
    //     alphabet; uuencode, BinHex and yEnc always (decode_dialects(): kRawBody).
    if (is_message_type(info.type, info.subtype) &&
        (primary_te == TransferEncoding::kBase64 || primary_te == TransferEncoding::kUuencode ||
         primary_te == TransferEncoding::kBinhex || primary_te == TransferEncoding::kYenc)) {
      const std::vector<DecodeDialect> ds = decode_dialects(primary_te, body, &deadline_);
      if (std::find(ds.begin(), ds.end(), DecodeDialect::kRawBody) != ds.end())
        readings.push_back(AltReading{info.type, info.subtype, "", "7bit", false,
                                      "MIME.Ambiguous.TransferEncoding"});
    }

    // 4. A message carried as text: text/rfc822-headers (RFC 6522) and message/global-headers
    //    (RFC 6533) are meant for a returned message's header block, but bounces (OpenSMTPD's)
    //    put the whole message there, attachments and all, which a reader saving the part gets
    //    back. Read as message/rfc822 when there is more than a header block: a body after an
    //    empty line, or an encoding.
    const bool returned_headers = (info.type == "text" && info.subtype == "rfc822-headers") ||
                                  (info.type == "message" && info.subtype == "global-headers");
    if (primary_leaf && returned_headers &&
        (primary_te != TransferEncoding::kIdentity || has_body_after_header_block(body))) {
      readings.push_back(AltReading{"message", "rfc822", "", info.transfer_encoding, false,
                                    "MIME.Ambiguous.MessageInText"});
    }

    std::vector<const AltReading *> distinct;
    for (const AltReading &a : readings) {
      bool dup = false;
      for (const AltReading *o : distinct)
        dup |= o->type == a.type && o->subtype == a.subtype && o->boundary == a.boundary &&
               o->transfer_encoding == a.transfer_encoding && o->prefix == a.prefix &&
               o->dialect == a.dialect;
      if (dup) continue;
      distinct.push_back(&a);
      if (a.type == "multipart") {
        if ((a.boundary.empty() && !a.empty_boundary) ||
            a.boundary.size() > lim_.max_boundary_length)
          continue;
        if (a.fallback_only && primary_is_split) continue;
        if (!split_multipart(lines, a.boundary, 0, a.prefix).found_start) continue;
      } else if (!is_message_type(a.type, a.subtype)) {
        // A leaf reading: worth it when its bytes (or the blob search) can differ.
        const bool alt_texty = a.type == "text" || a.type == "message";
        if (primary_leaf && a.dialect == DecodeDialect::kDefault &&
            classify_transfer_encoding(a.transfer_encoding) == primary_te &&
            (!alt_texty || primary_texty))
          continue;
      }
      Planned pl;
      pl.has_reading = true;
      pl.reading = a;
      pl.detail = a.why + ": also read as " + a.type + "/" + a.subtype +
                  (a.boundary.empty() ? "" : " boundary \"" + a.boundary + "\"") +
                  (a.prefix ? " (prefix delimiters)" : "") +
                  (a.transfer_encoding.empty() ? "" : ", " + a.transfer_encoding) +
                  (a.dialect == DecodeDialect::kDefault
                       ? ""
                       : " (decoder dialect " + std::to_string(static_cast<int>(a.dialect)) + ")");
      planned.push_back(std::move(pl));
    }
    if (planned.empty()) return;
    if (w.depth + 1 > lim_.max_mime_depth) {
      unscannable("Depth", path,
                  "an alternate reading would nest deeper than max_mime_depth " +
                      std::to_string(lim_.max_mime_depth));
      return;
    }
    if (alt_readings_ + planned.size() > kMaxAltReadingsPerMessage) {
      unscannable("Alternates", path,
                  "more than " + std::to_string(kMaxAltReadingsPerMessage) +
                      " alternate readings of ambiguous entities");
      planned.resize(alt_readings_ < kMaxAltReadingsPerMessage
                         ? kMaxAltReadingsPerMessage - alt_readings_
                         : 0);
    }
    if (planned.size() > parts_budget()) {
      unscannable("Parts", "", "more than max_parts " + std::to_string(lim_.max_parts) + " parts");
      planned.resize(parts_budget());
    }
    alt_readings_ += planned.size();
    for (size_t k = 0; k < planned.size(); ++k)
      malformed("MIME.Ambiguous.AlternateReading", path + ".a" + std::to_string(k + 1),
                planned[k].detail);
    // Pushed last-first so that .a1 is processed first (after the primary reading's subtree).
    for (size_t k = planned.size(); k-- > 0;) {
      Planned &pl = planned[k];
      Work a;
      a.bytes = pl.bytes.empty() ? w.bytes : pl.bytes;
      a.header_copy = pl.header_copy;
      a.header_end = pl.header_end;
      a.raw_offset = w.raw_offset;
      a.raw_length = w.raw_length;
      a.in_raw = w.in_raw;
      a.path = path + ".a" + std::to_string(k + 1);
      a.parent = idx;
      a.depth = w.depth + 1;
      a.rfc822_depth = w.rfc822_depth;
      a.digest_child = w.digest_child;
      a.top = w.top;
      a.origin = PartOrigin::kAlternate;
      a.has_reading = pl.has_reading;
      a.reading = std::move(pl.reading);
      stack_.push_back(std::move(a));
    }
  }

  static std::string te_name(TransferEncoding te) {
    switch (te) {
      case TransferEncoding::kBase64:
        return "base64";
      case TransferEncoding::kQuotedPrintable:
        return "quoted-printable";
      case TransferEncoding::kUuencode:
        return "x-uuencode";
      case TransferEncoding::kBinhex:
        return "mac-binhex40";
      case TransferEncoding::kYenc:
        return "x-yencode";
      case TransferEncoding::kIdentity:
      case TransferEncoding::kUnknown:
      default:
        return "7bit";
    }
  }

  // Readings of the header block itself (step 1 of plan_alternates): a same-length copy with
  //  - bare CRs read as line ends;
  //  - lines that start with VT or FF read as continuation lines (readers that take any
  //    whitespace for folding);
  //  - lines that are neither fields nor continuations, before the first empty line, read as
  //    junk fields (readers that skip them and keep reading header fields);
  // and the block ended at its first whitespace-only line (readers that take it for the empty
  // line). Each is kept when it changes the entity's type, boundary, encoding or body start.
  template <typename PlannedT>
  void plan_header_readings(const Work &w, const HeaderScan &hs, const EntityInfo &info,
                            std::vector<PlannedT> *planned) {
    const std::string &path = w.path;
    // The region: up to the first empty line (a line with no bytes but its line end), bounded
    // by max_header_bytes.
    const std::string_view bytes = w.bytes;
    const size_t limit = std::min<size_t>(bytes.size(), lim_.max_header_bytes);
    size_t region_end = hs.body_offset;
    bool junk_line = false, vt_line = false;
    size_t ws_only_end = std::string_view::npos;
    {
      size_t pos = 0;
      while (pos < limit) {
        const size_t nl = bytes.find('\n', pos);
        const size_t content_end = nl == std::string_view::npos ? bytes.size() : nl;
        const size_t line_end = nl == std::string_view::npos ? bytes.size() : nl + 1;
        std::string_view line = bytes.substr(pos, content_end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) {
          region_end = std::max(region_end, line_end);
          break;
        }
        const char c0 = line[0];
        if (c0 == '\v' || c0 == '\f') vt_line = true;
        bool ws_only = true;
        for (char c : line)
          if (c != ' ' && c != '\t' && c != '\v' && c != '\f' && c != '\r') ws_only = false;
        if (ws_only && ws_only_end == std::string_view::npos && pos > 0) ws_only_end = line_end;
        if (!ws_only && c0 != ' ' && c0 != '\t' && c0 != '\v' && c0 != '\f') {
          const size_t colon = line.find(':');
          bool field = colon != std::string_view::npos && colon > 0;
          for (size_t k = 0; field && k < colon; ++k) {
            const auto u = static_cast<unsigned char>(line[k]);
            field = u > 0x20 && u < 0x7f;
          }
          if (!field && !(w.top && pos == 0 && line.substr(0, 5) == "From ")) junk_line = true;
        }
        region_end = std::max(region_end, line_end);
        pos = line_end;
      }
    }
    auto consider = [&](std::string copy, size_t header_end, const char *why,
                        const std::string &what) {
      const std::string_view src = copy.empty() ? bytes : std::string_view(copy);
      HeaderScan h2 = scan_headers(
          header_end == std::string_view::npos ? src : src.substr(0, header_end), w.top, lim_);
      if (header_end != std::string_view::npos) h2.body_offset = header_end;
      if (h2.fields_exceeded || h2.bytes_exceeded) return;
      EntityInfo i2 = analyze_entity(h2.fields, w.digest_child, lim_.max_params);
      if (i2.params_exceeded) return;
      // A body that starts elsewhere counts only when the reading ends the header block with an
      // empty line (or the line it was given).
      const bool separator_found =
          header_end != std::string_view::npos ||
          std::find(h2.problems.begin(), h2.problems.end(), "MIME.Malformed.NoHeaderSeparator") ==
              h2.problems.end();
      if (i2.type == info.type && i2.subtype == info.subtype && i2.boundary == info.boundary &&
          i2.transfer_encoding == info.transfer_encoding &&
          !(separator_found && h2.body_offset != hs.body_offset))
        return;
      malformed(why, path, what);
      PlannedT pl;
      if (!copy.empty()) {
        arena_.push_back(std::move(copy));
        pl.header_copy = arena_.back();
      }
      pl.header_end = header_end;
      pl.detail = what + ": " + i2.media_type() +
                  (i2.transfer_encoding.empty() ? "" : ", " + i2.transfer_encoding);
      planned->push_back(std::move(pl));
    };
    const std::string_view header = bytes.substr(0, hs.body_offset);
    if (has_bare_cr(header)) {
      std::string copy(header);
      bare_cr_to_lf(&copy);
      consider(std::move(copy), std::string_view::npos, "MIME.Ambiguous.BareCRInHeader",
               "header block with bare CRs read as line ends");
    }
    if (vt_line || junk_line) {
      std::string copy(bytes.substr(0, region_end));
      size_t pos = 0;
      while (pos < copy.size()) {
        size_t nl = copy.find('\n', pos);
        const size_t line_end = nl == std::string::npos ? copy.size() : nl + 1;
        size_t content_end = nl == std::string::npos ? copy.size() : nl;
        if (content_end > pos && copy[content_end - 1] == '\r') --content_end;
        if (content_end > pos) {
          char &c0 = copy[pos];
          if (c0 == '\v' || c0 == '\f') {
            c0 = ' ';
          } else if (junk_line && c0 != ' ' && c0 != '\t') {
            const size_t colon = copy.find(':', pos);
            bool field = colon != std::string::npos && colon < content_end && colon > pos;
            for (size_t k = pos; field && k < colon; ++k) {
              const auto u = static_cast<unsigned char>(copy[k]);
              field = u > 0x20 && u < 0x7f;
            }
            const bool mbox = w.top && pos == 0 && copy.compare(0, 5, "From ") == 0;
            if (!field && !mbox) {
              if (content_end - pos >= 2) {
                for (size_t k = pos; k + 1 < content_end; ++k) copy[k] = 'X';
                copy[content_end - 1] = ':';
              } else {
                c0 = ' ';
              }
            }
          }
        }
        pos = line_end;
      }
      consider(std::move(copy), std::string_view::npos, "MIME.Ambiguous.HeaderLines",
               "header lines read leniently (VT/FF folding, junk lines skipped)");
    }
    if (ws_only_end != std::string_view::npos && ws_only_end < hs.body_offset)
      consider(std::string(), ws_only_end, "MIME.Ambiguous.HeaderEnd",
               "header block ended at a whitespace-only line");
  }

  // A new part under parts[parent] for a blob found in its text (uuencode, yEnc, BinHex).
  // yEnc/BinHex parts carry their parent's raw range: the bytes that hold them.
  Part &add_embedded(int parent, PartOrigin origin, char letter, const std::string &name,
                     const char *encoding) {
    const Part &par = tree_.parts[static_cast<size_t>(parent)];
    Part u;
    u.path = par.path + "." + letter + std::to_string(++embedded_count_[{parent, letter}]);
    u.depth = par.depth + 1;
    u.parent = parent;
    u.origin = origin;
    u.media_type = "application/octet-stream";
    u.transfer_encoding = encoding;
    u.filename_raw = name;
    if (!name.empty()) u.filenames.push_back(to_utf8_lenient(name));
    u.raw_offset = par.raw_offset;
    u.raw_length = origin == PartOrigin::kUuencode ? 0 : par.raw_length;
    tree_.parts.push_back(std::move(u));
    return tree_.parts.back();
  }

  // Adds every uuencode, yEnc and BinHex 4.0 block of `text` as a part under parts[parent]
  // (HOSTILE #29): "P.u1" ..., "P.y1" ..., "P.b1" ...; and queues every MIME entity the text
  // holds (embedded_entities()) as an entity of its own, "P.m1" ...
  void find_embedded(int parent, std::string_view text, uint32_t rfc822_depth) {
    queue_embedded_entities(parent, text, rfc822_depth);
    const bool uu = text.find("begin") != std::string_view::npos;
    const bool yenc = text.find("=ybegin ") != std::string_view::npos;
    static constexpr std::string_view kBinhex = "binhex";
    const bool binhex =
        std::search(text.begin(), text.end(), kBinhex.begin(), kBinhex.end(), [](char a, char b) {
          return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
        }) != text.end();
    if (!uu && !yenc && !binhex) return;
    size_t budget = parts_budget();
    std::vector<UuBlock> ublocks;
    std::vector<YencBlock> yblocks;
    std::vector<BinhexBlock> bblocks;
    if (uu) ublocks = find_uuencode_blocks(text, budget + 1);
    if (yenc) yblocks = find_yenc_blocks(text, budget + 1);
    if (binhex) bblocks = find_binhex_blocks(text, budget + 1);
    // A BinHex file may carry two forks: count each block twice against the budget.
    if (ublocks.size() + yblocks.size() + 2 * bblocks.size() > budget) {
      unscannable("Parts", "", "more than max_parts " + std::to_string(lim_.max_parts) + " parts");
      if (ublocks.size() > budget) ublocks.resize(budget);
      budget -= ublocks.size();
      if (yblocks.size() > budget) yblocks.resize(budget);
      budget -= yblocks.size();
      if (bblocks.size() > budget / 2) bblocks.resize(budget / 2);
    }
    if (ublocks.empty() && yblocks.empty() && bblocks.empty()) return;
    // `text` may view a part's body, and adding parts may move that body (a short string lives
    // inside the Part): decode from a private copy.
    const std::string copy(text);
    text = copy;
    for (const UuBlock &b : ublocks) {
      Part &u = add_embedded(parent, PartOrigin::kUuencode, 'u', b.name,
                             b.base64 ? "base64" : "x-uuencode");
      const std::string upath = u.path;
      std::string_view data = text.substr(b.data_begin, b.data_end - b.data_begin);
      DecodeStatus st =
          decode_capped(b.base64 ? TransferEncoding::kBase64 : TransferEncoding::kUuencode, data,
                        &u.body, upath, !b.base64);
      if (st.malformed || !b.has_end)
        malformed("MIME.Malformed.Uuencode", upath,
                  b.has_end ? "uuencoded data has errors" : "uuencoded block has no end line");
    }
    for (const YencBlock &b : yblocks) {
      Part &y = add_embedded(parent, PartOrigin::kYenc, 'y', b.name, "x-yenc");
      const std::string ypath = y.path;
      std::string_view data = text.substr(b.data_begin, b.data_end - b.data_begin);
      bool file_bound = false;
      DecodeStatus st = decode_yenc_lines(data, decode_cap(&file_bound), &y.body);
      account_decoded(st, y.body.size(), file_bound, ypath);
      if (st.malformed || !b.has_end)
        malformed("MIME.Malformed.Yenc", ypath,
                  b.has_end ? "yEnc data has errors" : "yEnc block has no =yend line");
    }
    for (const BinhexBlock &b : bblocks) {
      BinhexFile file;
      bool file_bound = false;
      DecodeStatus st = decode_binhex(text.substr(b.data_begin, b.data_end - b.data_begin),
                                      decode_cap(&file_bound), &file);
      Part &h = add_embedded(parent, PartOrigin::kBinhex, 'b', file.name, "x-binhex");
      const std::string hpath = h.path;
      h.body = std::move(file.data_fork);
      account_decoded(st, h.body.size(), file_bound, hpath);
      if (st.malformed || !b.has_end)
        malformed("MIME.Malformed.Binhex", hpath,
                  b.has_end ? "BinHex data or header has errors" : "BinHex block has no closing :");
      if (!file.resource_fork.empty()) {
        Part &r = add_embedded(parent, PartOrigin::kBinhex, 'b', file.name, "x-binhex");
        r.body = std::move(file.resource_fork);
        tree_.decoded_bytes += r.body.size();
      }
    }
  }

  // The entities a text holds (embedded_entities()), each from its header block to the next
  // one (or the end), queued as kAlternate entities "P.m1" ... under parts[parent]: ripmime
  // always, munpack and uudeview for some, extract what a bounce quoting the message, or a
  // text part holding an entity, carries. Counted against max_parts and the message's readings;
  // past either, the message is unscannable.
  void queue_embedded_entities(int parent, std::string_view text, uint32_t rfc822_depth) {
    const size_t room =
        std::min(parts_budget(),
                 kMaxAltReadingsPerMessage - std::min(alt_readings_, kMaxAltReadingsPerMessage));
    const std::vector<size_t> starts = embedded_entities(text, room + 1);
    if (starts.empty()) return;
    const Part &par = tree_.parts[static_cast<size_t>(parent)];
    const std::string par_path = par.path;
    const uint32_t depth = par.depth + 1;
    if (depth > lim_.max_mime_depth) {
      unscannable("Depth", par_path,
                  "an entity in this text would nest deeper than max_mime_depth " +
                      std::to_string(lim_.max_mime_depth));
      return;
    }
    size_t n = starts.size();
    if (n > room) {
      unscannable(
          room == parts_budget() ? "Parts" : "Alternates", par_path,
          "more entities in a text than the parts or readings left (" + std::to_string(room) + ")");
      n = room;
    }
    alt_readings_ += n;
    for (size_t k = 0; k < n; ++k) {
      const size_t end = k + 1 < starts.size() ? starts[k + 1] : text.size();
      arena_.emplace_back(text.substr(starts[k], end - starts[k]));
      Work e;
      e.bytes = arena_.back();
      e.path = par_path + ".m" + std::to_string(k + 1);
      e.parent = parent;
      e.depth = depth;
      e.rfc822_depth = rfc822_depth;
      e.origin = PartOrigin::kAlternate;
      e.in_raw = false;
      e.raw_offset = par.raw_offset;
      e.raw_length = par.raw_length;
      malformed("MIME.Ambiguous.EntityInText", e.path,
                "a header block in text that declares structure or an encoding: also read as an "
                "entity");
      stack_.push_back(std::move(e));
    }
  }

  // Books `size` decoded bytes and reports a cap that was hit (for decoders that take a cap
  // directly rather than through decode_capped()).
  void account_decoded(const DecodeStatus &st, uint64_t size, bool file_bound,
                       const std::string &path) {
    if (st.truncated) {
      if (file_bound)
        unscannable("FileBytes", path,
                    "decoded part exceeds max_file_bytes " + std::to_string(lim_.max_file_bytes));
      else
        unscannable("DecodedBytes", path, "decoded bodies exceed " + decoded_limit_text());
    }
    tree_.decoded_bytes += size;
  }

  std::string_view raw_;
  const Limits &lim_;
  const Deadline &deadline_;
  const uint64_t decoded_limit_;
  MessageTree tree_;
  std::vector<Work> stack_;
  std::deque<std::string> arena_;  // decoded bodies of encoded message/* parts (stable storage)
  std::set<std::string> seen_;     // finding name + path, to report each once
  std::set<std::string> parsed_;   // entities parsed so far (already_parsed())
  std::map<std::pair<int, char>, int> embedded_count_;  // per parent and kind (u, y, b)
  std::string cr_copy_;      // the message with CR-only line ends, CRs turned into LFs
  size_t alt_readings_ = 0;  // alternate readings queued so far
  size_t cur_ = 0;           // index of the part being processed
  bool headers_only_ = false;
};

}  // namespace

MessageTree parse_message(std::string_view raw, const Limits &limits, const Deadline &deadline) {
  Parser parser(raw, limits, deadline);
  return parser.run();
}

}  // namespace avsink::mime
