// filename.h - attachment names as Windows and MUAs will read them: normalised, every reading.
// Pure functions, linear in the name; names longer than kMaxNameBytes are judged on a prefix+tail.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace avsink::attachments {

// Longest name judged whole; longer names keep their first and last 2 KiB (the extension is at
// the end, the tricks at either end).
inline constexpr size_t kMaxNameBytes = 4096;

// One name normalised without ICU (HOSTILE #36-38), for the extension test:
//  - UTF-8 decoded leniently (bytes that are not UTF-8 are kept as they are);
//  - format characters removed: bidi controls (U+200E/F, U+202A-202E, U+2066-2069, U+061C),
//    zero-width U+200B-200D, U+2060-2064, BOM U+FEFF, soft hyphen U+00AD, U+034F, U+180E,
//    variation selectors U+FE00-FE0F; C0/C1 controls other than NUL and TAB/CR/LF removed;
//  - look-alike dots U+FF0E, U+2024, U+3002, U+FE52, U+FF61 become '.'; Unicode spaces, TAB,
//    CR and LF become ' ';
//  - full-width ASCII U+FF01-FF5E becomes ASCII; ASCII is lowercased;
//  - the last path component is kept ('/' and '\' both separate);
//  - trailing dots and spaces are stripped (as Windows does).
// NUL is kept as a character here; name_readings() adds the NUL-terminated reading.
std::string normalize_name(std::string_view name);

// Every plausible reading of `name`, each normalised and unique, in this order: as given; cut at
// the first NUL; %XX-decoded (after an RFC 2231 "charset'lang'" prefix, if any) and that cut at
// NUL; RFC 822 comments "(...)" removed; cut at the first ';' or '"'; then each of those that ends
// in a single-stream compression suffix (.gz .bz2 .xz .lzma .z .lz .zst .lz4) without it, as a
// decompressor names the file. Empty readings are dropped.
std::vector<std::string> name_readings(std::string_view name);

// The extension of a normalised name: what follows the last '.', "" when there is no dot or
// nothing follows it. A name that is only ".exe" has the extension "exe".
std::string_view extension_of(std::string_view normalized);

// The extension before the last one, spaces trimmed ("pdf" for "invoice.pdf   .exe"), "" if none.
std::string_view previous_extension(std::string_view normalized);

// True when the segment before the final extension ends in a run of >= 3 spaces
// ("invoice.pdf      .exe"): the MUA shows "invoice.pdf" and hides the rest.
bool has_padded_extension(std::string_view normalized);

// True for an extension that is a braced CLSID: "{3050f4d8-98b5-11cf-bb82-00aa00bdce0b}".
bool is_clsid(std::string_view ext);

// Bidi override/embedding/isolate characters (U+202A-202E, U+2066-2069) anywhere in `name`
// (read as UTF-8, also after %XX decoding): the right-to-left-override trick.
bool has_bidi_override(std::string_view name);

// A form of `name` safe for logs, headers and terminals: printable ASCII and printable UTF-8 kept;
// controls, format characters and invalid bytes written as <U+202E> / <0x00>; at most 512 bytes
// (then "..."). Never contains CR, LF or NUL.
std::string display_name(std::string_view name);

// The last component of an archive member path ('/' or '\' separated); may be "".
std::string_view member_basename(std::string_view path);

}  // namespace avsink::attachments
