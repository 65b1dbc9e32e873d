// text_template.h - ${name} substitution for operator-edited text templates (notices, strip notes).
// No expressions, no recursion: a value is inserted as is and never expanded again.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace avsink {

// Replaces each ${name} in `text` with its value from `vars` (unknown names stay as written).
// Thread-safety: reentrant. Errors: none.
std::string render_template(const std::string &text,
                            const std::vector<std::pair<std::string, std::string>> &vars);

}  // namespace avsink
