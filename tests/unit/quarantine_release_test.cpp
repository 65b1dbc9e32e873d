// quarantine_release_test.cpp - release over SMTP to a loopback listener, the release mark
// (valid after MTA-style transit, refused when forged, stale or altered) and the SMTP client.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "quarantine/release_mark.h"
#include "quarantine/smtp_release.h"
#include "quarantine/store.h"
#include "test_support.h"

namespace q = avsink::quarantine;
namespace fs = std::filesystem;

namespace {

// A tiny SMTP server on 127.0.0.1:<ephemeral> in a thread: records each transaction's envelope
// and the DATA exactly as received (dot-unstuffed, CRLF kept). Recipients starting with
// "reject" get 550. Serves connections until destroyed.
class SmtpSink {
 public:
  struct Mail {
    std::string mail_from;
    std::vector<std::string> rcpts;
    std::string data;
    std::string mail_line;
  };
  SmtpSink() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~SmtpSink() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  std::vector<Mail> mails() {
    std::lock_guard<std::mutex> l(mu_);
    return mails_;
  }
  bool silent = false;  // accept but never answer (timeout tests)

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      if (!silent)
        session(c);
      else
        ::usleep(500 * 1000);
      ::close(c);
    }
  }
  static bool read_line(int c, std::string *buf, std::string *line) {
    for (;;) {
      size_t nl = buf->find("\r\n");
      if (nl != std::string::npos) {
        *line = buf->substr(0, nl);
        buf->erase(0, nl + 2);
        return true;
      }
      char tmp[4096];
      ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf->append(tmp, static_cast<size_t>(n));
    }
  }
  static void say(int c, const std::string &s) {
    (void)::send(c, s.data(), s.size(), MSG_NOSIGNAL);
  }
  static std::string angle(const std::string &cmd) {
    size_t a = cmd.find('<'), b = cmd.find('>');
    return a == std::string::npos || b == std::string::npos ? "" : cmd.substr(a + 1, b - a - 1);
  }
  void session(int c) {
    std::string buf, line;
    Mail m;
    say(c, "220 sink.test ESMTP\r\n");
    while (read_line(c, &buf, &line)) {
      std::string up = line.substr(0, 4);
      for (char &ch : up) ch = static_cast<char>(toupper(ch));
      if (up == "EHLO") {
        say(c, "250-sink.test\r\n250-8BITMIME\r\n250 SIZE 10240000\r\n");
      } else if (up == "MAIL") {
        m = Mail{};
        m.mail_from = angle(line);
        m.mail_line = line;
        say(c, "250 2.1.0 Ok\r\n");
      } else if (up == "RCPT") {
        std::string r = angle(line);
        if (r.rfind("reject", 0) == 0) {
          say(c, "550 5.1.1 <" + r + ">: Recipient address rejected\r\n");
        } else {
          m.rcpts.push_back(r);
          say(c, "250 2.1.5 Ok\r\n");
        }
      } else if (up == "DATA") {
        say(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
        std::string data;
        while (read_line(c, &buf, &line) && line != ".") {
          if (!line.empty() && line[0] == '.') line.erase(0, 1);  // un-dot-stuff
          data += line + "\r\n";
        }
        m.data = data;
        {
          std::lock_guard<std::mutex> l(mu_);
          mails_.push_back(m);
        }
        say(c, "250 2.0.0 Ok: queued as SINK" + std::to_string(mails_.size()) + "\r\n");
      } else if (up == "QUIT") {
        say(c, "221 2.0.0 Bye\r\n");
        return;
      } else if (up == "RSET" || up == "NOOP") {
        say(c, "250 2.0.0 Ok\r\n");
      } else {
        say(c, "502 5.5.2 Error: command not recognized\r\n");
      }
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Mail> mails_;
};

std::string to_crlf(const std::string &lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

class ReleaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = avsink::test::make_temp_dir("avsink-qrel-");
    opts_.dir = root_ + "/store";
    opts_.clock = [this] { return now_.load(); };
    audit_path_ = root_ + "/audit.log";
    store_ = q::Store::open(opts_, avsink::AuditLog::open(audit_path_).value()).value();
    message_ =
        avsink::test::read_file(avsink::test::data_path("quarantine/invoice-attachment.eml"));
    q::EntryMeta m;
    m.envelope.mail_from = "sender@example.net";
    m.envelope.rcpt_to = {"user@example.com"};
    m.action = "quarantine";
    id_ = store_->put(message_, m).value();
  }
  void TearDown() override { fs::remove_all(root_); }
  // Release options that deliver to `sink`, by operator "alice".
  static q::ReleaseOptions to_sink(SmtpSink &sink) {
    q::ReleaseOptions ro;
    ro.host = "127.0.0.1";
    ro.port = sink.port();
    ro.by = "alice";
    ro.timeout_ms = 5000;
    return ro;
  }

  std::string root_;
  q::StoreOptions opts_;
  std::atomic<int64_t> now_{1'800'000'000};
  std::string audit_path_;
  std::unique_ptr<q::Store> store_;
  std::string message_;
  std::string id_;
};

// The acceptance path: release delivers to a real listener; what arrived carries a mark that the
// gateway honours -- also after MTA transit (Received prepended, CRLF, refolded mark).
TEST_F(ReleaseTest, ReleaseDeliversAndTheGatewayHonoursTheMark) {
  SmtpSink sink;
  q::ReleaseOptions ro = to_sink(sink);
  auto reply = store_->release(id_, ro);
  ASSERT_TRUE(reply.ok()) << reply.error().describe();
  EXPECT_EQ(reply->rfind("250 2.0.0 Ok: queued as SINK", 0), 0u) << *reply;
  auto mails = sink.mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].mail_from, "sender@example.net");
  EXPECT_EQ(mails[0].rcpts, std::vector<std::string>{"user@example.com"});
  const std::string &got = mails[0].data;
  EXPECT_EQ(got.rfind("X-Avsink-Release: " + id_ + "; ", 0), 0u) << got.substr(0, 120);
  // Dot-stuffing round trip: the line that starts with "." arrived intact.
  EXPECT_NE(got.find("\r\n.\r\nA line that starts with a dot"), std::string::npos);
  // Apart from the mark and CRLF, the delivered message is the quarantined one, byte for byte.
  EXPECT_EQ(q::remove_header(got, q::kReleaseHeader), to_crlf(message_));

  // The gateway's view: Postfix prepended a Received header; the scan checks the marks.
  std::string at_gateway =
      "Received: from localhost (localhost [127.0.0.1])\r\n\tby gateway.example.com (Postfix) "
      "with ESMTP id 9ZzYy\r\n" +
      got;
  now_ += 30;
  auto check = store_->check_release(at_gateway);
  EXPECT_TRUE(check.present);
  EXPECT_TRUE(check.valid) << "a genuine release was not honoured";
  EXPECT_EQ(check.id, id_);
  // ... and with LF line ends (an MTA or milter that normalises), too.
  std::string lf = at_gateway;
  for (size_t p; (p = lf.find("\r\n")) != std::string::npos;) lf.erase(p, 1);
  EXPECT_TRUE(store_->check_release(lf).valid);
  // A verify through the interface form with the header value and the message without it.
  auto values = q::header_values(got, q::kReleaseHeader);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_TRUE(store_->verify_release_mark(values[0], q::remove_header(got, q::kReleaseHeader)));

  // Both audit records name the operator.
  std::string log = avsink::test::read_file(audit_path_);
  EXPECT_NE(log.find("\"event\":\"quarantine.release\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"event\":\"quarantine.release_result\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"by\":\"alice\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"ok\":true"), std::string::npos) << log;
}

// Issue 14 item 4 (red-team reproduction): a released EICAR copy, re-sent from another client to
// another recipient with added headers, was accepted - for 24 h, by anyone, to anyone. The
// signature alone (check_release, what the scan used to ask) still verifies such a replay; the
// scan now asks use_release, which honours a mark once, for the release's recipients only.
TEST_F(ReleaseTest, MarkIsSingleUseAndBoundToTheReleasedRecipients) {
  SmtpSink sink;
  q::ReleaseOptions ro = to_sink(sink);
  ASSERT_TRUE(store_->release(id_, ro).ok());
  ASSERT_EQ(sink.mails().size(), 1u);
  const std::string replay =
      "Received: from attacker.example\r\nX-Added: yes\r\n" + sink.mails()[0].data;
  now_ += 30;
  EXPECT_TRUE(store_->check_release(replay).valid) << "the HMAC alone cannot tell a replay";

  struct Case {
    std::vector<std::string> rcpts;
    bool want;
    const char *want_refused;
  } cases[] = {
      {{"<eve@evil.example>"}, false, "not released to eve@evil.example"},
      {{"<USER@example.com>", "<eve@evil.example>"}, false, "not released to eve@evil.example"},
      {{}, false, "no envelope recipients"},
      {{"<User@Example.COM>"}, true, ""},  // the release's own recipient: once
      {{"<user@example.com>"}, false, "already used"},
      {{"<eve@evil.example>"}, false, "already used"},
  };
  for (const auto &c : cases) {
    auto rc = store_->use_release(replay, c.rcpts);
    EXPECT_EQ(rc.valid, c.want) << rc.refused;
    EXPECT_NE(rc.refused.find(c.want_refused), std::string::npos) << "got \"" << rc.refused << "\"";
    if (c.want) {
      EXPECT_EQ(rc.id, id_);
    }
  }
  // A valid mark that no release() recorded (made by make_released_copy alone) is not honoured.
  auto unrecorded =
      store_->use_release(store_->make_released_copy(id_, message_), {"<user@example.com>"});
  EXPECT_FALSE(unrecorded.valid);
  EXPECT_EQ(unrecorded.refused, "no release record for this mark");
  std::string log = avsink::test::read_file(audit_path_);
  EXPECT_NE(log.find("\"event\":\"quarantine.release_used\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"event\":\"quarantine.release_refused\""), std::string::npos) << log;
}

TEST_F(ReleaseTest, ReleaseToAnotherRecipientAndFromOverride) {
  SmtpSink sink;
  q::ReleaseOptions ro{"127.0.0.1",     sink.port(), {"analyst@example.com", "second@example.com"},
                       std::string(""), "bob",       5000};
  auto reply = store_->release(id_, ro);
  ASSERT_TRUE(reply.ok()) << reply.error().describe();
  auto mails = sink.mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].mail_from, "");  // null sender, as asked
  EXPECT_EQ(mails[0].rcpts.size(), 2u);
  EXPECT_EQ(mails[0].mail_line.find("BODY=8BITMIME"), std::string::npos) << "ASCII message";
}

// Forged, altered, replayed or stale marks are not honoured.
TEST_F(ReleaseTest, ForgedMarksAreNotHonoured) {
  std::string released = store_->make_released_copy(id_, message_);
  ASSERT_TRUE(store_->check_release(released).valid);
  std::string mark = q::header_values(released, q::kReleaseHeader).at(0);
  auto pm = q::parse_release_mark(mark).value();
  auto with_mark = [&](const std::string &value, std::string msg) {
    return q::prepend_header(q::remove_header(msg, q::kReleaseHeader), q::kReleaseHeader, value);
  };
  std::string wrong_mac = pm.mac_hex;
  wrong_mac[0] = wrong_mac[0] == '0' ? '1' : '0';
  std::string other_id = "0123456789abcdef0123456789abcdef";
  std::string body_altered = released;
  body_altered.replace(body_altered.find("Please find"), 6, "PLEASE");
  std::string subject_altered = released;
  subject_altered.replace(subject_altered.find("Invoice 4711"), 12, "Invoice 4712");
  std::string attachment_appended =
      released + "\n--b1\nContent-Type: application/x-msdownload\n\nMZ\n";
  std::string header_added = q::prepend_header(released, "Cc", "everyone@example.com");

  struct Case {
    const char *what;
    std::string message;
  } cases[] = {
      {"wrong HMAC",
       with_mark(pm.id + "; " + std::to_string(pm.time) + "; " + wrong_mac, released)},
      {"different id",
       with_mark(other_id + "; " + std::to_string(pm.time) + "; " + pm.mac_hex, released)},
      {"different time",
       with_mark(pm.id + "; " + std::to_string(pm.time - 1) + "; " + pm.mac_hex, released)},
      {"altered body", body_altered},
      {"altered subject", subject_altered},
      {"appended part", attachment_appended},
      {"added Cc header", header_added},
      {"mark without HMAC", with_mark(pm.id, released)},
      {"malformed mark", with_mark("yes please", released)},
      {"upper-case hex", with_mark(
                             pm.id + "; " + std::to_string(pm.time) + "; " +
                                 [&] {
                                   std::string u = pm.mac_hex;
                                   for (char &c : u) c = static_cast<char>(toupper(c));
                                   return u;
                                 }(),
                             released)},
      {"no mark", message_},
  };
  for (const auto &c : cases) {
    auto rc = store_->check_release(c.message);
    EXPECT_FALSE(rc.valid) << c.what << ": forged mark honoured";
  }

  // A mark made with another store's secret (another gateway, or a guessed key) fails.
  q::StoreOptions other = opts_;
  other.dir = root_ + "/other";
  auto other_store = q::Store::open(other, nullptr).value();
  EXPECT_FALSE(other_store->check_release(released).valid);
  EXPECT_FALSE(store_->check_release(other_store->make_released_copy(id_, message_)).valid);

  // A stale mark (older than release_mark_max_age_seconds) and one from the future fail.
  now_ += opts_.release_mark_max_age_seconds + 1;
  EXPECT_FALSE(store_->check_release(released).valid) << "stale mark honoured";
  now_ -= 2 * (opts_.release_mark_max_age_seconds + 1);
  EXPECT_FALSE(store_->check_release(released).valid) << "mark from the future honoured";
}

// A released copy of a message that already carries (forged) marks has exactly one, fresh mark.
TEST_F(ReleaseTest, OldMarksAreReplacedOnRelease) {
  std::string forged = q::prepend_header(message_, q::kReleaseHeader,
                                         std::string(32, 'a') + "; 1; " + std::string(64, 'b'));
  std::string copy = store_->make_released_copy(id_, forged);
  auto v = q::header_values(copy, q::kReleaseHeader);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(q::parse_release_mark(v[0])->id, id_);
  EXPECT_TRUE(store_->check_release(copy).valid);
}

// A message stuffed with marks costs bounded work: only the first kMaxMarksChecked count.
TEST_F(ReleaseTest, ManyMarksAreBounded) {
  std::string released = store_->make_released_copy(id_, message_);
  std::string genuine = q::header_values(released, q::kReleaseHeader).at(0);
  std::string junk =
      std::string(32, 'a') + "; " + std::to_string(now_.load()) + "; " + std::string(64, 'b');
  std::string marks;
  for (int i = 0; i < 10000; ++i) marks += "X-Avsink-Release: " + junk + "\n";
  std::string stuffed = marks + q::remove_header(released, q::kReleaseHeader);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(store_->check_release(q::prepend_header(stuffed, "Subject", "x")).valid);
  EXPECT_FALSE(store_->check_release(stuffed + "").valid);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, avsink::test::scaled(std::chrono::seconds(2)));
  // The genuine mark among the first few is found.
  std::string few = q::remove_header(released, q::kReleaseHeader);
  for (int i = 0; i < 3; ++i) few = "X-Avsink-Release: " + junk + "\n" + few;
  few = "X-Avsink-Release: " + genuine + "\n" + few;
  EXPECT_TRUE(store_->check_release(few).valid);
}

TEST(ReleaseCanonical, ToleratesTransitChangesOnly) {
  const std::string base =
      "From: A <a@example.net>\nTo: b@example.com\nSubject: Hello   world\nDate: x\n\nline 1\n"
      "line 2\n";
  const std::string want = q::release_digest_hex(base);
  struct Case {
    const char *what;
    std::string message;
    bool same;
  } cases[] = {
      {"CRLF", to_crlf(base), true},
      {"Received prepended", "Received: from x\n by y\nReturn-Path: <a@example.net>\n" + base,
       true},
      {"trailing newlines added", base + "\n\n", true},
      {"final newline removed", base.substr(0, base.size() - 1), true},
      {"subject refolded",
       "From: A <a@example.net>\nTo: b@example.com\nSubject: Hello\n\tworld\n"
       "Date: x\n\nline 1\nline 2\n",
       true},
      {"header name case",
       "FROM: A <a@example.net>\nto: b@example.com\nSUBJECT: Hello world\n"
       "Date: x\n\nline 1\nline 2\n",
       true},
      {"Date changed (unsigned header)",
       "From: A <a@example.net>\nTo: b@example.com\nSubject: "
       "Hello world\nDate: y\n\nline 1\nline 2\n",
       true},
      {"body changed", base + "line 3\n", false},
      {"space inside a body line",
       "From: A <a@example.net>\nTo: b@example.com\nSubject: Hello "
       "world\nDate: x\n\nline  1\nline 2\n",
       false},
      {"From changed",
       "From: A <evil@example.net>\nTo: b@example.com\nSubject: Hello world\n"
       "Date: x\n\nline 1\nline 2\n",
       false},
      {"Content-Type added", "Content-Type: text/html\n" + base, false},
      {"empty line moved",
       "From: A <a@example.net>\nTo: b@example.com\n\nSubject: Hello world\n"
       "Date: x\n\nline 1\nline 2\n",
       false},
  };
  for (const auto &c : cases)
    EXPECT_EQ(q::release_digest_hex(c.message) == want, c.same)
        << c.what << ": got " << (c.same ? "different" : "same") << " digest";
}

TEST(SmtpClient, RefusesInjectionAndReportsRejections) {
  SmtpSink sink;
  auto inj =
      q::smtp_send("127.0.0.1", sink.port(), "a@b", {"x@y>\r\nRCPT TO:<evil@z"}, "m\n", 2000);
  ASSERT_FALSE(inj.ok());
  EXPECT_EQ(inj.error().code, avsink::ErrorCode::kInvalidArgument);
  auto none = q::smtp_send("127.0.0.1", sink.port(), "a@b", {}, "m\n", 2000);
  EXPECT_FALSE(none.ok());
  auto rej = q::smtp_send("127.0.0.1", sink.port(), "a@b", {"ok@y", "reject@y"}, "m\n", 2000);
  ASSERT_FALSE(rej.ok());
  EXPECT_NE(rej.error().message.find("550 5.1.1"), std::string::npos) << rej.error().message;
  EXPECT_TRUE(sink.mails().empty()) << "a transaction with a refused recipient was delivered";
  // Dot-stuffing and line ends: bare LF, CRLF, a lone ".", and no final newline.
  auto ok = q::smtp_send("127.0.0.1", sink.port(), "a@b", {"c@d"}, "Subject: t\n\n.\n..two\r\nlast",
                         2000);
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  ASSERT_EQ(sink.mails().size(), 1u);
  EXPECT_EQ(sink.mails()[0].data, "Subject: t\r\n\r\n.\r\n..two\r\nlast\r\n");
  EXPECT_EQ(sink.mails()[0].mail_line, "MAIL FROM:<a@b>");
  // 8-bit content is announced when the server offers 8BITMIME.
  ASSERT_TRUE(q::smtp_send("127.0.0.1", sink.port(), "a@b", {"c@d"}, "S: \xc3\xa9\n", 2000).ok());
  EXPECT_EQ(sink.mails().at(1).mail_line, "MAIL FROM:<a@b> BODY=8BITMIME");
}

TEST(SmtpClient, ConnectFailureAndTimeoutAreBounded) {
  // A port nobody listens on: bind then close to learn a free one.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
  ::close(fd);
  auto refused = q::smtp_send("127.0.0.1", ntohs(a.sin_port), "a@b", {"c@d"}, "m", 1000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, avsink::ErrorCode::kIo);

  SmtpSink sink;
  sink.silent = true;
  auto t0 = std::chrono::steady_clock::now();
  auto slow = q::smtp_send("127.0.0.1", sink.port(), "a@b", {"c@d"}, "m", 200);
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, avsink::ErrorCode::kTimeout) << slow.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, avsink::test::scaled(std::chrono::seconds(2)));
}

TEST(SmtpClient, ParsesNextHops) {
  struct Case {
    const char *in;
    bool ok;
    const char *host;
    uint16_t port;
  } cases[] = {
      {"127.0.0.1:10025", true, "127.0.0.1", 10025},
      {"mx.example.com", true, "mx.example.com", 25},
      {"[::1]:2525", true, "::1", 2525},
      {"[::1]", true, "::1", 25},
      {"host:0", false, "", 0},
      {"host:70000", false, "", 0},
      {":25", false, "", 0},
      {"host:", false, "", 0},
      {"host:2x", false, "", 0},
  };
  for (const auto &c : cases) {
    auto r = q::parse_host_port(c.in);
    EXPECT_EQ(r.ok(), c.ok) << c.in;
    if (r.ok() && c.ok) {
      EXPECT_EQ(r->host, c.host) << c.in;
      EXPECT_EQ(r->port, c.port) << c.in;
    }
  }
}

}  // namespace

// Shared with quarantine_cli_test.cpp (linked into the same test binary): a loopback SMTP sink
// that lives as long as the returned handle; received() gives each DATA as received.
namespace avsink::test {
std::shared_ptr<void> start_smtp_sink(uint16_t *port) {
  auto sink = std::make_shared<SmtpSink>();
  *port = sink->port();
  return sink;
}
std::vector<std::string> smtp_sink_received(const std::shared_ptr<void> &handle) {
  std::vector<std::string> out;
  for (const auto &m : static_cast<SmtpSink *>(handle.get())->mails()) out.push_back(m.data);
  return out;
}
}  // namespace avsink::test
