// envelope.h - the SMTP envelope of one message as the MTA saw it (C++ side of avsink_envelope).
// Every field is optional; an empty string means "not known" (e.g. CLI scans of files).
#pragma once

#include <string>
#include <vector>

namespace avsink {

struct Envelope {
  std::string client_address;  // "192.0.2.1" or "2001:db8::1"; "" when unknown
  std::string client_name;     // reverse DNS name as the MTA has it
  std::string helo;
  std::string auth_user;  // SASL login; non-empty = authenticated submission
  std::string mail_from;  // envelope sender without <>; "" for the null sender
  std::vector<std::string> rcpt_to;
  std::string queue_id;
};

}  // namespace avsink
