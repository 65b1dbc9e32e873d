// entity.cpp - header block scanning/unfolding and the interpretation of the MIME fields.
// mimetic only ever sees single field values that already passed max_header_bytes/max_params.
#include "mime/entity.h"

#include <algorithm>
#include <cstring>
#include <exception>

#include <mimetic/contentdisposition.h>
#include <mimetic/contenttype.h>

#include "mime/header_words.h"
#include "mime/readings.h"

namespace avsink::mime {
namespace {

void add_problem(std::vector<std::string> *problems, std::string_view name) {
  if (std::find(problems->begin(), problems->end(), name) == problems->end())
    problems->emplace_back(name);
}

bool valid_name_char(unsigned char c) {
  return c >= 0x21 && c <= 0x7e && c != ':';
}

// Splits "type/subtype" when both halves are RFC 2045 tokens.
bool split_media_type(std::string_view mt, std::string *type, std::string *subtype) {
  size_t slash = mt.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view t = mt.substr(0, slash), s = mt.substr(slash + 1);
  if (!is_token(t) || !is_token(s)) return false;
  *type = ascii_lower(t);
  *subtype = ascii_lower(s);
  return true;
}

// mimetic's reading of a Content-Type value: "type/subtype" or "" when it threw or gave junk.
std::string mimetic_media_type(const std::string &value) {
  try {
    mimetic::ContentType ct(value);
    std::string t = normalize_token(std::string(ct.type()));
    std::string s = normalize_token(std::string(ct.subtype()));
    if (is_token(t) && is_token(s)) return t + "/" + s;
  } catch (const std::exception &) {
    // fall through: our tokenizer decides, and the caller records the problem
  }
  return {};
}

// mimetic's reading of a Content-Disposition type, "" when it threw or gave junk.
std::string mimetic_disposition(const std::string &value) {
  try {
    mimetic::ContentDisposition cd(value);
    std::string t = normalize_token(std::string(cd.type()));
    if (is_token(t)) return t;
  } catch (const std::exception &) {
    // fall through
  }
  return {};
}

void push_unique(std::vector<std::string> *v, const std::string &s) {
  if (s.empty()) return;
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
}

std::string trim_boundary(std::string b) {
  while (!b.empty() && (b.back() == ' ' || b.back() == '\t')) b.pop_back();
  return b;
}

// The boundary a Content-Type's parameters define: the first plain boundary=, else the RFC 2231
// form. Every other candidate (duplicates, the other form, recovery readings) goes to *others.
std::string pick_boundary(const std::vector<Param> &params, std::vector<std::string> *others) {
  const Param *first = nullptr;
  for (const Param &p : params) {
    if (p.name != "boundary") continue;
    if (!first) {
      first = &p;
    } else if (others) {
      push_unique(others, trim_boundary(p.value));
    }
    if (others && !p.alt.empty()) push_unique(others, trim_boundary(p.alt));
  }
  ParamLookup b = find_param(params, "boundary");
  std::string picked = first ? first->value : (b.found ? b.value : "");
  if (others) {
    if (b.found) push_unique(others, trim_boundary(b.value));
    for (const auto &a : b.alternates) push_unique(others, trim_boundary(a));
  }
  return trim_boundary(picked);
}

bool same_reading(const AltReading &a, const AltReading &b) {
  return a.type == b.type && a.subtype == b.subtype && a.boundary == b.boundary &&
         a.transfer_encoding == b.transfer_encoding;
}

// Adds `a` unless it equals the primary reading or an earlier alternate.
void add_alternate(EntityInfo *info, AltReading a) {
  AltReading primary{info->type, info->subtype, info->boundary, info->transfer_encoding, false, ""};
  if (same_reading(a, primary)) return;
  for (const AltReading &o : info->alternates)
    if (same_reading(a, o)) return;
  info->alternates.push_back(std::move(a));
}

}  // namespace

std::string normalize_field_name(std::string_view name) {
  std::string out;
  int depth = 0;
  for (char c : name) {
    if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0 && c != ' ' && c != '\t') {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
  }
  return out;
}

HeaderScan scan_headers(std::string_view entity, bool allow_mbox_from, const Limits &limits) {
  HeaderScan hs;
  const size_t n = entity.size();
  size_t pos = 0;
  if (allow_mbox_from && entity.substr(0, 5) == "From ") {
    const void *nl = std::memchr(entity.data(), '\n', n);
    pos = nl ? static_cast<size_t>(static_cast<const char *>(nl) - entity.data()) + 1 : n;
  }
  bool storing = true;
  bool have_current = false;  // the last stored field may still get continuation lines
  const size_t block_start = pos;
  while (true) {
    if (pos >= n) {
      hs.body_offset = n;
      break;
    }
    const void *nlp = std::memchr(entity.data() + pos, '\n', n - pos);
    size_t content_end =
        nlp ? static_cast<size_t>(static_cast<const char *>(nlp) - entity.data()) : n;
    size_t line_end = nlp ? content_end + 1 : n;
    if (content_end > pos && entity[content_end - 1] == '\r') --content_end;
    std::string_view content = entity.substr(pos, content_end - pos);
    if (content.empty()) {
      hs.body_offset = line_end;
      break;
    }
    const bool continuation = content[0] == ' ' || content[0] == '\t';
    if (storing && line_end - block_start > limits.max_header_bytes) {
      hs.bytes_exceeded = true;
      storing = false;
      if (have_current && continuation) hs.fields.pop_back();  // never keep a cut field
      have_current = false;
    }
    if (continuation) {
      if (!have_current && storing && hs.fields.empty())
        add_problem(&hs.problems, "MIME.Malformed.LeadingContinuation");
      if (have_current) hs.fields.back().value.append(content);
      pos = line_end;
      continue;
    }
    size_t colon = content.find(':');
    bool is_field = colon != std::string_view::npos;
    size_t name_end = colon;
    if (is_field) {
      while (name_end > 0 && (content[name_end - 1] == ' ' || content[name_end - 1] == '\t'))
        --name_end;
      for (size_t k = 0; k < name_end && is_field; ++k)
        is_field = valid_name_char(static_cast<unsigned char>(content[k]));
    }
    if (!is_field) {
      add_problem(&hs.problems, "MIME.Malformed.NoHeaderSeparator");
      hs.body_offset = pos;
      break;
    }
    if (name_end != colon) add_problem(&hs.problems, "MIME.Malformed.HeaderNameWhitespace");
    have_current = false;
    if (storing && hs.fields.size() >= limits.max_header_fields) {
      hs.fields_exceeded = true;
      storing = false;
    }
    if (storing) {
      size_t v = colon + 1;
      while (v < content.size() && (content[v] == ' ' || content[v] == '\t')) ++v;
      hs.fields.push_back(
          HeaderField{std::string(content.substr(0, name_end)), std::string(content.substr(v))});
      have_current = true;
    }
    pos = line_end;
  }
  return hs;
}

EntityInfo analyze_entity(const std::vector<HeaderField> &fields, bool digest_child,
                          uint32_t max_params) {
  EntityInfo info;
  const HeaderField *ct = nullptr, *cd = nullptr, *cte = nullptr;
  // Every Content-Type / Content-Disposition after the first: their names are candidates too
  // (HOSTILE #34: a name is bad if ANY reading of it is).
  std::vector<const HeaderField *> extra_naming;
  for (const HeaderField &f : fields) {
    std::string norm = normalize_field_name(f.name);
    if (norm != ascii_lower(f.name) && (norm == "content-type" || norm == "content-disposition" ||
                                        norm == "content-transfer-encoding"))
      add_problem(&info.problems, "MIME.Ambiguous.CommentInFieldName");
    if (norm == "content-type") {
      if (ct) {
        add_problem(&info.problems, "MIME.Ambiguous.DuplicateContentType");
        extra_naming.push_back(&f);
      } else {
        ct = &f;
      }
    } else if (norm == "content-disposition") {
      if (cd) {
        add_problem(&info.problems, "MIME.Ambiguous.DuplicateDisposition");
        extra_naming.push_back(&f);
      } else {
        cd = &f;
      }
    } else if (norm == "content-transfer-encoding") {
      if (cte) {
        if (normalize_token(cte->value) != normalize_token(f.value))
          add_problem(&info.problems, "MIME.Ambiguous.DuplicateTransferEncoding");
      } else {
        cte = &f;
      }
    }
  }

  StructuredValue ctv, cdv;
  bool have_type = false;
  if (ct) {
    ctv = parse_structured(ct->value, max_params);
    info.params_exceeded |= ctv.params_exceeded;
    for (const auto &p : ctv.problems) add_problem(&info.problems, p);
    std::string mimetic_mt = mimetic_media_type(ct->value);
    std::string ours_type, ours_sub;
    bool ours_ok = split_media_type(ctv.token, &ours_type, &ours_sub);
    if (!mimetic_mt.empty()) {
      have_type = split_media_type(mimetic_mt, &info.type, &info.subtype);
      if (ours_ok && (ours_type != info.type || ours_sub != info.subtype)) {
        add_problem(&info.problems, "MIME.Ambiguous.ContentType");
        info.type = ours_type;
        info.subtype = ours_sub;
      }
    } else if (ours_ok) {
      add_problem(&info.problems, "MIME.Malformed.ContentType");
      info.type = ours_type;
      info.subtype = ours_sub;
      have_type = true;
    } else {
      add_problem(&info.problems, "MIME.Malformed.ContentType");
    }
  }
  if (!have_type) {
    info.type = digest_child ? "message" : "text";
    info.subtype = digest_child ? "rfc822" : "plain";
  }

  if (ct) {
    ParamLookup cs = find_param(ctv.params, "charset");
    if (cs.found) info.charset = ascii_lower(cs.value);
    // Boundary: the first plain boundary= wins; an RFC 2231 form only when there is none.
    int count = 0;
    for (const Param &p : ctv.params)
      if (p.name == "boundary" || p.name.rfind("boundary*", 0) == 0) ++count;
    if (count > 1) add_problem(&info.problems, "MIME.Ambiguous.DuplicateParam");
    info.boundary = pick_boundary(ctv.params, nullptr);
  }

  if (cd) {
    cdv = parse_structured(cd->value, max_params);
    info.params_exceeded |= cdv.params_exceeded;
    for (const auto &p : cdv.problems) add_problem(&info.problems, p);
    std::string m = mimetic_disposition(cd->value);
    if (m.empty()) {
      if (!cdv.token.empty()) add_problem(&info.problems, "MIME.Malformed.ContentDisposition");
      info.disposition = is_token(cdv.token) ? cdv.token : "";
    } else {
      info.disposition = m;
      if (is_token(cdv.token) && cdv.token != m) {
        add_problem(&info.problems, "MIME.Ambiguous.ContentDisposition");
        info.disposition = cdv.token;
      }
    }
    for (const Param &p : cdv.params)
      if (p.name == "boundary" || p.name.rfind("boundary*", 0) == 0)
        add_problem(&info.problems, "MIME.Ambiguous.BoundaryOnDisposition");
  }

  if (cte) info.transfer_encoding = normalize_token(cte->value);

  ParamLookup fn, nm;
  if (cd) fn = find_param(cdv.params, "filename");
  if (ct) nm = find_param(ctv.params, "name");
  for (const auto &p : fn.problems) add_problem(&info.problems, p);
  for (const auto &p : nm.problems) add_problem(&info.problems, p);
  if (fn.found) push_unique(&info.filenames, fn.value);
  if (nm.found) push_unique(&info.filenames, nm.value);
  for (const auto &a : fn.alternates) push_unique(&info.filenames, a);
  for (const auto &a : nm.alternates) push_unique(&info.filenames, a);
  for (const HeaderField *f : extra_naming) {
    StructuredValue v = parse_structured(f->value, max_params);
    ParamLookup extra = find_param(v.params, "filename");
    if (!extra.found) extra = find_param(v.params, "name");
    if (extra.found) push_unique(&info.filenames, extra.value);
    for (const auto &a : extra.alternates) push_unique(&info.filenames, a);
  }
  // Every name any dialect reads from every naming field (readings.h), RFC 2047 and RFC 2231
  // decoded and as written: a name is bad if any reading of it is (HOSTILE #34).
  for (const HeaderField &f : fields) {
    const std::string norm = normalize_field_name(f.name);
    if (norm != "content-type" && norm != "content-disposition") continue;
    for (const char *key : {"filename", "name"}) {
      for (const std::string &v : lenient_param_values(f.value, key)) {
        push_unique(&info.filenames, decode_rfc2047(v));
        std::string cs, pct;
        std::string_view data = v;
        if (size_t q1 = v.find('\''); q1 != std::string::npos) {
          if (size_t q2 = v.find('\'', q1 + 1); q2 != std::string::npos) {
            cs = v.substr(0, q1);
            data = std::string_view(v).substr(q2 + 1);
          }
        }
        if (v.find('%') != std::string::npos) {
          std::string bytes = percent_decode(data), u;
          charset_to_utf8(bytes, cs, &u);
          push_unique(&info.filenames, u);
        }
      }
    }
  }
  // Content-Location (RFC 2557): readers that save a part without a name take the last segment
  // of its URL (ripmime does), percent-decoded or not.
  for (const HeaderField &f : fields) {
    if (normalize_field_name(f.name) != "content-location") continue;
    std::string v = decode_rfc2047(f.value);
    v.erase(std::remove_if(v.begin(), v.end(),
                           [](char c) { return c == '"' || c == '\r' || c == '\n'; }),
            v.end());
    v.erase(0, std::min(v.size(), v.find_first_not_of(" \t")));
    v.erase(v.find_last_not_of(" \t") + 1);
    const size_t slash = v.find_last_of("/\\");
    const std::string last = slash == std::string::npos ? v : v.substr(slash + 1);
    if (last.empty()) continue;
    push_unique(&info.filenames, last);
    if (last.find('%') != std::string::npos)
      push_unique(&info.filenames, to_utf8_lenient(percent_decode(last)));
  }
  if (fn.found && nm.found && !fn.value.empty() && !nm.value.empty() && fn.value != nm.value)
    add_problem(&info.problems, "MIME.Ambiguous.FilenameMismatch");
  info.filename_raw = fn.found ? fn.raw : (nm.found ? nm.raw : "");

  // Alternate readings (UNION, HOSTILE #13-15, #26), most telling first; add_alternate() caps them.
  const bool multipart = info.type == "multipart";
  for (const HeaderField &f : fields) {  // a second (third ...) Content-Type field
    if (&f == ct || normalize_field_name(f.name) != "content-type") continue;
    StructuredValue v = parse_structured(f.value, max_params);
    info.params_exceeded |= v.params_exceeded;
    AltReading a;
    if (!split_media_type(v.token, &a.type, &a.subtype)) continue;
    if (a.type == "multipart") a.boundary = pick_boundary(v.params, nullptr);
    a.transfer_encoding = info.transfer_encoding;
    a.why = "MIME.Ambiguous.DuplicateContentType";
    add_alternate(&info, std::move(a));
  }
  if (ct && multipart) {  // every other boundary candidate of the Content-Type
    std::vector<std::string> others;
    pick_boundary(ctv.params, &others);
    for (const std::string &b : others)
      add_alternate(&info, AltReading{info.type, info.subtype, b, info.transfer_encoding, false,
                                      "MIME.Ambiguous.DuplicateParam"});
  }
  for (const HeaderField &f : fields) {  // a second Content-Transfer-Encoding field
    if (&f == cte || normalize_field_name(f.name) != "content-transfer-encoding") continue;
    add_alternate(
        &info, AltReading{info.type, info.subtype, info.boundary, normalize_token(f.value), false,
                          "MIME.Ambiguous.DuplicateTransferEncoding"});
  }
  if (cd && multipart) {  // only Content-Type defines the boundary: a fallback reading
    ParamLookup b = find_param(cdv.params, "boundary");
    if (b.found && !trim_boundary(b.value).empty())
      add_alternate(
          &info, AltReading{info.type, info.subtype, trim_boundary(b.value), info.transfer_encoding,
                            true, "MIME.Ambiguous.BoundaryOnDisposition"});
  }
  return info;
}

}  // namespace avsink::mime
