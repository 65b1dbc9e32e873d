// status.h - translation between C++ Errors and the C ABI's avsink_status / avsink_error.
// One row per ErrorCode; the only place that knows both sides.
#pragma once

#include "avsink/avsink.h"
#include "core/result.h"

namespace avsink::capi {

avsink_status status_of(ErrorCode code);
// Copies message/file/line into a caller's avsink_error (NULL-safe; respects err->size).
void fill_error(avsink_error *err, const Error &e);

}  // namespace avsink::capi
