// parser.cpp - turns raw RFC 5322 bytes into a MessageTree with an explicit stack (no recursion).
// Bounded by Limits; malformed input yields a Finding, never an exception out of parse_message().
#include "mime/parser.h"

#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mime/decode.h"
#include "mime/entity.h"
#include "mime/header_words.h"
#include "mime/multipart.h"

namespace avsink::mime {
namespace {

// One entity waiting to be parsed.
struct Work {
  std::string_view bytes;   // header + body of the entity
  uint64_t raw_offset = 0;  // where `bytes` sits in the raw message (or the anchor, see below)
  uint64_t raw_length = 0;
  bool in_raw = true;  // false: `bytes` is a decoded buffer (an encoded message/rfc822 body);
                       // raw_offset/raw_length then name the encoded body it came from
  std::string path;
  int parent = -1;
  uint32_t depth = 0;
  uint32_t rfc822_depth = 0;
  bool digest_child = false;
};

class Parser {
 public:
  Parser(std::string_view raw, const Limits &limits, const Deadline &deadline)
      : raw_(raw), lim_(limits), deadline_(deadline) {}

  MessageTree run() {
    Work root;
    root.bytes = raw_;
    root.raw_length = raw_.size();
    root.path = "1";
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

  // Bytes the next decoded body may take, and which limit bounds it.
  uint64_t decode_cap(bool *file_bound) const {
    uint64_t total_left = tree_.decoded_bytes >= lim_.max_decoded_bytes
                              ? 0
                              : lim_.max_decoded_bytes - tree_.decoded_bytes;
    *file_bound = lim_.max_file_bytes <= total_left;
    return *file_bound ? lim_.max_file_bytes : total_left;
  }

  // Decodes `in` into *out under the file/decoded caps; reports problems for `path`.
  // `uu_lines`: `in` is the data of one uuencode block (no "begin" line to look for).
  DecodeStatus decode_capped(TransferEncoding te, std::string_view in, std::string *out,
                             const std::string &path, bool uu_lines = false) {
    bool file_bound = false;
    uint64_t cap = decode_cap(&file_bound);
    DecodeStatus st =
        uu_lines ? decode_uuencode_lines(in, cap, out) : decode_transfer(te, in, cap, out);
    if (st.truncated) {
      if (file_bound)
        unscannable("FileBytes", path,
                    "decoded part exceeds max_file_bytes " + std::to_string(lim_.max_file_bytes));
      else
        unscannable(
            "DecodedBytes", path,
            "decoded bodies exceed max_decoded_bytes " + std::to_string(lim_.max_decoded_bytes));
    }
    tree_.decoded_bytes += out->size();
    return st;
  }

  void process(Work &w) {
    const int idx = static_cast<int>(tree_.parts.size());
    cur_ = tree_.parts.size();
    tree_.parts.emplace_back();
    {
      Part &p = tree_.parts.back();
      p.path = w.path;
      p.depth = w.depth;
      p.parent = w.parent;
      p.origin = PartOrigin::kMime;
      p.raw_offset = w.raw_offset;
      p.raw_length = w.raw_length;
    }
    const std::string path = w.path;

    HeaderScan hs = scan_headers(w.bytes, w.parent < 0, lim_);
    EntityInfo info = analyze_entity(hs.fields, w.digest_child, lim_.max_params);
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
    const bool is_message =
        info.type == "message" && (info.subtype == "rfc822" || info.subtype == "global");

    if (is_multipart) {
      if (info.boundary.empty()) {
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
        MultipartSplit split = split_multipart(body, info.boundary, parts_budget());
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
        child.bytes = arena_.back();
        child.in_raw = false;
      }
      stack_.push_back(std::move(child));
      return;
    }

    // A leaf: decode the body.
    Part &p = tree_.parts[static_cast<size_t>(idx)];
    TransferEncoding te = classify_transfer_encoding(info.transfer_encoding);
    if (te == TransferEncoding::kUnknown)
      malformed(
          "MIME.Malformed.UnknownTransferEncoding", path,
          "unknown Content-Transfer-Encoding \"" + info.transfer_encoding + "\" read as identity");
    DecodeStatus st = decode_capped(te, body, &p.body, path);
    if (st.malformed) {
      const char *name = te == TransferEncoding::kBase64 ? "MIME.Malformed.Base64"
                         : te == TransferEncoding::kQuotedPrintable
                             ? "MIME.Malformed.QuotedPrintable"
                             : "MIME.Malformed.Uuencode";
      malformed(name, path, "transfer encoding errors were skipped");
    }
    const bool texty = info.type == "text" || is_multipart || info.type == "message";
    if (texty && te != TransferEncoding::kUuencode) find_uuencode(idx, p.body);
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
    // Preamble and epilogue are searched for uuencoded files too.
    if (split.preamble.size() > 0)
      find_uuencode(idx, body.substr(split.preamble.begin, split.preamble.size()));
    if (split.epilogue.size() > 0)
      find_uuencode(idx, body.substr(split.epilogue.begin, split.epilogue.size()));
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
      stack_.push_back(std::move(child));
    }
  }

  // Adds every uuencode block of `text` as a part under parts[parent].
  void find_uuencode(int parent, std::string_view text) {
    if (text.find("begin") == std::string_view::npos) return;
    size_t budget = parts_budget();
    std::vector<UuBlock> blocks = find_uuencode_blocks(text, budget + 1);
    if (blocks.size() > budget) {
      unscannable("Parts", "", "more than max_parts " + std::to_string(lim_.max_parts) + " parts");
      blocks.resize(budget);
    }
    if (blocks.empty()) return;
    // `text` may view a part's body, and adding parts may move that body (a short string lives
    // inside the Part): decode from a private copy.
    const std::string copy(text);
    text = copy;
    for (const UuBlock &b : blocks) {
      const Part &par = tree_.parts[static_cast<size_t>(parent)];
      Part u;
      u.path = par.path + ".u" + std::to_string(++uu_count_[parent]);
      u.depth = par.depth + 1;
      u.parent = parent;
      u.origin = PartOrigin::kUuencode;
      u.media_type = "application/octet-stream";
      u.transfer_encoding = b.base64 ? "base64" : "x-uuencode";
      u.filename_raw = b.name;
      if (!b.name.empty()) u.filenames.push_back(to_utf8_lenient(b.name));
      u.raw_offset = par.raw_offset;
      u.raw_length = 0;
      const std::string upath = u.path;
      tree_.parts.push_back(std::move(u));
      std::string_view data = text.substr(b.data_begin, b.data_end - b.data_begin);
      std::string &out = tree_.parts.back().body;
      DecodeStatus st =
          decode_capped(b.base64 ? TransferEncoding::kBase64 : TransferEncoding::kUuencode, data,
                        &out, upath, !b.base64);
      if (st.malformed || !b.has_end)
        malformed("MIME.Malformed.Uuencode", upath,
                  b.has_end ? "uuencoded data has errors" : "uuencoded block has no end line");
    }
  }

  std::string_view raw_;
  const Limits &lim_;
  const Deadline &deadline_;
  MessageTree tree_;
  std::vector<Work> stack_;
  std::deque<std::string> arena_;  // decoded bodies of encoded message/* parts (stable storage)
  std::set<std::string> seen_;     // finding name + path, to report each once
  std::map<int, int> uu_count_;
  size_t cur_ = 0;  // index of the part being processed
  bool headers_only_ = false;
};

}  // namespace

MessageTree parse_message(std::string_view raw, const Limits &limits, const Deadline &deadline) {
  Parser parser(raw, limits, deadline);
  return parser.run();
}

}  // namespace avsink::mime
