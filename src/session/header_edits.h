// header_edits.h - the top-header-block edits an MTA applies to deliver a verdict: the rewritten
// block of a REWRITE, and deletion of inbound copies of the header fields avsink owns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace avsink::session {

// One header field of a top header block.
struct HeaderField {
  std::string name;
  std::string value;  // as it follows the colon; "\r" removed, folds as "\n" + whitespace
};

// One change to the message's top header block, in the terms of smfi_chgheader/smfi_addheader.
struct HeaderEdit {
  enum Kind { kChange, kAdd, kDelete } kind = kAdd;
  std::string name;
  uint32_t index = 0;  // kChange/kDelete: 1-based occurrence of `name` (case-insensitive)
  std::string value;   // kChange/kAdd: as HeaderField::value; "" for kDelete
};

// The header fields of the top block of `message` (up to the first empty line) and, in
// *body_offset, the first body byte (== size when there is no body). A line without a colon is
// not a field and is skipped. Pure; thread-safe.
std::vector<HeaderField> split_message(std::string_view message, size_t *body_offset);

// True for a header field avsink owns, whoever wrote it: X-Virus-Scanned, X-Virus-Status, any
// X-Avsink-*, or a name in `also` (the configured header names). Case-insensitive. Pure.
bool is_owned_header(std::string_view name, const std::vector<std::string> &also);

// `fields` without the owned headers copied from the inbound message (the first N occurrences of
// each owned name, N = how many of it `inbound` has); owned headers added after them stay. Pure.
std::vector<HeaderField> drop_inbound_owned(const std::vector<HeaderField> &inbound,
                                            std::vector<HeaderField> fields,
                                            const std::vector<std::string> &also);

// The edits that turn `original` into `wanted`. Names compare case-insensitively, occurrences in
// order, values byte for byte. Changes and adds come first; deletes last, from the highest index
// of a name down, so that every index stays valid while the edits are applied in order. Pure.
std::vector<HeaderEdit> diff_headers(const std::vector<HeaderField> &original,
                                     const std::vector<HeaderField> &wanted);

// What a verdict does to the top header block of the scanned message `original`: the rewritten
// message's block when `rewritten` is non-null (a REWRITE), else the original's, in both cases
// without the inbound copies of owned headers (`also`: the names of the headers the verdict
// adds). Pure; thread-safe.
std::vector<HeaderEdit> delivery_header_edits(std::string_view original,
                                              const std::string *rewritten,
                                              const std::vector<std::string> &also);

}  // namespace avsink::session
