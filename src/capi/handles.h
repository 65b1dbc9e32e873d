// handles.h - the structs behind the opaque C handles: thin owners of C++ objects.
// Defined only here; no other folder sees a C type (STYLE.md §3.3).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "avsink/avsink.h"
#include "core/envelope.h"
#include "core/spool.h"
#include "policy/verdict.h"
#include "session/header_edits.h"
#include "session/scanner.h"

struct avsink_engine {
  std::unique_ptr<avsink::session::Scanner> scanner;
  uint64_t serial = 0;  // unique per opened engine, never reused (keys the per-thread strings)
};

struct avsink_verdict {
  avsink::Verdict v;
  std::vector<std::string> kinds;  // storage for avsink_finding::kind
  std::vector<avsink_finding> findings;
  std::vector<avsink_recipient_verdict> recipients;  // strings point into v.recipients
  std::vector<avsink::session::HeaderEdit> edits;    // to the scanned top header block
  std::vector<avsink_header_edit> c_edits;           // strings point into edits
  size_t rewritten_body = 0;                         // REWRITE: offset of the body in v.rewritten
};

struct avsink_scan {
  avsink_engine *engine = nullptr;
  avsink::Envelope envelope;
  std::unique_ptr<avsink::Spool> spool;
  enum class State { kOpen, kEnded, kFailed } state = State::kOpen;
  std::unique_ptr<avsink_verdict> verdict;
  std::string errmsg;
};
