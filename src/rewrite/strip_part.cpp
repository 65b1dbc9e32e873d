// strip_part.cpp - splices notice entities into the raw message in place of removed parts.
// Copies every byte outside the replaced ranges unchanged; ranges come from the parsed tree only.
#include "rewrite/strip_part.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>

#include "core/text_template.h"
#include "mime/decode.h"
#include "util/utf8.h"

namespace avsink::rewrite {
namespace {

// One removed part, as the notice names it.
struct Removed {
  std::string path;
  std::string filename;  // display-safe
  std::string reason;    // display-safe
};

// An entity whose raw bytes are replaced.
struct Target {
  size_t index = 0;
  std::vector<Removed> removed;
};

// Display-safe text: printable ASCII and UTF-8 kept; controls, bidi/invisible format characters
// and invalid bytes written as <U+XXXX> / <0xXX>; at most `max` bytes. Never holds CR or LF.
std::string safe_text(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto b0 = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    const size_t len = util::utf8_decode(s, i, &cp);
    const bool valid = len != 0;
    char buf[16];
    if (!valid) {
      std::snprintf(buf, sizeof buf, "<0x%02X>", static_cast<unsigned>(b0));
      out += buf;
      ++i;
      continue;
    }
    const bool hidden = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x00AD ||
                        (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
                        (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF || cp == 0x061C;
    if (hidden) {
      std::snprintf(buf, sizeof buf, "<U+%04X>", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

// Header-safe ASCII: controls become spaces, non-ASCII becomes '?'.
std::string ascii_only(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(b < 0x20 || b == 0x7F ? ' ' : b >= 0x80 ? '?' : c);
  }
  return out;
}

bool needs_qp(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Quoted-printable of `text` whose lines are separated by '\n'; output lines end with `eol`.
std::string qp_encode(std::string_view text, std::string_view eol) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    size_t col = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      const auto b = static_cast<unsigned char>(line[i]);
      std::string enc;
      const bool last = i + 1 == line.size();
      if ((b >= 33 && b <= 126 && b != '=') || ((b == ' ' || b == '\t') && !last)) {
        enc.push_back(static_cast<char>(b));
      } else {
        enc = {'=', kHex[b >> 4], kHex[b & 15]};
      }
      if (col + enc.size() > 75) {
        out += '=';
        out += eol;
        col = 0;
      }
      out += enc;
      col += enc.size();
    }
    if (nl == text.size()) break;
    out += eol;
    pos = nl + 1;
  }
  return out;
}

// The notice text ('\n' line ends) naming every removed part.
std::string notice_text(const std::vector<Removed> &removed, const StripOptions &options) {
  if (!options.notice_template.empty()) {
    std::string list;
    for (const auto &r : removed)
      list +=
          "  File:   " + r.filename + "\n  Part:   " + r.path + "\n  Reason: " + r.reason + "\n\n";
    while (list.size() > 1 && list.back() == '\n' && list[list.size() - 2] == '\n') list.pop_back();
    std::string t =
        render_template(options.notice_template, {{"count", std::to_string(removed.size())},
                                                  {"removed", list},
                                                  {"footer", safe_text(options.footer, 1000)}});
    std::string out;  // the notice keeps '\n' line ends (the caller converts)
    for (char c : t)
      if (c != '\r') out += c;
    return out;
  }
  std::string t = "The mail gateway (avsink) removed ";
  t += removed.size() == 1 ? "an attachment" : std::to_string(removed.size()) + " attachments";
  t += " from this message.\n";
  for (const auto &r : removed) {
    t += "\n  File:   " + r.filename + "\n";
    t += "  Part:   " + r.path + "\n";
    t += "  Reason: " + r.reason + "\n";
  }
  if (!options.footer.empty()) t += "\n" + safe_text(options.footer, 1000) + "\n";
  return t;
}

// Content-* fields and body of a text/plain notice (header fields end with eol; then a blank line
// and the body).
std::string notice_fields_and_body(const std::vector<Removed> &removed, const StripOptions &options,
                                   std::string_view eol) {
  const std::string text = notice_text(removed, options);
  const bool qp = needs_qp(text);
  std::string out;
  out += "Content-Type: text/plain; charset=utf-8";
  out += eol;
  out += qp ? "Content-Transfer-Encoding: quoted-printable" : "Content-Transfer-Encoding: 7bit";
  out += eol;
  out += "Content-Disposition: inline";
  out += eol;
  out += "Content-Description: attachment removed by avsink";
  out += eol;
  out += eol;
  if (qp) {
    out += qp_encode(text, eol);
  } else {
    for (char c : text) {
      if (c == '\n') {
        out += eol;
      } else {
        out.push_back(c);
      }
    }
  }
  return out;
}

// Lowercased field name of a header line ("" when the line is not a field).
std::string field_name(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  std::string name;
  for (size_t i = 0; i < colon; ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t') {
      // "Name :" is tolerated (trailing WSP before the colon); anything after a space is not.
      for (size_t k = i; k < colon; ++k) {
        if (line[k] != ' ' && line[k] != '\t') return {};
      }
      break;
    }
    if (static_cast<unsigned char>(c) < 33 || static_cast<unsigned char>(c) > 126) return {};
    name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return name;
}

// Rewrites one entity that keeps its place in a message (the top level, or the entity inside a
// message/rfc822 part): non-Content-* header fields kept verbatim, then the notice.
std::string rewrite_entity(std::string_view entity, bool top_level,
                           const std::vector<Removed> &removed, const StripOptions &options,
                           std::string_view eol) {
  std::string kept;
  bool has_mime_version = false;
  bool dropping = false;  // inside a dropped field (its continuation lines go too)
  size_t pos = 0;
  bool first = true;
  while (pos < entity.size()) {
    size_t nl = entity.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? entity.size() : nl + 1;
    std::string_view line = entity.substr(pos, end - pos);
    std::string_view content = line;
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
      content.remove_suffix(1);
    }
    if (content.empty()) break;  // the blank line: the body follows
    const bool continuation = content.front() == ' ' || content.front() == '\t';
    if (first && top_level && content.substr(0, 5) == "From ") {
      kept.append(line);  // mbox separator line
    } else if (continuation) {
      if (!dropping) kept.append(line);
    } else {
      const std::string name = field_name(content);
      if (name.empty()) break;  // not a field: the body starts here (no separator line)
      dropping = name.rfind("content-", 0) == 0;
      if (name == "mime-version") has_mime_version = true;
      if (!dropping) kept.append(line);
    }
    first = false;
    pos = end;
  }
  // A header block that did not end in a line break gets one before the new fields.
  if (!kept.empty() && kept.back() != '\n') kept += eol;
  if (top_level && !has_mime_version) {
    kept += "MIME-Version: 1.0";
    kept += eol;
  }
  return kept + notice_fields_and_body(removed, options, eol);
}

bool is_ancestor(const mime::MessageTree &tree, size_t ancestor, size_t index) {
  for (int p = tree.parts[index].parent; p >= 0; p = tree.parts[static_cast<size_t>(p)].parent) {
    if (static_cast<size_t>(p) == ancestor) return true;
  }
  return false;
}

// True when no ancestor of `index` is a message/* part whose body had to be decoded (then the
// descendants' bytes are not in the raw message).
bool ancestors_in_raw(const mime::MessageTree &tree, size_t index) {
  for (int p = tree.parts[index].parent; p >= 0; p = tree.parts[static_cast<size_t>(p)].parent) {
    const mime::Part &a = tree.parts[static_cast<size_t>(p)];
    if (!a.is_message) continue;
    const mime::TransferEncoding te = mime::classify_transfer_encoding(a.transfer_encoding);
    if (te != mime::TransferEncoding::kIdentity && te != mime::TransferEncoding::kUnknown) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::string> strip_parts(
    std::string_view raw, const mime::MessageTree &tree,
    const std::vector<std::pair<std::string, std::string>> &path_and_reason,
    const StripOptions &options) {
  if (path_and_reason.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "strip_parts: no part to strip");
  }
  if (tree.parts.empty() || tree.parts[0].raw_offset != 0 ||
      tree.parts[0].raw_length != raw.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "strip_parts: the MIME tree does not describe this message");
  }
  // One entry per part: several findings on one part (its name, its true type) are one removal
  // with all their reasons.
  std::vector<std::pair<std::string, std::string>> requests;
  for (const auto &request : path_and_reason) {
    const std::string &path = request.first;  // (a lambda cannot capture a structured binding)
    auto same = std::find_if(requests.begin(), requests.end(),
                             [&path](const auto &r) { return r.first == path; });
    if (same == requests.end())
      requests.push_back(request);
    else if (same->second != request.second)
      same->second += "; " + request.second;
  }
  std::map<size_t, Target> targets;  // by part index
  for (const auto &[path, reason] : requests) {
    size_t idx = tree.parts.size();
    for (size_t i = 0; i < tree.parts.size(); ++i) {
      if (tree.parts[i].path == path) {
        idx = i;
        break;
      }
    }
    if (idx == tree.parts.size()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "strip_parts: no part \"" + safe_text(path, 64) + "\" in the message");
    }
    const mime::Part &req = tree.parts[idx];
    Removed r;
    r.path = safe_text(path, 64);
    const std::string &name = !req.filenames.empty() ? req.filenames.front() : req.filename_raw;
    r.filename = name.empty() ? "(no name)" : safe_text(name, 256);
    r.reason = safe_text(reason, 512);
    // Climb to the nearest real MIME entity whose bytes are in `raw`: embedded blocks (uuencode,
    // yEnc, BinHex) and alternate readings of an ambiguous entity are removed with their holder.
    size_t t = idx;
    while (tree.parts[t].parent >= 0 &&
           (tree.parts[t].origin != mime::PartOrigin::kMime || !ancestors_in_raw(tree, t))) {
      t = static_cast<size_t>(tree.parts[t].parent);
    }
    const mime::Part &tp = tree.parts[t];
    if (tp.raw_offset > raw.size() || tp.raw_length > raw.size() - tp.raw_offset) {
      return make_error(ErrorCode::kInvalidArgument,
                        "strip_parts: part " + tp.path + " lies outside the message");
    }
    Target &target = targets[t];
    target.index = t;
    target.removed.push_back(std::move(r));
  }
  // An outer target swallows the ones inside it.
  for (auto it = targets.begin(); it != targets.end();) {
    bool merged = false;
    for (auto &[other, outer] : targets) {
      if (other != it->first && is_ancestor(tree, other, it->first)) {
        for (auto &r : it->second.removed) outer.removed.push_back(std::move(r));
        merged = true;
        break;
      }
    }
    it = merged ? targets.erase(it) : std::next(it);
  }

  const size_t first_nl = raw.find('\n');
  const std::string_view eol =
      first_nl != std::string_view::npos && first_nl > 0 && raw[first_nl - 1] == '\r' ? "\r\n"
                                                                                      : "\n";
  std::vector<const Target *> ordered;
  for (const auto &[idx, target] : targets) ordered.push_back(&target);
  std::sort(ordered.begin(), ordered.end(), [&tree](const Target *a, const Target *b) {
    return tree.parts[a->index].raw_offset < tree.parts[b->index].raw_offset;
  });

  std::string out;
  out.reserve(raw.size() + 1024);
  uint64_t copied = 0;  // raw[0, copied) is already in `out`
  for (const Target *t : ordered) {
    const mime::Part &p = tree.parts[t->index];
    if (p.raw_offset < copied) {
      return make_error(ErrorCode::kInvalidArgument,
                        "strip_parts: overlapping parts in the MIME tree at " + p.path);
    }
    out.append(raw.substr(copied, p.raw_offset - copied));
    const std::string_view entity = raw.substr(p.raw_offset, p.raw_length);
    const bool in_multipart =
        p.parent >= 0 && tree.parts[static_cast<size_t>(p.parent)].is_multipart;
    if (in_multipart) {
      out += notice_fields_and_body(t->removed, options, eol);
    } else {
      out += rewrite_entity(entity, p.parent < 0, t->removed, options, eol);
    }
    copied = p.raw_offset + p.raw_length;
  }
  out.append(raw.substr(copied));

  if (!options.added_header.empty()) {
    std::string value = std::to_string(requests.size()) + " part(s) removed:";
    for (const Target *t : ordered) {
      for (const auto &r : t->removed) value += " " + r.path + " " + r.filename + ";";
    }
    if (value.back() == ';') value.pop_back();
    value = ascii_only(value);
    if (value.size() > 900) value = value.substr(0, 897) + "...";
    std::string field = ascii_only(options.added_header) + ": " + value;
    field += eol;
    size_t at = 0;
    if (out.compare(0, 5, "From ") == 0) {  // keep an mbox separator line first
      const size_t nl = out.find('\n');
      at = nl == std::string::npos ? out.size() : nl + 1;
    }
    out.insert(at, field);
  }
  return out;
}

}  // namespace avsink::rewrite
