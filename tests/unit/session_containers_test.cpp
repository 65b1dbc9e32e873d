// session_containers_test.cpp - archives and TNEF through the whole scan (session::Scanner, the
// shipped signatures): a matrix of formats x tricks, each bad case beside a benign control.
// Archives are built by Debian's tools at test time; RAR and TNEF bytes are written here.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "session/container_pass.h"
#include "session/scanner.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using avsink::Action;
using avsink::FindingKind;
using avsink::test::base64;
using avsink::test::eicar;
using avsink::test::read_file;

// ---- bytes written by the test: CRC-32, RAR 4 and RAR 5 stored members, TNEF ----

using avsink::test::crc32;
using avsink::test::put16;
using avsink::test::put32;
using avsink::test::rar5;
using avsink::test::RarMember;
using avsink::test::tnef_attr;

// RAR 4 (1.5-4.x layout): marker, main header, one stored (method 0x30) file header per member,
// end block. main_flags 0x0001 = a volume of a multi-volume set; file_flags 0x0004 = encrypted.
std::string rar4(const std::vector<RarMember> &members, uint16_t main_flags = 0,
                 uint16_t file_flags = 0) {
  std::string out("Rar!\x1a\x07\x00", 7);
  auto block = [&out](std::string body /* from HEAD_TYPE on */) {
    std::string h;
    put16(h, crc32(body) & 0xFFFF);
    out += h + body;
  };
  std::string main;
  main += '\x73';
  put16(main, main_flags);
  put16(main, 13);
  put16(main, 0);
  put32(main, 0);
  block(main);
  for (const auto &m : members) {
    std::string f;
    f += '\x74';
    put16(f, 0x8000 | file_flags);
    put16(f, static_cast<uint32_t>(32 + m.name.size()));
    put32(f, static_cast<uint32_t>(m.data.size()));  // packed size
    put32(f, static_cast<uint32_t>(m.data.size()));  // unpacked size
    f += '\x02';                                     // host OS: Windows
    put32(f, crc32(m.data));
    put32(f, 0x5A210000);  // DOS time
    f += '\x14';           // version 2.0
    f += '\x30';           // method: store
    put16(f, static_cast<uint32_t>(m.name.size()));
    put32(f, 0x20);  // attributes: archive
    f += m.name;
    block(f);
    out += m.data;
  }
  std::string end;
  end += '\x7b';
  put16(end, 0x4000);
  put16(end, 7);
  block(end);
  return out;
}

// A winmail.dat with one attachment per (name, data): attAttachRenddata, attAttachTitle (an 8.3
// name), attAttachData and attAttachment with PR_ATTACH_LONG_FILENAME (PT_UNICODE).
std::string tnef(const std::vector<RarMember> &attachments) {
  std::string out;
  put32(out, 0x223E9F78);
  put16(out, 0x0001);
  tnef_attr(out, 1, 0x00089006, std::string("\x00\x00\x01\x00", 4));  // attTnefVersion
  for (const auto &a : attachments) {
    tnef_attr(out, 2, 0x00069002, std::string(14, '\0'));  // attAttachRenddata
    tnef_attr(out, 2, 0x00018010, std::string("ATTACH~1.DAT") + '\0');
    tnef_attr(out, 2, 0x0006800F, a.data);
    std::string props;
    put32(props, 1);
    put16(props, 0x001F);  // PT_UNICODE
    put16(props, 0x3707);  // PR_ATTACH_LONG_FILENAME
    put32(props, 1);
    std::string u16;
    for (char c : a.name) u16 += std::string{c, '\0'};
    u16 += std::string(2, '\0');
    put32(props, static_cast<uint32_t>(u16.size()));
    props += u16;
    props += std::string((4 - u16.size() % 4) % 4, '\0');
    tnef_attr(out, 2, 0x00069005, props);
  }
  return out;
}

// LHA level-0 headers with stored (-lh0-) members: Debian's lhasa only extracts.
std::string lha(const std::vector<RarMember> &members) {
  auto crc16 = [](const std::string &d) {
    uint32_t c = 0;
    for (unsigned char b : d) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xA001 : c >> 1;
    }
    return c;
  };
  std::string out;
  for (const auto &m : members) {
    std::string h = "-lh0-";
    put32(h, static_cast<uint32_t>(m.data.size()));
    put32(h, static_cast<uint32_t>(m.data.size()));
    put32(h, 0x5A210000);
    h += '\x20';  // attribute
    h += '\0';    // header level 0
    h += static_cast<char>(m.name.size());
    h += m.name;
    put16(h, crc16(m.data));
    uint8_t sum = 0;
    for (unsigned char c : h) sum = static_cast<uint8_t>(sum + c);
    out += static_cast<char>(h.size());
    out += static_cast<char>(sum);
    out += h + m.data;
  }
  return out + std::string(1, '\0');
}

// ---- archives from Debian's tools ----

class Dir {
 public:
  Dir() : path_(avsink::test::make_temp_dir("avsink-containers")) {}
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string &name) const { return path_ + "/" + name; }
  void write(const std::string &name, const std::string &bytes) const {
    fs::create_directories(fs::path(file(name)).parent_path());
    std::ofstream(file(name), std::ios::binary) << bytes;
  }
  // Runs `cmd` in this directory; the test fails when it does not exit 0.
  void run(const std::string &cmd) const {
    const std::string full =
        "export LC_ALL=C.UTF-8; cd '" + path_ + "' && (" + cmd + ") >/dev/null 2>&1";
    EXPECT_EQ(std::system(full.c_str()), 0) << "command failed: " << cmd;
  }
  std::string read(const std::string &name) const { return read_file(file(name)); }

 private:
  std::string path_;
};

std::string mail_with(const std::string &filename, const std::string &bytes) {
  return "From: a@example.org\r\nTo: b@example.org\r\nSubject: archive\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
         "Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
         "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
         "Content-Disposition: attachment; filename=\"" +
         filename + "\"\r\n\r\n" + base64(bytes) + "--b--\r\n";
}

class Containers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    avsink::Config cfg;
    cfg.system_db = false;
    cfg.watch_files = false;
    cfg.clamav_watch = false;
    auto s = avsink::session::Scanner::open(cfg, avsink::Logger(), true);
    ASSERT_TRUE(s.ok()) << s.error().describe();
    scanner_ = std::move(s.value());
  }
  static void TearDownTestSuite() { scanner_.reset(); }

  static avsink::Verdict scan(const std::string &filename, const std::string &bytes) {
    const std::string msg = mail_with(filename, bytes);
    avsink::session::RawMessage raw{msg, msg.size()};
    auto v = scanner_->scan(avsink::Envelope{}, raw);
    EXPECT_TRUE(v.ok()) << v.error().describe();
    return v.ok() ? v.value() : avsink::Verdict{};
  }

  static std::string describe(const avsink::Verdict &v) {
    std::string out = std::string(to_string(v.action)) + ":";
    for (const auto &f : v.findings)
      out += "\n  [" + std::string(to_string(f.kind)) + " " + f.inspector + " " + f.name +
             " part=" + f.part_path + " file=\"" + f.filename + "\"] " + f.detail;
    return out;
  }

  static inline std::unique_ptr<avsink::session::Scanner> scanner_;
};

// A bad case and its benign control: the bad one must get `action` with a finding whose name
// starts with `finding` and whose filename contains `member`; the control must be accepted.
struct Case {
  std::string name;
  std::string filename;  // the attachment's own name
  std::string bad;
  Action action = Action::kReject;
  std::string finding;
  std::string member;
  std::string control;  // "" = no control for this row
};

void check(const Case &c,
           const std::function<avsink::Verdict(const std::string &, const std::string &)> &scan,
           const std::function<std::string(const avsink::Verdict &)> &describe) {
  SCOPED_TRACE(c.name);
  avsink::Verdict v = scan(c.filename, c.bad);
  EXPECT_EQ(v.action, c.action) << c.name << ": got " << describe(v);
  bool found = false;
  for (const auto &f : v.findings)
    found |= f.name.rfind(c.finding, 0) == 0 && f.filename.find(c.member) != std::string::npos;
  EXPECT_TRUE(found) << c.name << ": want a finding " << c.finding << " naming " << c.member
                     << ", got " << describe(v);
  if (c.control.empty()) return;
  avsink::Verdict ok = scan(c.filename, c.control);
  EXPECT_EQ(ok.action, Action::kAccept) << c.name << " (control): got " << describe(ok);
}

TEST_F(Containers, RarMembersJudgedAndScanned) {
  Dir d;
  d.write("in/eicar.com", eicar());
  d.write("in/readme.txt", "hello\n");
  d.run("cd in && tar czf ../bad.tar.gz eicar.com && tar czf ../good.tar.gz readme.txt");
  const std::string bad_tgz = d.read("bad.tar.gz"), good_tgz = d.read("good.tar.gz");
  const Case cases[] = {
      {"EICAR in tar.gz in RAR 4", "docs.rar", rar4({{"docs.tar.gz", bad_tgz}}), Action::kReject,
       "Eicar", "docs.rar/docs.tar.gz", rar4({{"docs.tar.gz", good_tgz}})},
      {"EICAR in tar.gz in RAR 5", "docs.rar", rar5({{"docs.tar.gz", bad_tgz}}), Action::kReject,
       "Eicar", "docs.rar/docs.tar.gz", rar5({{"docs.tar.gz", good_tgz}})},
      {"invoice.vbs in RAR 4", "invoice.rar", rar4({{"invoice.vbs", "MsgBox 1\r\n"}}),
       Action::kReject, "Attachment.Extension.vbs", "invoice.rar/invoice.vbs",
       rar4({{"invoice.txt", "MsgBox 1\r\n"}})},
      {"invoice.vbs in RAR 5", "invoice.rar", rar5({{"invoice.vbs", "MsgBox 1\r\n"}}),
       Action::kReject, "Attachment.Extension.vbs", "invoice.rar/invoice.vbs",
       rar5({{"invoice.txt", "MsgBox 1\r\n"}})},
      {"empty setup.exe in RAR 5", "a.rar", rar5({{"setup.exe", ""}}), Action::kReject,
       "Attachment.Extension.exe", "setup.exe", rar5({{"setup.txt", ""}})},
      {"RAR 4 volume", "part1.rar", rar4({{"readme.txt", "hello\n"}}, 0x0001), Action::kQuarantine,
       "Container.MultiVolume", "part1.rar", rar4({{"readme.txt", "hello\n"}})},
      {"RAR 5 volume", "part1.rar", rar5({{"readme.txt", "hello\n"}}, true), Action::kQuarantine,
       "Container.MultiVolume", "part1.rar", rar5({{"readme.txt", "hello\n"}})},
      {"RAR 4 encrypted member", "a.rar", rar4({{"readme.txt", "hello\n"}}, 0, 0x0004),
       Action::kQuarantine, "Container.Encrypted", "readme.txt", rar4({{"readme.txt", "hello\n"}})},
      {"RAR 5 encrypted headers (-hp)", "a.rar", rar5({}, false, true), Action::kQuarantine,
       "Container.Encrypted", "a.rar", rar5({{"readme.txt", "hello\n"}})},
      {"truncated RAR 5", "a.rar", rar5({{"readme.txt", std::string(4000, 'a')}}).substr(0, 200),
       Action::kQuarantine, "Container.Corrupt", "", rar5({{"readme.txt", "hello\n"}})},
  };
  for (const auto &c : cases) check(c, scan, describe);
}

TEST_F(Containers, NestingAcrossFormats) {
  Dir d;
  d.write("in/setup.exe", "MZab");
  d.write("in/readme.txt", "MZab");
  d.run("cd in && zip -q ../bad.zip setup.exe && zip -q ../good.zip readme.txt");
  const std::string bad_rar = rar5({{"inner.zip", d.read("bad.zip")}});
  const std::string good_rar = rar5({{"inner.zip", d.read("good.zip")}});
  d.write("mid/inner.rar", bad_rar);
  d.write("mid2/inner.rar", good_rar);
  d.run(
      "cd mid && zip -q ../outer-bad.zip inner.rar && cd ../mid2 && zip -q ../outer-good.zip "
      "inner.rar");
  // tar.gz in RAR in 7z in cpio: four formats deep.
  d.write("deep/payload.js", "WScript.Echo(1)");
  d.write("deep2/payload.txt", "WScript.Echo(1)");
  d.run("cd deep && tar czf ../p.tgz payload.js && cd ../deep2 && tar czf ../q.tgz payload.txt");
  d.write("r/x.rar", rar4({{"p.tgz", d.read("p.tgz")}}));
  d.write("r2/x.rar", rar4({{"q.tgz", d.read("q.tgz")}}));
  d.run("cd r && 7z a -bso0 ../x.7z x.rar && echo x.7z | (cd .. && cpio -o --quiet > x.cpio)");
  d.run("cd r2 && 7z a -bso0 ../y.7z x.rar && echo y.7z | (cd .. && cpio -o --quiet > y.cpio)");
  const Case cases[] = {
      {"zip->rar->zip", "outer.zip", d.read("outer-bad.zip"), Action::kReject,
       "Attachment.Extension.exe", "outer.zip/inner.rar/inner.zip/setup.exe",
       d.read("outer-good.zip")},
      {"cpio->7z->rar->tar.gz", "x.cpio", d.read("x.cpio"), Action::kReject,
       "Attachment.Extension.js", "x.7z/x.rar/p.tgz/payload.js", d.read("y.cpio")},
  };
  for (const auto &c : cases) check(c, scan, describe);
}

// A 7z is read once, by avsink (containers::read_alone): libclamav scans the 7z's bytes without
// unpacking them and scans each member avsink extracts. So a finding on a member names it, and
// what a member holds is still unpacked by libclamav (a zip in a 7z).
TEST_F(Containers, SevenZipMembersReadByAvsinkAlone) {
  Dir d;
  d.write("in/eicar.com", eicar());
  d.write("in/readme.txt", "hello\n");
  d.write("in/setup.exe", "MZab");
  d.run("cd in && 7z a -bso0 ../bad.7z eicar.com readme.txt && 7z a -bso0 ../good.7z readme.txt");
  d.run("cd in && zip -q ../inner.zip eicar.com && zip -q ../inner-ok.zip readme.txt");
  d.run("cd in && 7z a -bso0 ../exe.7z setup.exe && 7z a -bso0 -mm=PPMd ../ppmd.7z eicar.com");
  // Deflate64, which 7-Zip writes and libarchive does not decode: unscannable, never clean.
  d.write("in/eicar.txt", eicar());
  d.run("cd in && 7z a -bso0 -m0=Deflate64 ../d64.7z eicar.txt");
  d.write("z/inner.zip", d.read("inner.zip"));
  d.write("z2/inner.zip", d.read("inner-ok.zip"));
  d.write("n/exe.7z", d.read("exe.7z"));
  d.write("n2/good.7z", d.read("good.7z"));
  d.run(
      "cd z && 7z a -bso0 ../zip-in.7z inner.zip && cd ../z2 && 7z a -bso0 ../zip-in-ok.7z "
      "inner.zip && cd ../n && zip -q ../outer.zip exe.7z && cd ../n2 && zip -q ../outer-ok.zip "
      "good.7z");
  const Case cases[] = {
      {"EICAR in a 7z", "a.7z", d.read("bad.7z"), Action::kReject, "Eicar", "a.7z/eicar.com",
       d.read("good.7z")},
      {"EICAR in a PPMd 7z", "a.7z", d.read("ppmd.7z"), Action::kReject, "Eicar", "a.7z/eicar.com",
       d.read("good.7z")},
      {"EICAR in a zip in a 7z", "a.7z", d.read("zip-in.7z"), Action::kReject, "Eicar",
       "a.7z/inner.zip", d.read("zip-in-ok.7z")},
      {"EICAR in a Deflate64 7z", "a.7z", d.read("d64.7z"), Action::kQuarantine,
       "Container.UnsupportedMethod", "a.7z/eicar.txt", d.read("good.7z")},
      {"setup.exe in a 7z in a zip", "a.zip", d.read("outer.zip"), Action::kReject,
       "Attachment.Extension.exe", "a.zip/exe.7z/setup.exe", d.read("outer-ok.zip")},
  };
  for (const auto &c : cases) check(c, scan, describe);
}

TEST_F(Containers, TinyEmptyAndUnsupportedZipMembers) {
  Dir d;
  d.write("a/setup.exe", "MZab");
  d.write("a/setup.txt", "MZab");
  d.write("b/run.scr", "");
  d.write("b/run.txt", "");
  d.write("c/setup.exe", std::string(4096, 'A'));
  d.write("c/eicar.zst", eicar());
  d.run("cd a && zip -q ../tiny.zip setup.exe && zip -q ../tiny-ok.zip setup.txt");
  d.run("cd b && zip -q ../empty.zip run.scr && zip -q ../empty-ok.zip run.txt");
  d.run(
      "cd c && zip -q -0 ../m97.zip setup.exe && zstd -q -f eicar.zst -o eicar.txt && "
      "zip -q -0 ../m93.zip eicar.txt");
  // The method field rewritten in the local and central headers of a stored zip. Method 93
  // (zstd) with a real zstd frame: libclamav cannot decode it, libarchive can; the CRC and size
  // become those of the decoded bytes. Method 97 (WavPack): no reader decodes it.
  auto rewrite = [](std::string z, uint8_t method, const std::string *plain) {
    for (size_t at = 0; (at = z.find("PK\x03\x04", at)) != std::string::npos; at += 4) {
      z[at + 8] = static_cast<char>(method);
      if (plain == nullptr) continue;
      std::string crc, size;
      put32(crc, crc32(*plain));
      put32(size, static_cast<uint32_t>(plain->size()));
      z.replace(at + 14, 4, crc);
      z.replace(at + 22, 4, size);
    }
    for (size_t at = 0; (at = z.find("PK\x01\x02", at)) != std::string::npos; at += 4) {
      z[at + 10] = static_cast<char>(method);
      if (plain == nullptr) continue;
      std::string crc, size;
      put32(crc, crc32(*plain));
      put32(size, static_cast<uint32_t>(plain->size()));
      z.replace(at + 16, 4, crc);
      z.replace(at + 24, 4, size);
    }
    return z;
  };
  const std::string virus = eicar();
  const Case cases[] = {
      {"4-byte setup.exe in zip", "a.zip", d.read("tiny.zip"), Action::kReject,
       "Attachment.Extension.exe", "a.zip/setup.exe", d.read("tiny-ok.zip")},
      {"empty run.scr in zip", "b.zip", d.read("empty.zip"), Action::kReject,
       "Attachment.Extension.scr", "b.zip/run.scr", d.read("empty-ok.zip")},
      {"setup.exe in a method-97 zip", "c.zip", rewrite(d.read("m97.zip"), 97, nullptr),
       Action::kReject, "Attachment.Extension.exe", "c.zip/setup.exe", d.read("tiny-ok.zip")},
      {"unreadable method-97 member", "c.zip", rewrite(d.read("m97.zip"), 97, nullptr),
       Action::kReject, "Container.UnsupportedMethod", "c.zip/setup.exe", d.read("tiny-ok.zip")},
      {"EICAR in a method-93 (zstd) zip", "c.zip", rewrite(d.read("m93.zip"), 93, &virus),
       Action::kReject, "Eicar", "c.zip/eicar.txt", d.read("tiny-ok.zip")},
  };
  for (const auto &c : cases) check(c, scan, describe);
}

TEST_F(Containers, EncryptionAndVolumes) {
  Dir d;
  d.write("in/readme.txt", "hello\n");
  d.write("in/invoice.exe", "MZab");
  d.run("cd in && 7z a -bso0 -tzip -pSECRET -mem=AES256 ../aes.zip readme.txt");
  d.run("cd in && 7z a -bso0 -pSECRET ../data.7z readme.txt");
  d.run("cd in && 7z a -bso0 -pSECRET -mhe=on ../hdr.7z invoice.exe");
  d.run("cd in && 7z a -bso0 ../plain.7z readme.txt");
  d.run("cd in && zip -q ../plain.zip readme.txt");
  d.write("big/readme.txt", std::string(300000, 'x') + "\n");
  for (int i = 0; i < 3000; ++i)
    d.write("big/f" + std::to_string(i) + ".txt", std::to_string(i * 7919));
  d.run("cd big && zip -q -0 -r -s 64k ../split.zip . && 7z a -bso0 -mx0 -v64k ../vol.7z .");
  const Case cases[] = {
      {"AES zip (method 99)", "a.zip", d.read("aes.zip"), Action::kQuarantine,
       "Container.Encrypted", "a.zip/readme.txt", d.read("plain.zip")},
      {"7z encrypted data", "a.7z", d.read("data.7z"), Action::kQuarantine, "Container.Encrypted",
       "a.7z/readme.txt", d.read("plain.7z")},
      {"7z encrypted headers (-mhe)", "a.7z", d.read("hdr.7z"), Action::kQuarantine,
       "Container.EncryptedHeaders", "a.7z", d.read("plain.7z")},
      {"last volume of a split zip", "split.zip", d.read("split.zip"), Action::kQuarantine,
       "Container.", "split.zip", d.read("plain.zip")},
      {"first volume of a split 7z", "vol.7z.001", d.read("vol.7z.001"), Action::kQuarantine,
       "Container.", "vol.7z.001", d.read("plain.7z")},
  };
  for (const auto &c : cases) check(c, scan, describe);
}

TEST_F(Containers, NameTricks) {
  Dir d;
  const std::string rtlo = "invoice\xE2\x80\xAEtxt.exe";
  const std::string long_name = std::string(240, 'n') + ".exe";  // a GNU long-name entry
  d.write("z/notes.txt", "hello\n");
  d.run("cd z && zip -q ../names.zip notes.txt");
  d.write("e/empty.txt", "");
  d.run("cd e && zip -q ../empty.zip empty.txt");
  // Local header renamed: the central directory (what most readers list) says notes.txt.
  std::string mismatch = d.read("names.zip");
  mismatch.replace(mismatch.find("notes.txt"), 9, "setup.exe");
  // The other way round, with an empty member (which libclamav's walk never hands over): the
  // central directory, which Windows shows, says empty.exe; the local header, which libarchive
  // reads, says empty.txt. Only the attachment policy's own directory reading sees both.
  std::string empty_mismatch = d.read("empty.zip");
  empty_mismatch.replace(empty_mismatch.rfind("empty.txt"), 9, "empty.exe");
  d.write("u/" + rtlo, "hello\n");
  d.write("u/report.pdf.exe", "hello\n");
  d.write("u/" + long_name, "hello\n");
  d.write("u/\xD1\x81\xD1\x87\xD1\x91\xD1\x82.exe", "hello\n");
  d.write("u/\xD1\x81\xD1\x87\xD1\x91\xD1\x82.txt", "hello\n");
  d.write("u/report.pdf", "hello\n");
  d.run("cd u && zip -q ../rtlo.zip '" + rtlo +
        "' && gcab -c ../double.cab report.pdf.exe && "
        "gcab -c ../double-ok.cab report.pdf && tar cf ../long.tar " +
        long_name +
        " && 7z a -bso0 ../uni.7z \xD1\x81\xD1\x87\xD1\x91\xD1\x82.exe && 7z a -bso0 ../uni-ok.7z "
        "\xD1\x81\xD1\x87\xD1\x91\xD1\x82.txt && tar cf ../ok.tar report.pdf");
  d.write("l/readme.txt", "hello\n");
  d.run(
      "cd l && ln -s readme.txt invoice.exe && ln readme.txt run.scr && tar cf ../links.tar "
      "readme.txt invoice.exe run.scr && rm invoice.exe run.scr && ln -s readme.txt notes.txt "
      "&& ln readme.txt more.txt && tar cf ../links-ok.tar readme.txt notes.txt more.txt");
  // A lone gzip stream under the name its own header stores (gunzip -N, 7-Zip): the script is
  // extracted as invoice.js from an attachment called report.gz.
  d.write("g/invoice.js", "WScript.Echo(1);\n");
  d.write("g/invoice.txt", "WScript.Echo(1);\n");
  d.run("cd g && gzip -k invoice.js && gzip -k invoice.txt");
  std::string links = d.read("links.tar");
  std::string sfx = std::string(4096, '\x90') + d.read("rtlo.zip");
  const Case cases[] = {
      {"zip local vs central name", "n.zip", mismatch, Action::kReject, "Attachment.Extension.exe",
       "setup.exe", d.read("names.zip")},
      {"zip local vs central name, empty member", "n.zip", empty_mismatch, Action::kReject,
       "Attachment.Extension.exe", "n.zip/empty.exe", d.read("empty.zip")},
      {"RTLO member name", "r.zip", d.read("rtlo.zip"), Action::kReject, "Attachment.",
       "r.zip/invoice", d.read("names.zip")},
      {"double extension in CAB", "d.cab", d.read("double.cab"), Action::kReject,
       "Attachment.DoubleExtension", "report.pdf.exe", d.read("double-ok.cab")},
      {"244-byte name in tar", "l.tar", d.read("long.tar"), Action::kReject,
       "Attachment.Extension.exe", "nnnn", d.read("ok.tar")},
      {"Unicode name in 7z", "u.7z", d.read("uni.7z"), Action::kReject, "Attachment.Extension.exe",
       "\xD1\x81\xD1\x87\xD1\x91\xD1\x82.exe", d.read("uni-ok.7z")},
      {"tar symlink invoice.exe", "s.tar", links, Action::kReject, "Attachment.Extension.exe",
       "s.tar/invoice.exe", d.read("links-ok.tar")},
      {"tar hardlink run.scr", "s.tar", links, Action::kReject, "Attachment.Extension.scr",
       "s.tar/run.scr", d.read("links-ok.tar")},
      {"name stored in a gzip header", "report.gz", d.read("g/invoice.js.gz"), Action::kReject,
       "Attachment.Extension.js", "report.gz/invoice.js", d.read("g/invoice.txt.gz")},
      // ...and the name gunzip gives it (the attachment's, less .gz), whatever the header stores.
      {"name gunzip gives", "invoice.js.gz", d.read("g/invoice.txt.gz"), Action::kReject,
       "Attachment.Extension.js", "invoice.js.gz", ""},
      {"data prepended (SFX)", "sfx.exe.zip", sfx, Action::kReject, "Attachment.", "invoice",
       std::string(4096, '\x90') + d.read("names.zip")},
  };
  for (const auto &c : cases) check(c, scan, describe);
}

// A zip's central directory (what the seekable readers list) and its local headers (what the
// streaming readers follow) can be made to disagree. Each local header the listing does not
// account for is read too; each bad case beside a control of the same shape with benign content.
TEST_F(Containers, ZipReadingsThatDisagree) {
  const std::string empty_end = [] {  // an end record of an empty zip
    std::string e = "PK\x05\x06";
    for (int i = 0; i < 4; ++i) put16(e, 0);
    put32(e, 0);
    put32(e, 0);
    put16(e, 0);
    return e;
  }();
  auto zip = [](const std::string &name, const std::string &data) {
    return avsink::test::stored_zip({{name, data}});
  };
  // The end record's comment made of a second, empty end record: a reader that takes the last
  // record it finds lists nothing.
  auto end_in_comment = [&](std::string z) {
    z[z.size() - 2] = static_cast<char>(empty_end.size());
    return z + empty_end;
  };
  // Two local headers named a.txt with bytes of the same length; the directory names the second.
  // The first is deflated, so its bytes are not in the zip as they are.
  // With `same_crc` the hidden header declares the CRC-32 of the benign copy (a forged CRC makes
  // it true): a declared CRC is the sender's word, so it cannot tell the two apart.
  auto shadowed = [&](const std::string &hidden, bool same_crc = false) {
    const std::string benign(hidden.size(), 'b');
    std::string packed(compressBound(hidden.size()) + 16, '\0');
    z_stream zs{};
    deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);  // raw deflate, as zip has it
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(hidden.data()));
    zs.avail_in = static_cast<uInt>(hidden.size());
    zs.next_out = reinterpret_cast<Bytef *>(packed.data());
    zs.avail_out = static_cast<uInt>(packed.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    packed.resize(zs.total_out);
    deflateEnd(&zs);
    std::string local = "PK\x03\x04";
    put16(local, 20);  // version needed
    put16(local, 0);   // flags
    put16(local, 8);   // deflate
    put32(local, 0);   // time, date
    put32(local, crc32(same_crc ? benign : hidden));
    put32(local, static_cast<uint32_t>(packed.size()));
    put32(local, static_cast<uint32_t>(hidden.size()));
    put16(local, 5);
    put16(local, 0);
    return local + "a.txt" + packed + zip("a.txt", benign);
  };
  const std::string exe = "MZ" + std::string(100, '\0');
  const Case cases[] = {
      {"second end record appended", "a.zip", zip("setup.exe", exe) + empty_end, Action::kReject,
       "Attachment.Extension.exe", "a.zip/setup.exe", zip("notes.txt", "hello\n") + empty_end},
      {"zips concatenated", "a.zip", zip("setup.exe", exe) + zip("notes.txt", "hello\n"),
       Action::kReject, "Attachment.Extension.exe", "a.zip/setup.exe",
       zip("readme.txt", "hi\n") + zip("notes.txt", "hello\n")},
      {"end record in the comment", "a.zip", end_in_comment(zip("setup.exe", exe)), Action::kReject,
       "Attachment.Extension.exe", "a.zip/setup.exe", end_in_comment(zip("notes.txt", "hello\n"))},
      {"EICAR in a local entry the directory shadows", "a.zip", shadowed(eicar()), Action::kReject,
       "Eicar", "a.zip", shadowed(std::string(eicar().size(), 'c'))},
      // The hidden entry is read and its CRC found false: unscannable, whatever it holds.
      {"EICAR shadowed, declaring the benign copy's CRC", "a.zip", shadowed(eicar(), true),
       Action::kQuarantine, "Container.Corrupt", "a.zip/a.txt", ""},
  };
  for (const auto &c : cases) check(c, scan, describe);
}

TEST_F(Containers, EveryListedFormat) {
  Dir d;
  d.write("x/setup.exe", "MZab");
  d.write("y/readme.txt", "MZab");
  d.write("e/eicar.com", eicar());
  const std::string tools[][2] = {
      {"zip -q ../{o}.zip {f}", "zip"},
      {"7z a -bso0 ../{o}.7z {f}", "7z"},
      {"tar cJf ../{o}.tar.xz {f}", "tar.xz"},
      {"tar cjf ../{o}.tar.bz2 {f}", "tar.bz2"},
      {"tar cf - {f} | zstd -q > ../{o}.tar.zst", "tar.zst"},
      {"tar cf - {f} | lz4 -q > ../{o}.tar.lz4", "tar.lz4"},
      {"echo {f} | cpio -o --quiet -H newc > ../{o}.cpio", "cpio"},
      {"genisoimage -quiet -o ../{o}.iso {f}", "iso"},
      {"gcab -c ../{o}.cab {f}", "cab"},
      {"ar rc ../{o}.a {f}", "a"},
  };
  for (const auto &t : tools) {
    auto cmd = [&](const std::string &dir, const std::string &out, const std::string &file) {
      std::string c = "cd " + dir + " && " + t[0];
      for (size_t at; (at = c.find("{o}")) != std::string::npos;) c.replace(at, 3, out);
      for (size_t at; (at = c.find("{f}")) != std::string::npos;) c.replace(at, 3, file);
      return c;
    };
    d.run(cmd("x", "bad", "setup.exe"));
    d.run(cmd("y", "good", "readme.txt"));
    d.run(cmd("e", "virus", "eicar.com"));
    const std::string ext = t[1];
    // ISO 9660 level 1 upper-cases names.
    const std::string member = ext == "iso" ? "SETUP.EXE" : "setup.exe";
    const std::string name = ext == "iso" ? "a.dat" : "a." + ext;  // .iso itself is blocked
    const Case c = {"setup.exe in ." + ext,     name,
                    d.read("bad." + ext),       Action::kReject,
                    "Attachment.Extension.exe", name + "/" + member,
                    d.read("good." + ext)};
    check(c, scan, describe);
    avsink::Verdict v = scan(name, d.read("virus." + ext));
    EXPECT_EQ(v.action, Action::kReject) << "EICAR in ." << ext << ": " << describe(v);
    bool virus = false;
    for (const auto &f : v.findings) virus |= f.kind == FindingKind::kVirus;
    EXPECT_TRUE(virus) << "EICAR in ." << ext << ": " << describe(v);
  }
}

TEST_F(Containers, LhaWrittenHere) {
  const Case cases[] = {
      {"setup.exe in LHA", "a.lzh", lha({{"setup.exe", "MZab"}}), Action::kReject,
       "Attachment.Extension.exe", "a.lzh/setup.exe", lha({{"readme.txt", "MZab"}})},
      {"EICAR in LHA", "a.lzh", lha({{"notes.txt", eicar()}}), Action::kReject, "Eicar", "a.lzh",
       lha({{"notes.txt", "hello"}})},
  };
  for (const auto &c : cases) check(c, scan, describe);
}

TEST_F(Containers, TnefAttachmentNames) {
  const Case cases[] = {
      {"invoice.exe in winmail.dat", "winmail.dat", tnef({{"invoice.exe", "MZab"}}),
       Action::kReject, "Attachment.Extension.exe", "winmail.dat/invoice.exe",
       tnef({{"invoice.txt", "MZab"}})},
      // libclamav's own TNEF walk finds it (its virus findings name the part it scanned).
      {"EICAR in winmail.dat", "winmail.dat", tnef({{"report.txt", eicar()}}), Action::kReject,
       "Eicar", "winmail.dat", tnef({{"report.txt", "hello"}})},
  };
  for (const auto &c : cases) check(c, scan, describe);
  // ClamAV's own sample: clam.exe inside; its name is judged from the MAPI properties.
  const std::string sample = read_file("/usr/share/clamav-testfiles/clam.tnef");
  avsink::Verdict v = scan("winmail.dat", sample);
  bool named = false;
  for (const auto &f : v.findings) named |= f.filename == "winmail.dat/clam.exe";
  EXPECT_TRUE(named) << describe(v);
}

// What libclamav's walk unpacked is compared by exact content, whether the bytes were kept (under
// the copy budget) or only their digest: same size with other bytes is not "seen".
TEST(SeenMembers, ExactContentWithAndWithoutCopies) {
  for (const size_t budget : {avsink::session::SeenMembers::kDefaultCopyBudget, size_t(0)}) {
    avsink::session::SeenMembers seen(budget);
    const std::string a(70000, 'a');
    std::string a_last = a;
    a_last.back() = 'b';
    std::string a_first = a;
    a_first.front() = 'b';
    EXPECT_FALSE(seen.contains(a));
    EXPECT_FALSE(seen.contains(""));
    EXPECT_TRUE(seen.add(a)) << budget;
    EXPECT_FALSE(seen.add(a)) << budget;  // recorded before
    EXPECT_FALSE(seen.add("")) << budget;
    EXPECT_TRUE(seen.contains(a)) << budget;
    EXPECT_TRUE(seen.contains(std::string(a))) << budget;  // other storage, same bytes
    EXPECT_FALSE(seen.contains(a_last)) << budget;
    EXPECT_FALSE(seen.contains(a_first)) << budget;
    EXPECT_FALSE(seen.contains(a.substr(1))) << budget;
    EXPECT_FALSE(seen.contains("")) << budget;
    EXPECT_TRUE(seen.add(a_last)) << budget;  // same size, other bytes: both are seen
    EXPECT_TRUE(seen.contains(a_last)) << budget;
    EXPECT_TRUE(seen.contains(a)) << budget;
    EXPECT_FALSE(seen.contains(a_first)) << budget;
  }
  // The budget runs out between two members: the first kept as bytes, the second as a digest.
  avsink::session::SeenMembers seen(100);
  seen.add(std::string(80, 'x'));
  seen.add(std::string(80, 'y'));
  EXPECT_TRUE(seen.contains(std::string(80, 'x')));
  EXPECT_TRUE(seen.contains(std::string(80, 'y')));
  EXPECT_FALSE(seen.contains(std::string(80, 'z')));
}

}  // namespace
