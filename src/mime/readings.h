// readings.h - what any modelled mail reader could take from an entity's header fields.
// Candidate boundaries and parameter values, read by each dialect; the parser keeps those the body
// uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mime/message_tree.h"

namespace avsink::mime {

// Every value parameter `key` (lowercase, e.g. "boundary", "filename") could have in the field
// value `value`, read the ways mail readers do (docs/hostile-input.md, "Readings"):
// - the key is found anywhere, case-insensitively, with RFC 822 comments, whitespace (also CR, VT,
//   FF) and RFC 2231 "*N*" suffixes between it and "=";
// - the value is read quoted (up to the next quote, with and without backslash escapes, double or
//   single quotes), unquoted (up to ";", up to whitespace, up to the end), with quotes removed,
//   and with comments removed.
// Values are as written (no RFC 2047 / RFC 2231 decoding), without duplicates, in order of
// appearance. Linear in value size times the number of key occurrences. Thread-safe.
std::vector<std::string> lenient_param_values(std::string_view value, std::string_view key);

// The header-side facts the parser's readings need, computed once per entity.
struct HeaderReadings {
  // Boundaries any dialect reads from any Content-Type field (a field whose name contains "type")
  // (strict tokenizer with every duplicate and recovery reading, RFC 2231 joined in every order,
  // lenient_param_values(), each also RFC 2047-decoded and with trailing whitespace trimmed or
  // kept).
  std::vector<std::string> boundaries;
  // Some Content-Type field could be read as a multipart: it mentions "ulti" (multipart and
  // its near misses) after RFC 2047 decoding, or has a boundary parameter.
  bool multipart_ish = false;
  // A boundary parameter is present with an empty or whitespace-only value.
  bool empty_boundary = false;
  // Every Content-Type field value (any field whose name, comments removed, contains "type"),
  // with quotes, backslashes, whitespace and controls removed, also RFC 2047 and %XX decoded,
  // joined: mentions() searches it.
  std::string flat;

  // Does some Content-Type field mention `x` (compared the same flattened way)? Strings shorter
  // than 6 bytes count only right after an "=".
  bool mentions(std::string_view x) const;
};

// Reads `fields` (one entity's header block). Thread-safe.
HeaderReadings header_readings(const std::vector<HeaderField> &fields, uint32_t max_params);

}  // namespace avsink::mime
