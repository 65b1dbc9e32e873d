// protocol.h - the byte-level SMTP server rules of avsink-smtpd: command lines, the DATA phase
// (only <CRLF>.<CRLF> ends it), MAIL/RCPT arguments, and the headers added on the way through.
// Pure functions and small state machines: no sockets, no avsink, so each rule is unit-tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace avsink::smtpd {

// Splits the next command line off the front of `in`. A line ends at the first LF.
// Returns kNone when `in` holds no LF yet (and it is at most max_len bytes), kLine with *line
// (without CRLF) and *consumed, kBareLf when the line ended with LF alone or held a CR elsewhere
// (the line is consumed and must be refused), kTooLong when more than max_len bytes came
// without a line end (or the line with its CRLF is longer than max_len).
enum class LineResult { kNone, kLine, kBareLf, kTooLong };
LineResult take_line(std::string_view in, size_t max_len, std::string *line, size_t *consumed);

// The DATA phase. Feed the bytes that follow the 354 reply; it stops right after the
// <CRLF>.<CRLF> that ends the message (the first line "." directly after 354 ends it too) and
// says how many bytes it used, so pipelined commands after it stay for the command reader.
// Only CR LF "." CR LF ends the message: <LF>.<LF>, <CR>.<CR>, <LF>.<CRLF>, <CRLF>.<LF>, <CR>.<LF>
// and friends are message content. Every bare CR (not followed by LF) and bare LF (not preceded
// by CR) is recorded (bare_eol) and the message is refused whole at its end: avsink-smtpd
// neither relays nor normalises such bytes. Leading dots are unstuffed. Bytes past max_size are
// counted, not kept (oversize); a line (without CRLF) longer than max_line sets overlong.
class DataReader {
 public:
  DataReader(uint64_t max_size, size_t max_line);
  // Consumes bytes from `in` up to and including the end of data; returns how many were used.
  size_t feed(std::string_view in);
  bool done() const { return done_; }
  bool bare_eol() const { return bare_eol_; }
  bool oversize() const { return oversize_; }
  bool overlong() const { return overlong_; }
  uint64_t size() const { return size_; }  // message bytes after unstuffing (also past max_size)
  std::string &message() { return msg_; }

 private:
  void put(char c);
  void put_run(std::string_view run);  // bytes of one line, none of them CR or LF
  uint64_t max_size_;
  size_t max_line_;
  std::string msg_;
  uint64_t size_ = 0;
  size_t line_len_ = 0;
  // Position within a line: 0 = at line start (after CRLF or at the start of data),
  // 1 = the line so far is "." (a possible terminator), 2 = elsewhere in a line.
  int pos_ = 0;
  bool cr_ = false;  // the previous byte was a CR not yet known to start a CRLF
  bool done_ = false;
  bool bare_eol_ = false;
  bool oversize_ = false;
  bool overlong_ = false;
};

// MAIL FROM:<path> [params] / RCPT TO:<path> [params], after the command word. Accepts
// "FROM:<a@b>" and "FROM: <a@b>"; the path must be in <>, hold no CR/LF/NUL/<>/space and be at
// most 512 bytes; a source route (<@x:a@b>) is reduced to a@b. Params are "KEY" or "KEY=VALUE",
// keys upper-cased. Returns "" or the reason for a 501.
struct PathArg {
  std::string address;  // without <>; "" = null path
  std::vector<std::pair<std::string, std::string>> params;
};
std::string parse_path_arg(std::string_view arg, std::string_view keyword, PathArg *out);

// XFORWARD / XCLIENT attributes "NAME=value ADDR=value ..." (xtext-decoded, "[UNAVAILABLE]" and
// "[TEMPUNAVAIL]" as empty). Returns "" or the reason for a 501.
std::string parse_attributes(std::string_view arg,
                             std::vector<std::pair<std::string, std::string>> *out);

// Reply text safe for one SMTP reply line: printable ASCII (others become '?'), at most 400 bytes.
std::string reply_text(std::string_view text);

}  // namespace avsink::smtpd
