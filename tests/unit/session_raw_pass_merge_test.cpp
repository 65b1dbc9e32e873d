// session_raw_pass_merge_test.cpp - which findings of the raw-message pass join the part pass's:
// limit artefacts dropped, viruses once, content held back from libclamav always kept.
#include <gtest/gtest.h>

#include <string>

#include "session/raw_pass_merge.h"

namespace {

using avsink::Finding;
using avsink::FindingKind;
using avsink::Findings;

Finding finding(FindingKind kind, const std::string &name, const std::string &part = "") {
  Finding f;
  f.kind = kind;
  f.name = name;
  f.part_path = part;
  return f;
}

std::string names(const Findings &fs) {
  std::string out;
  for (const auto &f : fs) out += (out.empty() ? "" : ",") + f.name + "@" + f.part_path;
  return out;
}

TEST(RawPassMerge, LimitsDroppedVirusesOnceHeldBackContentKept) {
  const Finding eicar_part = finding(FindingKind::kVirus, "Eicar-Test-Signature", "1.2");
  const Finding held_part =
      finding(FindingKind::kUnscannable, "Limits.Exceeded.MimeFieldLength", "1.2");
  struct Case {
    const char *what;
    Findings out;
    Findings whole;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"a virus the parts had",
       {eicar_part},
       {finding(FindingKind::kVirus, "Eicar-Test-Signature")},
       "Eicar-Test-Signature@1.2"},
      {"a virus only the raw pass found",
       {},
       {finding(FindingKind::kVirus, "Other.Sig")},
       "Other.Sig@"},
      {"a recursion limit of the raw pass",
       {},
       {finding(FindingKind::kUnscannable, "Limits.Exceeded.Recursion"),
        finding(FindingKind::kUnscannable, "Heuristics.Limits.Exceeded.MaxFileSize")},
       ""},
      {"content held back that only the raw pass met",
       {},
       {finding(FindingKind::kUnscannable, "Limits.Exceeded.MimeFieldLength")},
       "Limits.Exceeded.MimeFieldLength@"},
      {"content held back the parts reported already",
       {held_part},
       {finding(FindingKind::kUnscannable, "Limits.Exceeded.MimeFieldLength")},
       "Limits.Exceeded.MimeFieldLength@1.2"},
  };
  for (const auto &c : cases) {
    Findings out = c.out;
    avsink::session::merge_raw_pass_findings(out, c.whole, avsink::Logger());
    EXPECT_EQ(names(out), c.want) << c.what;
  }
}

}  // namespace
