// attachments_messages_test.cpp - every trick message of tests/data/attachments caught, with the
// real libclamav member walk; ordinary attachments (and the MIME corpus) give no finding at all.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "attachments/attachment_policy.h"
#include "core/limits.h"
#include "engines/clamav_lib.h"
#include "mime/parser.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using avsink::Action;
using avsink::Finding;
using avsink::FindingKind;
using avsink::Findings;
using avsink::Limits;
using avsink::attachments::AttachmentOptions;
using avsink::attachments::AttachmentPolicy;
using avsink::engines::ClamavEngine;
using avsink::engines::ClamavOptions;
using avsink::engines::ContainerMember;
using avsink::engines::ScanItem;

std::string describe(const Findings &findings) {
  std::string out;
  for (const auto &f : findings) {
    out += "\n  [" + std::string(avsink::to_string(f.kind)) + " " + f.inspector + " " + f.name +
           " part=" + f.part_path + " file=\"" + f.filename + "\"] " + f.detail;
  }
  return out.empty() ? "(none)" : out;
}

// The scan session's order of work for one message, as the lead wires it: names and contents
// from the tree, then one libclamav walk per leaf part with the policy on the member callback.
struct ScanResult {
  Findings attachments;  // the policy's own findings (names, contents, members)
  Findings engine;       // the engine's findings (viruses, unscannable)
  std::vector<ContainerMember> members;
  Findings all() const {
    Findings a = attachments;
    a.insert(a.end(), engine.begin(), engine.end());
    return a;
  }
};

class AttachmentMessages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ClamavOptions o;
    o.signature_dirs = {AVSINK_SOURCE_DIR "/signatures"};
    o.load_system_db = false;
    auto e = ClamavEngine::open(o);
    if (e) {
      engine_ = std::move(*e);
    } else {
      error_ = "engine: " + e.error().describe();
    }
    auto p = AttachmentPolicy::open(AttachmentOptions{}, nullptr);
    if (p) {
      policy_ = std::move(*p);
    } else {
      error_ += " policy: " + p.error().describe();
    }
  }
  static void TearDownTestSuite() {
    engine_.reset();
    policy_.reset();
  }
  void SetUp() override { ASSERT_TRUE(engine_ && policy_) << error_; }

  static ScanResult scan(const std::string &raw, const AttachmentPolicy &policy) {
    ScanResult r;
    const auto tree = avsink::mime::parse_message(raw, Limits{});
    r.attachments = policy.inspect_message(tree);
    for (const auto &part : tree.parts) {
      if (part.is_multipart || part.is_message || part.body.empty()) continue;
      ScanItem item;
      item.data = part.body;
      item.part_path = part.path;
      if (!part.filenames.empty()) item.filename = part.filenames.front();  // a view: no temporary
      item.on_member = [&](const ContainerMember &m) {
        r.members.push_back(m);
        return policy.on_member(part, m, r.attachments);
      };
      auto found = engine_->scan(item, avsink::Deadline());
      if (!found) {
        ADD_FAILURE() << "engine scan failed: " << found.error().describe();
        continue;
      }
      for (auto &f : *found) r.engine.push_back(std::move(f));
    }
    policy.apply_engine_actions(r.engine);
    return r;
  }
  // One part alone: names, content and the member walk, as scan() does for every part.
  static ScanResult scan_one_part(const avsink::mime::Part &part, const AttachmentPolicy &policy) {
    ScanResult r;
    r.attachments = policy.inspect_part(part);
    for (auto &f : policy.inspect_content(part)) r.attachments.push_back(std::move(f));
    ScanItem item;
    item.data = part.body;
    item.part_path = part.path;
    item.filename = part.filenames.front();
    item.on_member = [&](const ContainerMember &m) {
      r.members.push_back(m);
      return policy.on_member(part, m, r.attachments);
    };
    auto found = engine_->scan(item, avsink::Deadline());
    if (found) r.engine = *found;
    policy.apply_engine_actions(r.engine);
    return r;
  }
  static ScanResult scan_file(const std::string &name) {
    return scan(avsink::test::read_file(avsink::test::data_path("attachments/" + name)), *policy_);
  }

  static inline std::unique_ptr<ClamavEngine> engine_;
  static inline std::unique_ptr<AttachmentPolicy> policy_;
  static inline std::string error_;
};

const Finding *find(const Findings &fs, const std::string &name) {
  for (const auto &f : fs) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

struct Case {
  const char *file;
  const char *want_name;      // a finding with this name must be present
  const char *want_filename;  // ... with this Finding::filename ("" = any)
  const char *want_part;      // ... and this part path
  Action want_action;
};

// One message per trick (issue 3 items 2-4; HOSTILE #32-39, #42).
const Case kCases[] = {
    {"trick-plain-exe-uppercase.eml", "Attachment.Extension.exe", "SETUP.EXE", "1.2",
     Action::kReject},
    {"trick-trailing-dot-space.eml", "Attachment.Extension.exe", "invoice.exe. . ", "1.2",
     Action::kReject},
    {"trick-double-extension.eml", "Attachment.DoubleExtension", "invoice.pdf.exe", "1.2",
     Action::kReject},
    {"trick-double-extension-padded.eml", "Attachment.DoubleExtension", "", "1.2", Action::kReject},
    {"trick-rfc2047-filename.eml", "Attachment.Extension.scr", "Rechnung März.scr", "1.2",
     Action::kReject},
    {"trick-rfc2047-utf16-filename.eml", "Attachment.Extension.vbs", "order.vbs", "1.2",
     Action::kReject},
    {"trick-rfc2231-continuation.eml", "Attachment.Extension.js", "Rechnung Nr 42.js", "1.2",
     Action::kReject},
    {"trick-name-filename-disagree.eml", "Attachment.Extension.bat", "", "1.2", Action::kReject},
    {"trick-duplicate-filename.eml", "Attachment.Extension.cmd", "", "1.2", Action::kReject},
    {"trick-rtlo.eml", "Attachment.UnicodeTrick", "invoice<U+202E>fdp.exe", "1.2", Action::kReject},
    {"trick-rtlo.eml", "Attachment.Extension.exe", "invoice<U+202E>fdp.exe", "1.2",
     Action::kReject},
    {"trick-rtlo-harmless-extension.eml", "Attachment.UnicodeTrick", "", "1.2", Action::kReject},
    {"trick-zero-width.eml", "Attachment.Extension.exe", "invoice.e<U+200B>x<U+200D>e", "1.2",
     Action::kReject},
    {"trick-soft-hyphen-bom.eml", "Attachment.Extension.scr", "<U+FEFF>invoice.s<U+00AD>cr", "1.2",
     Action::kReject},
    {"trick-fullwidth-dot.eml", "Attachment.Extension.exe", "invoice．Ｅｘｅ", "1.2",
     Action::kReject},
    {"trick-one-dot-leader.eml", "Attachment.Extension.hta", "invoice․hta", "1.2", Action::kReject},
    {"trick-percent-nul.eml", "Attachment.Extension.exe", "invoice.exe%00.pdf", "1.2",
     Action::kReject},
    {"trick-literal-nul.eml", "Attachment.Extension.pif", "invoice.pif<U+0000>.txt", "1.2",
     Action::kReject},
    {"trick-clsid.eml", "Attachment.CLSID", "", "1.2", Action::kReject},
    {"trick-comment-in-filename.eml", "Attachment.Extension.scr", "", "1.2", Action::kReject},
    {"trick-windows-path.eml", "Attachment.Extension.jse", "", "1.2", Action::kReject},
    {"trick-modern-iso.eml", "Attachment.Extension.iso", "DHL-delivery.iso", "1.2",
     Action::kReject},
    {"trick-no-name-pe.eml", "Attachment.TrueType.PE", "", "1.2", Action::kReject},
    {"trick-pe-named-txt.eml", "Attachment.TrueType.PE", "readme.txt", "1.2", Action::kReject},
    {"trick-elf-named-jpg.eml", "Attachment.TrueType.ELF", "photo.jpg", "1.2", Action::kReject},
    {"trick-macho-named-pdf.eml", "Attachment.TrueType.MachO", "doc.pdf", "1.2", Action::kReject},
    {"trick-shebang-named-txt.eml", "Attachment.TrueType.Script", "notes.txt", "1.2",
     Action::kReject},
    {"trick-hta-named-html.eml", "Attachment.TrueType.HTA", "viewer.html", "1.2", Action::kReject},
    {"trick-lnk-named-pdf.eml", "Attachment.TrueType.LNK", "statement.pdf", "1.2", Action::kReject},
    {"trick-msi-named-doc.eml", "Attachment.TrueType.MSI", "letter.doc", "1.2", Action::kReject},
    {"trick-uuencoded-exe.eml", "Attachment.Extension.exe", "setup.exe", "1.1.u1", Action::kReject},
    {"trick-uuencoded-exe.eml", "Attachment.TrueType.PE", "setup.exe", "1.1.u1", Action::kReject},
    // Archives: the member walk.
    {"archive-zip-exe.eml", "Attachment.Extension.exe", "files.zip/setup.exe", "1.2",
     Action::kReject},
    {"archive-zip-exe.eml", "Attachment.TrueType.PE", "files.zip/setup.exe", "1.2",
     Action::kReject},
    {"archive-zip-in-zip-depth3.eml", "Attachment.Extension.exe",
     "outer.zip/middle.zip/inner.zip/setup.exe", "1.2", Action::kReject},
    {"archive-zip-pe-named-txt.eml", "Attachment.TrueType.PE", "docs.zip/notes.txt", "1.2",
     Action::kReject},
    {"archive-zip-elf-no-extension.eml", "Attachment.TrueType.ELF", "tools.zip/tool", "1.2",
     Action::kReject},
    {"archive-zip-lnk-macho.eml", "Attachment.TrueType.LNK", "scans.zip/statement.pdf", "1.2",
     Action::kReject},
    {"archive-zip-lnk-macho.eml", "Attachment.TrueType.MachO", "scans.zip/photo.jpg", "1.2",
     Action::kReject},
    // Types libclamav has no name for (text, OLE2): judged by the member's bytes.
    {"archive-zip-lnk-macho.eml", "Attachment.TrueType.Script", "scans.zip/notes.txt", "1.2",
     Action::kReject},
    {"archive-zip-lnk-macho.eml", "Attachment.TrueType.HTA", "scans.zip/view.html", "1.2",
     Action::kReject},
    {"archive-zip-lnk-macho.eml", "Attachment.TrueType.MSI", "scans.zip/setup.dat", "1.2",
     Action::kReject},
    {"archive-zip-double-extension.eml", "Attachment.DoubleExtension", "scan.zip/scan_0042.pdf.js",
     "1.2", Action::kReject},
    {"archive-zip-backslash-path.eml", "Attachment.Extension.vbs",
     "win.zip/Documents\\Invoice\\pay.vbs", "1.2", Action::kReject},
    {"archive-tar-gz-scr.eml", "Attachment.Extension.scr", "docs.tar.gz/docs/payload.scr", "1.2",
     Action::kReject},
    // Encrypted: our own finding, the engine's (with our action), and the name in clear.
    {"archive-encrypted-zip.eml", "Attachment.Encrypted.Zip", "secret.zip", "1.2",
     Action::kQuarantine},
    {"archive-encrypted-zip.eml", "Heuristics.Encrypted.Zip", "", "1.2", Action::kQuarantine},
    {"archive-encrypted-zip.eml", "Attachment.Extension.exe", "secret.zip/invoice.exe", "1.2",
     Action::kReject},
};

TEST_F(AttachmentMessages, EveryTrickIsCaught) {
  for (const Case &c : kCases) {
    SCOPED_TRACE(c.file);
    ScanResult r = scan_file(c.file);
    const Findings all = r.all();
    const Finding *f = find(all, c.want_name);
    ASSERT_NE(f, nullptr) << "want " << c.want_name << ", got:" << describe(all);
    if (*c.want_filename != '\0') {
      bool any = false;
      for (const auto &g : all)
        any = any || (g.name == c.want_name && g.filename == c.want_filename);
      EXPECT_TRUE(any) << "want filename \"" << c.want_filename << "\", got:" << describe(all);
    }
    EXPECT_EQ(f->part_path, c.want_part);
    ASSERT_TRUE(f->action.has_value()) << describe(all);
    EXPECT_EQ(*f->action, c.want_action) << "got " << avsink::to_string(*f->action);
    if (f->kind == FindingKind::kBannedAttachment) {
      EXPECT_EQ(f->inspector, "attachments");
      EXPECT_NE(f->detail.find("as written"), std::string::npos) << f->detail;
    }
    for (const auto &g : all) {  // display-safe everywhere
      EXPECT_EQ(g.filename.find_first_of(std::string("\r\n\0", 3)), std::string::npos)
          << g.filename;
      EXPECT_EQ(g.detail.find_first_of(std::string("\r\n\0", 3)), std::string::npos) << g.detail;
    }
  }
}

TEST_F(AttachmentMessages, DetailQuotesNameAsWrittenAndDecoded) {
  ScanResult r = scan_file("trick-rfc2047-filename.eml");
  const Finding *f = find(r.attachments, "Attachment.Extension.scr");
  ASSERT_NE(f, nullptr) << describe(r.attachments);
  EXPECT_NE(f->detail.find("=?UTF-8?B?"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("decoded: \"Rechnung März.scr\""), std::string::npos) << f->detail;
}

TEST_F(AttachmentMessages, ZipInZipAtDepthThreeIsWalked) {
  ScanResult r = scan_file("archive-zip-in-zip-depth3.eml");
  bool saw = false;
  for (const auto &m : r.members) {
    if (m.path == "middle.zip/inner.zip/setup.exe") {
      saw = true;
      EXPECT_EQ(m.depth, 3u);
      EXPECT_EQ(m.file_type, "CL_TYPE_MSEXE");
    }
  }
  EXPECT_TRUE(saw);
}

TEST_F(AttachmentMessages, MemberDepthLimitIsUnscannableNotSilent) {
  AttachmentOptions o;
  o.max_member_depth = 2;
  auto p = AttachmentPolicy::open(o, nullptr);
  ASSERT_TRUE(p) << p.error().describe();
  ScanResult r = scan(
      avsink::test::read_file(avsink::test::data_path("attachments/archive-zip-in-zip-depth3.eml")),
      **p);
  const Finding *f = find(r.attachments, "Limits.Exceeded.AttachmentMemberDepth");
  ASSERT_NE(f, nullptr) << describe(r.attachments);
  EXPECT_EQ(f->kind, FindingKind::kUnscannable);
  EXPECT_EQ(find(r.attachments, "Attachment.Extension.exe"), nullptr) << describe(r.attachments);
}

TEST_F(AttachmentMessages, ConfiguredActionsAreCarried) {
  AttachmentOptions o;
  o.banned_action = Action::kRewrite;
  o.true_type_action = Action::kQuarantine;
  o.encrypted_action = Action::kReject;
  auto p = AttachmentPolicy::open(o, nullptr);
  ASSERT_TRUE(p) << p.error().describe();
  ScanResult r = scan(
      avsink::test::read_file(avsink::test::data_path("attachments/archive-zip-exe.eml")), **p);
  ASSERT_NE(find(r.attachments, "Attachment.Extension.exe"), nullptr);
  EXPECT_EQ(find(r.attachments, "Attachment.Extension.exe")->action, Action::kRewrite);
  EXPECT_EQ(find(r.attachments, "Attachment.TrueType.PE")->action, Action::kQuarantine);
  r = scan(
      avsink::test::read_file(avsink::test::data_path("attachments/archive-encrypted-zip.eml")),
      **p);
  ASSERT_NE(find(r.engine, "Heuristics.Encrypted.Zip"), nullptr) << describe(r.engine);
  EXPECT_EQ(find(r.engine, "Heuristics.Encrypted.Zip")->action, Action::kReject);
  EXPECT_EQ(find(r.attachments, "Attachment.Encrypted.Zip")->action, Action::kReject);
}

TEST_F(AttachmentMessages, AllowingAnExtensionLetsItThrough) {
  AttachmentOptions o;
  o.allowed = {"iso", "type:shebang"};
  auto p = AttachmentPolicy::open(o, nullptr);
  ASSERT_TRUE(p) << p.error().describe();
  for (const char *file : {"trick-modern-iso.eml", "trick-shebang-named-txt.eml"}) {
    ScanResult r = scan(
        avsink::test::read_file(avsink::test::data_path(std::string("attachments/") + file)), **p);
    EXPECT_TRUE(r.attachments.empty()) << file << describe(r.attachments);
  }
}

// The first of `tools` found on PATH, or "".
std::string find_tool(std::initializer_list<const char *> tools) {
  const char *path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (const char *tool : tools) {
    size_t start = 0;
    while (start <= dirs.size()) {
      const size_t end = std::min(dirs.find(':', start), dirs.size());
      const fs::path candidate = fs::path(dirs.substr(start, end - start)) / tool;
      std::error_code ec;
      if (!candidate.parent_path().empty() && fs::exists(candidate, ec)) return candidate.string();
      start = end + 1;
    }
  }
  return {};
}

// Builds an archive with an external tool in a private directory and walks it as part 1.2.
ScanResult scan_built_archive(const std::string &command_template, const std::string &archive_name,
                              const AttachmentPolicy &policy,
                              ScanResult (*scan_part)(const avsink::mime::Part &,
                                                      const AttachmentPolicy &)) {
  const std::string dir = avsink::test::make_temp_dir("att-archive");
  fs::create_directories(dir + "/in/payload");
  {
    std::string pe(0x80, '\0');
    pe[0] = 'M';
    pe[1] = 'Z';
    pe[0x3C] = 0x40;
    pe.replace(0x40, 4, std::string("PE\0\0", 4));
    std::ofstream(dir + "/in/payload/setup.exe", std::ios::binary) << pe;
    std::ofstream(dir + "/in/readme.txt", std::ios::binary) << "read me\n";
  }
  std::string cmd = command_template;
  for (size_t at; (at = cmd.find("{out}")) != std::string::npos;) {
    cmd.replace(at, 5, dir + "/" + archive_name);
  }
  for (size_t at; (at = cmd.find("{in}")) != std::string::npos;) cmd.replace(at, 4, dir + "/in");
  cmd += " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  avsink::mime::Part part;
  part.path = "1.2";
  part.media_type = "application/octet-stream";
  part.disposition = "attachment";
  part.filename_raw = archive_name;
  part.filenames = {archive_name};
  part.body = avsink::test::read_file(dir + "/" + archive_name);
  ScanResult r = scan_part(part, policy);
  fs::remove_all(dir);
  return r;
}

TEST_F(AttachmentMessages, SevenZipMembersAreJudged) {
  const std::string tool = find_tool({"7z", "7za", "7zr"});
  if (tool.empty()) GTEST_SKIP() << "no 7z/7za/7zr on PATH (Debian: apt-get install p7zip-full)";
  ScanResult r = scan_built_archive(tool + " a -bd {out} {in}/payload/setup.exe {in}/readme.txt",
                                    "files.7z", *policy_, &scan_one_part);
  const Finding *f = find(r.attachments, "Attachment.Extension.exe");
  ASSERT_NE(f, nullptr) << describe(r.all());
  EXPECT_EQ(f->filename, "files.7z/setup.exe");
}

TEST_F(AttachmentMessages, IsoMembersAreJudged) {
  const std::string tool = find_tool({"genisoimage", "mkisofs", "xorrisofs"});
  if (tool.empty()) GTEST_SKIP() << "no genisoimage/mkisofs/xorrisofs (Debian: genisoimage)";
  ScanResult r = scan_built_archive(tool + " -quiet -r -J -o {out} {in}", "delivery.iso", *policy_,
                                    &scan_one_part);
  EXPECT_NE(find(r.attachments, "Attachment.Extension.iso"), nullptr) << describe(r.all());
  bool member = false;  // ISO 9660 names may arrive as "SETUP.EXE;1": the ';' reading counts
  for (const auto &f : r.attachments) {
    std::string lower = f.filename;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    member |= f.name == "Attachment.Extension.exe" && lower.rfind("delivery.iso/", 0) == 0 &&
              lower.find("setup.exe") != std::string::npos;
  }
  EXPECT_TRUE(member) << describe(r.all());
}

// Issue 3: ordinary .pdf, .docx, .xlsx, .png, .txt and .ics pass with zero findings, including
// the member walk (docx/xlsx members like word/document.xml are not flagged).
TEST_F(AttachmentMessages, OrdinaryAttachmentsPass) {
  for (const char *file :
       {"benign-pdf.eml", "benign-docx.eml", "benign-xlsx.eml", "benign-png.eml", "benign-txt.eml",
        "benign-ics.eml", "benign-all-together.eml", "benign-script-in-body.eml"}) {
    SCOPED_TRACE(file);
    ScanResult r = scan_file(file);
    EXPECT_TRUE(r.all().empty()) << describe(r.all());
  }
  ScanResult docx = scan_file("benign-docx.eml");
  bool saw_document_xml = false;
  // libclamav names zip members by their last path component ("word/document.xml" is
  // "document.xml"); tar members keep their path.
  for (const auto &m : docx.members) saw_document_xml |= m.path == "document.xml";
  EXPECT_TRUE(saw_document_xml) << "the docx members were not walked";
}

// The whole MIME corpus: only the messages that really carry a banned name are flagged.
TEST_F(AttachmentMessages, MimeCorpusHasNoFalsePositives) {
  const std::vector<std::string> expected_flagged = {
      "eicar-in-zip.eml",                // eicar.zip/eicar.com
      "eicar-nested-rfc822.eml",         // eicar.com
      "eicar-plain-attachment.eml",      // eicar.com
      "eicar-uuencoded.eml",             // eicar.com
      "name-and-filename-disagree.eml",  // setup.exe
  };
  size_t files = 0;
  for (const auto &entry : fs::directory_iterator(avsink::test::data_path("eml"))) {
    if (entry.path().extension() != ".eml") continue;
    const std::string name = entry.path().filename().string();
    ++files;
    ScanResult r = scan(avsink::test::read_file(entry.path().string()), *policy_);
    const bool want =
        std::find(expected_flagged.begin(), expected_flagged.end(), name) != expected_flagged.end();
    if (want) {
      EXPECT_FALSE(r.attachments.empty()) << name;
    } else {
      EXPECT_TRUE(r.attachments.empty()) << name << describe(r.attachments);
    }
  }
  EXPECT_GT(files, 40u);
}

}  // namespace
