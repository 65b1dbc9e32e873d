// tnef.h - a small reader for TNEF (winmail.dat): the attachments' names and bytes, nothing else.
// Bounds-checked on every field; a damaged stream yields what was read before it and an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace avsink::containers {

// One attachment of a TNEF stream.
struct TnefAttachment {
  // The best name: PR_ATTACH_LONG_FILENAME (MAPI), else PR_ATTACH_FILENAME, else attAttachTitle;
  // UTF-8 (PT_UNICODE is converted, 8-bit strings are kept as written). "" when none is given.
  std::string name;
  // Every distinct name the stream gives this attachment (title and MAPI names), in that order,
  // so each can be judged: a stream may show one name and carry another.
  std::vector<std::string> names;
  std::string_view data;  // attAttachData, else PR_ATTACH_DATA_OBJ; a view into the input
  bool has_data = false;
};

struct TnefStream {
  std::vector<TnefAttachment> attachments;
  std::string error;  // "" when the whole stream was read; else why reading stopped
};

// True when `data` starts with the TNEF signature 0x223E9F78 (little-endian). Pure function:
// thread-safe, borrows `data` for the call, never fails.
bool is_tnef(std::string_view data);

// Reads the attributes of a TNEF stream (MS-OXTNEF 2.1.3): attAttachRenddata starts an
// attachment; attAttachTitle, attAttachData and the MAPI properties in attAttachment name it and
// carry its bytes. Attribute checksums are not verified (clients ignore them, so an attacker
// gains nothing by breaking one). A damaged stream keeps the attachments read before the damage.
// Ownership: the result views `data`, which must outlive it. Thread-safety: pure function. Errors:
// in TnefStream::error, never thrown (except std::bad_alloc).
TnefStream read_tnef(std::string_view data);

}  // namespace avsink::containers
