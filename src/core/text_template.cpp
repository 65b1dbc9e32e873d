// text_template.cpp - ${name} substitution (text_template.h); linear in the template's size.
// Values are copied in once, so a value containing "${...}" is never expanded.
#include "core/text_template.h"

namespace avsink {

std::string render_template(const std::string &text,
                            const std::vector<std::pair<std::string, std::string>> &vars) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    std::string name = text.substr(open + 2, close - open - 2);
    const std::string *val = nullptr;
    for (const auto &[k, v] : vars)
      if (k == name) val = &v;
    out += val ? *val : text.substr(open, close - open + 1);
    i = close + 1;
  }
  out.append(text, i, std::string::npos);
  return out;
}

}  // namespace avsink
