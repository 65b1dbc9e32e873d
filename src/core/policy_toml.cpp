// policy_toml.cpp - parses and prints the [[policy]] array of avsink.toml (see policy_spec.h).
// Strict like the rest of the config: unknown keys, wrong types and duplicate names are errors.
#include "core/policy_toml.h"

#include <functional>
#include <map>
#include <set>

#include "util/text.h"

namespace avsink {

std::string_view to_string(Direction d) {
  return d == Direction::kInbound ? "inbound" : "outbound";
}

namespace {

std::string string_list(const toml::node &n, std::vector<std::string> *out) {
  const toml::array *arr = n.as_array();
  if (arr == nullptr) return "expected an array of strings";
  out->clear();
  for (const auto &el : *arr) {
    if (!el.is_string()) return "expected an array of strings";
    std::string s = *el.value<std::string>();
    if (s.empty()) return "empty string in the list";
    out->push_back(std::move(s));
  }
  return "";
}

// A list that replaces a global one when set: [] is "none", not "unset".
std::string optional_list(const toml::node &n, std::optional<std::vector<std::string>> *out) {
  std::vector<std::string> v;
  std::string why = string_list(n, &v);
  *out = std::move(v);
  return why;
}

std::string action_of(const toml::node &n, std::optional<Action> *out, bool allow_strip) {
  auto s = n.value<std::string>();
  auto a = s ? action_from_string(*s) : std::nullopt;
  if (!a) return "expected accept, reject, tempfail, quarantine, discard or strip";
  if (*a == Action::kRewrite && !allow_strip) return "strip is not possible here";
  *out = a;
  return "";
}

bool valid_name(const std::string &n) {
  if (n.empty() || n.size() > 64 || n == "default") return false;
  for (unsigned char c : n)
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

using Field = std::function<std::string(const toml::node &, PolicySpec &)>;

const std::vector<std::pair<std::string, Field>> &fields() {
  static const std::vector<std::pair<std::string, Field>> f = {
      {"name",
       [](const toml::node &n, PolicySpec &p) -> std::string {
         if (!n.is_string()) return "expected a string";
         p.name = *n.value<std::string>();
         if (!valid_name(p.name))
           return "a name of 1-64 letters, digits, '.', '_' or '-' (not \"default\")";
         return "";
       }},
      {"recipients",
       [](const toml::node &n, PolicySpec &p) { return string_list(n, &p.recipients); }},
      {"senders", [](const toml::node &n, PolicySpec &p) { return string_list(n, &p.senders); }},
      {"client_networks",
       [](const toml::node &n, PolicySpec &p) { return string_list(n, &p.client_networks); }},
      {"authenticated",
       [](const toml::node &n, PolicySpec &p) -> std::string {
         if (!n.is_boolean()) return "expected true or false";
         p.authenticated = *n.value<bool>();
         return "";
       }},
      {"direction",
       [](const toml::node &n, PolicySpec &p) -> std::string {
         auto s = n.value<std::string>();
         if (s && *s == "inbound")
           p.direction = Direction::kInbound;
         else if (s && *s == "outbound")
           p.direction = Direction::kOutbound;
         else
           return "expected \"inbound\" or \"outbound\"";
         return "";
       }},
      {"virus",
       [](const toml::node &n, PolicySpec &p) { return action_of(n, &p.virus_action, true); }},
      {"unscannable", [](const toml::node &n,
                         PolicySpec &p) { return action_of(n, &p.unscannable_action, false); }},
      {"engine_error", [](const toml::node &n,
                          PolicySpec &p) { return action_of(n, &p.engine_error_action, false); }},
      {"banned",
       [](const toml::node &n, PolicySpec &p) { return action_of(n, &p.banned_action, true); }},
      {"allow_extensions",
       [](const toml::node &n, PolicySpec &p) -> std::string {
         std::string why = string_list(n, &p.allow_extensions);
         for (auto &e : p.allow_extensions) {
           if (e.front() == '.') e.erase(0, 1);
           e = util::ascii_lower(e);
           if (e.empty() || e.find('.') != std::string::npos) return "an extension like \"exe\"";
         }
         return why;
       }},
      {"rule_files",
       [](const toml::node &n, PolicySpec &p) { return optional_list(n, &p.rule_files); }},
      {"attachment_lists",
       [](const toml::node &n, PolicySpec &p) { return optional_list(n, &p.attachment_lists); }},
      {"attachment_block",
       [](const toml::node &n, PolicySpec &p) { return string_list(n, &p.attachment_block); }},
      {"optional_engines",
       [](const toml::node &n, PolicySpec &p) -> std::string {
         std::string why = string_list(n, &p.optional_engines);
         for (const auto &e : p.optional_engines)
           if (e != "clamav" && e != "clamd" && e != "hashlist")
             return "engines are \"clamav\", \"clamd\" and \"hashlist\"";
         return why;
       }},
      {"skip_scan",
       [](const toml::node &n, PolicySpec &p) -> std::string {
         if (!n.is_boolean()) return "expected true or false";
         p.skip_scan = *n.value<bool>();
         return "";
       }},
  };
  return f;
}

// One line per key for avsink.toml(5); every key of fields() has one (the generator checks).
const std::map<std::string, std::string> &descriptions() {
  static const std::map<std::string, std::string> d = {
      {"name", "The policy's name in logs and records: letters, digits, '.', '_', '-'."},
      {"recipients", "Selector: envelope recipient addresses or domains."},
      {"senders", "Selector: envelope sender addresses or domains (\"<>\" = null sender)."},
      {"client_networks", "Selector: SMTP client networks (CIDR)."},
      {"authenticated", "Selector: SASL-authenticated submission (true) or not (false)."},
      {"direction", "Selector: \"inbound\" or \"outbound\"."},
      {"virus", "Replaces [actions] virus."},
      {"unscannable", "Replaces [actions] unscannable."},
      {"engine_error", "Replaces [actions] engine_error."},
      {"banned", "Replaces the action of every banned-attachment finding."},
      {"allow_extensions", "Banned-attachment findings for these extensions decide nothing."},
      {"rule_files", "Replaces [rules] files ([] = no rules)."},
      {"attachment_lists",
       "Replaces [attachments] lists, block, allow and replace_defaults ([] = no list file)."},
      {"attachment_block", "Extensions or type:NAME blocked on top of the lists that apply."},
      {"optional_engines", "Engines (clamav, clamd, hashlist) whose errors decide nothing."},
      {"skip_scan", "Accept without scanning (logged and counted)."},
  };
  return d;
}

toml::array to_array(const std::vector<std::string> &v) {
  toml::array a;
  for (const auto &s : v) a.push_back(s);
  return a;
}

}  // namespace

std::vector<std::string> policy_key_names() {
  std::vector<std::string> out;
  for (const auto &f : fields()) out.push_back(f.first);
  return out;
}

std::vector<std::pair<std::string, std::string>> policy_key_docs() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto &f : fields()) {
    auto it = descriptions().find(f.first);
    out.emplace_back(f.first, it == descriptions().end() ? "" : it->second);
  }
  return out;
}

std::string parse_policies(const toml::node &node, std::vector<PolicySpec> *out, uint32_t *line) {
  *line = node.source().begin.line;
  const toml::array *arr = node.as_array();
  if (arr == nullptr || !arr->is_array_of_tables())
    return "policy: write each policy as a [[policy]] table";
  std::set<std::string> names;
  for (const auto &el : *arr) {
    const toml::table &t = *el.as_table();
    *line = t.source().begin.line;
    PolicySpec p;
    for (auto &&[key, value] : t) {
      std::string k(key.str());
      *line = value.source().begin.line;
      const Field *set = nullptr;
      for (const auto &[name, fn] : fields())
        if (name == k) set = &fn;
      if (set == nullptr) return "unknown key '" + k + "' in [[policy]]";
      std::string why = (*set)(value, p);
      if (!why.empty())
        return "policy." + (p.name.empty() ? std::string("?") : p.name) + "." + k + ": " + why;
    }
    *line = t.source().begin.line;
    if (p.name.empty()) return "[[policy]] without a name";
    if (!names.insert(p.name).second) return "policy." + p.name + ": the name is used twice";
    if (p.recipients.empty() && p.senders.empty() && p.client_networks.empty() &&
        !p.authenticated && !p.direction)
      return "policy." + p.name +
             ": no selector (recipients, senders, client_networks, authenticated or direction)";
    out->push_back(std::move(p));
  }
  return "";
}

toml::array dump_policies(const std::vector<PolicySpec> &policies) {
  toml::array out;
  for (const auto &p : policies) {
    toml::table t;
    t.insert("name", p.name);
    if (!p.recipients.empty()) t.insert("recipients", to_array(p.recipients));
    if (!p.senders.empty()) t.insert("senders", to_array(p.senders));
    if (!p.client_networks.empty()) t.insert("client_networks", to_array(p.client_networks));
    if (p.authenticated) t.insert("authenticated", *p.authenticated);
    if (p.direction) t.insert("direction", std::string(to_string(*p.direction)));
    auto act = [&](const char *k, const std::optional<Action> &a) {
      if (a) t.insert(k, std::string(to_string(*a)));
    };
    act("virus", p.virus_action);
    act("unscannable", p.unscannable_action);
    act("engine_error", p.engine_error_action);
    act("banned", p.banned_action);
    if (!p.allow_extensions.empty()) t.insert("allow_extensions", to_array(p.allow_extensions));
    if (p.rule_files) t.insert("rule_files", to_array(*p.rule_files));
    if (p.attachment_lists) t.insert("attachment_lists", to_array(*p.attachment_lists));
    if (!p.attachment_block.empty()) t.insert("attachment_block", to_array(p.attachment_block));
    if (!p.optional_engines.empty()) t.insert("optional_engines", to_array(p.optional_engines));
    t.insert("skip_scan", p.skip_scan);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace avsink
