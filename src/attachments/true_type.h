// true_type.h - what a file really is, by its first bytes (and libclamav's type names for members).
// Pure functions over bounded reads: the first 64 KiB of a body (plus 16 bytes of an OLE2
// directory).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace avsink::attachments {

// The content classes the attachment policy can block by true type. The list-file spelling is
// the lowercase to_string() name after "type:" ("type:pe").
enum class TrueType {
  kNone = 0,  // nothing we block by content
  kPe,        // "pe": MZ + PE\0\0 header, or an MZ DOS executable with a binary header
  kElf,       // "elf": \x7fELF
  kMachO,     // "macho": thin 32/64-bit either endianness, and universal (fat) binaries
  kShebang,   // "shebang": "#!/..." interpreter script
  kHta,       // "hta": HTML application (<HTA:APPLICATION in the first 64 KiB)
  kLnk,       // "lnk": Windows shell link (header size 0x4C + the ShellLink CLSID)
  kMsi,       // "msi": OLE2 compound file whose root CLSID is an MSI/MSP/MST package
};

std::string_view to_string(TrueType type);  // "pe", "elf", ... ("none" for kNone)
// Parses the lowercase names above; nullopt for anything else (including "none").
std::optional<TrueType> true_type_from_string(std::string_view name);
// Name part of a finding: "PE", "ELF", "MachO", "Script", "HTA", "LNK", "MSI".
std::string_view finding_suffix(TrueType type);
// One human phrase: "a Windows PE executable", "a shell-link (LNK) file", ...
std::string_view describe(TrueType type);
// Script-like classes (shebang, HTA) are text: only judged on parts that are attachments, never
// on a message's own inline text body.
bool is_text_class(TrueType type);
// Every class except kNone, in enum order.
const std::vector<TrueType> &all_true_types();

// Detects the class of `data` from its leading bytes. Thread-safe; reads at most 64 KiB (plus the
// OLE2 directory sector, when the file is a compound file). kNone when nothing matches.
TrueType detect_true_type(std::string_view data);

// Maps a libclamav type name ("CL_TYPE_MSEXE", "CL_TYPE_ELF", "CL_TYPE_MACHO",
// "CL_TYPE_MACHO_UNIBIN", "CL_TYPE_LNK") to a class; kNone for every other type.
TrueType true_type_of_clamav(std::string_view cl_type);

// Names of the encrypted entries of a zip archive, read from its central directory (plain text
// even when the data is encrypted), and both names of every entry whose local header names it
// differently from the central directory (readers differ in which one they show and extract
// under; libarchive and libclamav read the local one). At most `max_names` of each (a pair may
// end one over); empty when `data` is not a zip or its directory is unreadable. Thread-safe;
// bounds-checked reads only.
struct ZipDirectoryScan {
  bool is_zip = false;                        // an end-of-central-directory record was found
  bool any_encrypted = false;                 // some entry has the encryption flag (bit 0)
  std::vector<std::string> encrypted_names;   // raw names (CP437 or UTF-8, as stored)
  std::vector<std::string> mismatched_names;  // local then central name of each such entry
};
ZipDirectoryScan scan_zip_directory(std::string_view data, size_t max_names);

}  // namespace avsink::attachments
