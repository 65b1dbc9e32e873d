// client.h - the one SMTP/LMTP client of avsink: quarantine release and avsink-smtpd's relay use
// it. Plain SMTP or LMTP to a trusted next hop; every wait is bounded; no scanning code behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace avsink::smtp {

// One (possibly multi-line) reply: "250-a\r\n250 b\r\n" -> code 250, text "250-a\n250 b",
// lines {"a", "b"}.
struct Reply {
  int code = 0;
  std::string text;                // the whole reply, lines joined with "\n", CR-free
  std::vector<std::string> lines;  // each line after the code and its separator
  bool ok() const { return code >= 200 && code <= 299; }
  // The last line's text (after "250 "), or "" when none.
  std::string last_text() const { return lines.empty() ? std::string() : lines.back(); }
};

// Why a call failed (no reply to look at).
enum class Failure { kNone, kInvalid, kIo, kTimeout };

// One client connection to a next hop. Not thread-safe: one thread at a time per Client.
// Each call waits at most the timeout given to open() per read or write. A false return means
// the connection is unusable (failure() and error() say why); close it or let it be destroyed.
class Client {
 public:
  Client();
  ~Client();
  Client(const Client &) = delete;
  Client &operator=(const Client &) = delete;

  // Connects to host:port, reads the 220 greeting, says EHLO (LHLO when lmtp; HELO when EHLO is
  // refused) with `helo` ("" = this host's name). False on failure, including a non-2xx greeting
  // or hello (then *refusal, when non-NULL, holds that reply).
  bool open(const std::string &host, uint16_t port, bool lmtp, const std::string &helo,
            int timeout_ms, Reply *refusal = nullptr);
  bool is_open() const;
  bool lmtp() const { return lmtp_; }

  // True when the hello reply offered the extension `keyword` (case-insensitive, first word).
  bool offers(std::string_view keyword) const;

  // Sends one command line (CR/LF/NUL in it are refused with kInvalid) and reads its reply.
  bool command(const std::string &line, Reply *out);

  // DATA: sends "DATA", expects 354 (else *first is that reply and true is returned with no
  // payload sent), then sends `message` with CRLF line ends (a bare CR or LF becomes CRLF),
  // dot-stuffing and the final ".", and reads one reply (SMTP) or `rcpts` replies (LMTP) into
  // *replies. False only on an I/O failure.
  bool data(std::string_view message, size_t rcpts, Reply *first, std::vector<Reply> *replies);

  // Sends QUIT, reads the reply (failures ignored) and closes.
  void quit();
  // Closes without QUIT (after a failure).
  void close();

  Failure failure() const { return failure_; }
  const std::string &error() const { return error_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool lmtp_ = false;
  std::vector<std::string> extensions_;
  Failure failure_ = Failure::kNone;
  std::string error_;
  bool fail(Failure f, std::string why);
  bool read_reply(Reply *out);
  bool send_raw(std::string_view data);
};

// An address is safe to put between <> in MAIL/RCPT: no CR, LF, NUL, '<', '>' and at most 512
// bytes. Thread-safety: reentrant.
bool safe_address(std::string_view a);

// The message as DATA sends it: CRLF line ends (a bare CR or LF becomes CRLF), dot-stuffed, a
// final CRLF, then ".\r\n". Thread-safety: reentrant.
std::string data_payload(std::string_view message);

// Where the first CR or LF at or after `from` is in `s` (s.size() when none): the end of the run
// of ordinary line bytes that DATA readers and writers copy whole. Reads no further than the next
// LF (memchr), so walking a message line by line is linear. Thread-safety: reentrant.
size_t next_cr_or_lf(std::string_view s, size_t from);

// This host's name for EHLO, "localhost" when it is unusable. Thread-safety: reentrant.
std::string local_helo_name();

}  // namespace avsink::smtp
