// container_member.h - a file met inside a container (archive member, embedded object), and what
// the inspector judging it says next. Below the engines and the attachment policy, so both use it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace avsink {

// A file an engine (or container reader) met while unpacking a container. Readers that see into
// containers report each member through a callback (engines::ScanItem::on_member).
struct ContainerMember {
  std::string path;       // member path inside the part, outer to inner: "inner.zip/setup.exe";
                          // unnamed layers (the tar inside a .tar.gz) add no component
  std::string file_type;  // engine's detected type, e.g. "CL_TYPE_MSEXE", "CL_TYPE_ZIP"
  uint32_t depth = 0;     // 1 = direct member of the part
  uint64_t size = 0;
  // The member's bytes when the engine has them at hand ("" otherwise); valid only during the
  // on_member call, so a callback that needs them later must copy.
  std::string_view data;
};

// What the on_member callback tells the reader to do next.
enum class MemberDecision { kContinue, kStop };

}  // namespace avsink
