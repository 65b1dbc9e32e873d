// session_header_edits_test.cpp - the top-header-block edits behind avsink_verdict_header_edit:
// split, owned-header filter, diff order and indexes. Moved from the milter's unit tests.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "session/header_edits.h"

namespace avsink::session {
namespace {

TEST(SplitMessage, TopBlockOnly) {
  std::string m =
      "Subject: one\r\nX-F: a\r\n\tb\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
      "--x\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
  size_t body = 0;
  auto f = split_message(m, &body);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].name, "Subject");
  EXPECT_EQ(f[0].value, " one");
  EXPECT_EQ(f[1].value, " a\n\tb");
  EXPECT_EQ(m.substr(body), "--x\r\nContent-Type: text/plain\r\n\r\nbody\r\n");

  std::string lf = "A: 1\n\nbody\n";
  f = split_message(lf, &body);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(lf.substr(body), "body\n");

  std::string no_body = "A: 1\r\n";
  f = split_message(no_body, &body);
  EXPECT_EQ(body, no_body.size());
}

TEST(DiffHeaders, ChangesAddsAndDeletesInSafeOrder) {
  std::vector<HeaderField> before = {{"Subject", " hi"},
                                     {"Content-Type", " multipart/mixed; boundary=x"},
                                     {"Received", " a"},
                                     {"Received", " b"},
                                     {"X-Old", " 1"}};
  std::vector<HeaderField> after = {{"Subject", " hi"},
                                    {"content-type", " text/plain"},
                                    {"Received", " a"},
                                    {"X-Notice", " stripped"}};
  auto edits = diff_headers(before, after);
  ASSERT_EQ(edits.size(), 4u);
  EXPECT_EQ(edits[0].kind, HeaderEdit::kChange);
  EXPECT_EQ(edits[0].index, 1u);
  EXPECT_EQ(edits[0].value, " text/plain");
  EXPECT_EQ(edits[1].kind, HeaderEdit::kAdd);
  EXPECT_EQ(edits[1].name, "X-Notice");
  // Deletes last, highest index first.
  EXPECT_EQ(edits[2].kind, HeaderEdit::kDelete);
  EXPECT_EQ(edits[2].name, "Received");
  EXPECT_EQ(edits[2].index, 2u);
  EXPECT_EQ(edits[3].name, "X-Old");
}

// Issue 14 item 5: a sender's own X-Virus-Scanned, X-Virus-Status and X-Avsink-* reached the
// recipient. Every inbound copy of a header avsink owns is deleted before avsink adds its own.
TEST(OwnedHeaders, InboundCopiesAreDeletedHighestIndexFirst) {
  const std::string inbound =
      "From: a\r\nX-Virus-Scanned: f1\r\nx-virus-scanned: f2\r\nSubject: s\r\n"
      "X-Avsink-Release: r\r\nX-Virus-Status: st\r\nX-Scanned-By: sb\r\nX-Avsinkish: k\r\n"
      "X-AVSINK-RELEASED: rd\r\n\r\nbody\r\n";
  const std::vector<std::string> also = {"X-Scanned-By"};  // a configured header_name
  std::string got;
  for (const auto &e : delivery_header_edits(inbound, nullptr, also)) {
    EXPECT_EQ(e.kind, HeaderEdit::kDelete);
    got += e.name + "#" + std::to_string(e.index) + " ";
  }
  EXPECT_EQ(got,
            "X-Virus-Scanned#2 X-Virus-Scanned#1 X-Avsink-Release#1 X-Virus-Status#1 "
            "X-Scanned-By#1 X-AVSINK-RELEASED#1 ");
  EXPECT_TRUE(delivery_header_edits("From: a\r\nSubject: s\r\nX-Avsinkish: k\r\n\r\n", nullptr, {})
                  .empty());

  // A rewrite keeps the header it added itself (the last X-Avsink-Stripped), not the forged one.
  std::vector<HeaderField> rewritten = {{"From", " a"},
                                        {"X-Avsink-Stripped", " forged"},
                                        {"X-Virus-Scanned", " forged"},
                                        {"X-Avsink-Stripped", " part 2"}};
  auto kept = drop_inbound_owned(
      {{"From", " a"}, {"X-Avsink-Stripped", " forged"}, {"X-Virus-Scanned", " forged"}}, rewritten,
      {});
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].name, "From");
  EXPECT_EQ(kept[1].value, " part 2");
}

// A REWRITE: the rewritten block's differences, with inbound owned copies deleted.
TEST(DeliveryHeaderEdits, RewriteDiffsTheTopBlock) {
  const std::string original =
      "Subject: hi\r\nX-Virus-Scanned: forged\r\nContent-Type: multipart/mixed; boundary=x\r\n"
      "\r\n--x\r\n\r\nbody\r\n--x--\r\n";
  const std::string rewritten =
      "X-Avsink-Stripped: 1 part(s) removed\r\nSubject: hi\r\nX-Virus-Scanned: forged\r\n"
      "Content-Type: text/plain\r\n\r\nnotice\r\n";
  std::string got;
  for (const auto &e : delivery_header_edits(original, &rewritten, {"X-Virus-Scanned"}))
    got +=
        std::to_string(e.kind) + ":" + e.name + "#" + std::to_string(e.index) + "=" + e.value + "|";
  EXPECT_EQ(got,
            "0:Content-Type#1= text/plain|1:X-Avsink-Stripped#0= 1 part(s) removed|"
            "2:X-Virus-Scanned#1=|");
}

}  // namespace
}  // namespace avsink::session
