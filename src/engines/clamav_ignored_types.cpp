// clamav_ignored_types.cpp - the magics libclamav's built-in file types skip (CL_TYPE_IGNORED).
// Invariant: the table mirrors libclamav 1.x filetypes_int.h; a test scans each one through
// libclamav.
#include "engines/clamav_ignored_types.h"

#include <string>

namespace avsink::engines {
namespace {

using namespace std::string_view_literals;

// Magics at offset 0 (libclamav's "0:0:<hex>:...:CL_TYPE_IGNORED" entries).
constexpr std::string_view kAtStart[] = {
    "\x00\x00\x01\xb3"sv,                  // MPEG video stream
    "\x00\x00\x01\xba"sv,                  // MPEG system stream
    ".RMF"sv,                              // RealMedia
    "ID3"sv,                               // MP3 with an ID3v2 tag
    "OggS"sv,                              // Ogg stream
    "\xff\xfb\x90"sv,                      // MP3 frame
    "SIP-HIT (SIP/H"sv,                    // SIP log
    "SYMC\x01\x00"sv,                      // Symantec definitions file
    "\x37\x7f\x06\x82\x00\x2d\xe2\x18"sv,  // SQLite WAL
    "\x37\x7f\x06\x83\x00\x2d\xe2\x18"sv,  // SQLite WAL
    "SQLite format 3\x00"sv,               // SQLite database
    "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7"sv,  // SQLite journal
};

// "1:0,128:2f5247420a49440a ff*24": a raw image inside a PDF, starting within the first 128 bytes.
constexpr size_t kPdfImageWindow = 128;

}  // namespace

size_t ignored_type_offset(std::string_view data) {
  for (std::string_view magic : kAtStart) {
    if (data.substr(0, magic.size()) == magic) return 0;
  }
  static const std::string pdf_image = "/RGB\nID\n" + std::string(24, '\xff');
  const size_t at = data.substr(0, kPdfImageWindow + pdf_image.size()).find(pdf_image);
  if (at != std::string_view::npos && at <= kPdfImageWindow) return at;
  return std::string_view::npos;
}

}  // namespace avsink::engines
