// status.cpp - avsink_strerror() table and avsink_error filling (truncating, NUL-terminated).
// Status names are static strings; never NULL, never reused.
#include "capi/status.h"

#include <algorithm>
#include <cstring>

namespace avsink::capi {

avsink_status status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return AVSINK_EINVAL;
    case ErrorCode::kNoMemory:
      return AVSINK_ENOMEM;
    case ErrorCode::kConfig:
      return AVSINK_ECONFIG;
    case ErrorCode::kRules:
      return AVSINK_ERULES;
    case ErrorCode::kIo:
      return AVSINK_EIO;
    case ErrorCode::kTimeout:
      return AVSINK_ETIMEOUT;
    case ErrorCode::kEngine:
      return AVSINK_EENGINE;
    case ErrorCode::kLimit:
      return AVSINK_ELIMIT;
    case ErrorCode::kState:
      return AVSINK_ESTATE;
    case ErrorCode::kInternal:
      return AVSINK_EINTERNAL;
  }
  return AVSINK_EINTERNAL;
}

namespace {
void copy_field(char *dst, size_t cap, const std::string &src) {
  size_t n = std::min(cap - 1, src.size());
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}
}  // namespace

void fill_error(avsink_error *err, const Error &e) {
  if (err == nullptr || err->size < offsetof(avsink_error, file)) return;
  copy_field(err->message, sizeof err->message, e.message);
  if (err->size >= offsetof(avsink_error, line)) copy_field(err->file, sizeof err->file, e.file);
  if (err->size >= sizeof(avsink_error)) err->line = e.line;
}

}  // namespace avsink::capi

extern "C" const char *avsink_strerror(avsink_status status) {
  switch (status) {
    case AVSINK_OK:
      return "success";
    case AVSINK_EINVAL:
      return "invalid argument";
    case AVSINK_ENOMEM:
      return "out of memory";
    case AVSINK_ECONFIG:
      return "invalid configuration";
    case AVSINK_ERULES:
      return "invalid rule or list file";
    case AVSINK_EIO:
      return "input/output error";
    case AVSINK_ETIMEOUT:
      return "deadline passed";
    case AVSINK_EENGINE:
      return "scanning engine failed";
    case AVSINK_ELIMIT:
      return "limit exceeded";
    case AVSINK_ESTATE:
      return "call out of order";
    case AVSINK_EINTERNAL:
      return "internal error";
    default:
      return "unknown status";
  }
}
