// clamav_ignored_types.h - data libclamav types as CL_TYPE_IGNORED and then never scans at all.
// Invariant: ignored_type_offset() names a byte whose change makes libclamav read the data as plain
// binary.
#pragma once

#include <cstddef>
#include <string_view>

namespace avsink::engines {

// libclamav's built-in file types (filetypes_int.h, libclamav 1.x) mark media and database formats
// CL_TYPE_IGNORED: data that starts with such a magic (MP3/ID3, Ogg, MPEG, RealMedia, SQLite, ...)
// or has the "PDF image" pattern in its first 128 bytes is skipped whole, signatures included.
// Anything can hide behind such a prefix, including a zip that unzippers still open (found by
// fuzz_scan: ID3, then OggS). Returns the offset of the first byte of the magic found, or npos.
// A database's daily.ftm may add more such types; only the built-in ones are known here.
// Thread-safe (pure).
size_t ignored_type_offset(std::string_view data);

}  // namespace avsink::engines
