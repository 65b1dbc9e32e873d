// notifier.cpp - templated notices sent over SMTP by one thread; single notices up to a
// per-interval budget, then one digest per interval (outbreaks must not flood the administrator or
// the MTA).
#include "session/notifier.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

#include "core/read_file.h"
#include "core/text_template.h"
#include "policy/policy.h"
#include "quarantine/smtp_release.h"

namespace avsink::session {

namespace {

constexpr size_t kMaxQueued = 10000;  // beyond this, events are only counted (named in the digest)

struct Template {
  std::string subject, body;
};

Result<Template> load_template(const std::string &path) {
  auto text = read_regular_file(path, 64u << 10);
  if (!text) return text.error();
  Template t;
  size_t eol = text->find('\n');
  std::string first = text->substr(0, eol);
  if (!first.empty() && first.back() == '\r') first.pop_back();
  if (first.rfind("Subject:", 0) != 0)
    return make_error(ErrorCode::kConfig, "a notice template starts with a Subject: line", path, 1);
  t.subject = first.substr(8);
  while (!t.subject.empty() && t.subject.front() == ' ') t.subject.erase(0, 1);
  t.body = eol == std::string::npos ? "" : text->substr(eol + 1);
  while (!t.body.empty() && (t.body.front() == '\n' || t.body.front() == '\r')) t.body.erase(0, 1);
  return t;
}

std::string hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string rfc5322_date() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string join(const std::vector<std::string> &v, const char *sep) {
  std::string out;
  for (const auto &s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

struct Notifier::Impl {
  Config config;
  Logger logger;
  quarantine::HostPort hop;
  Template admin, sender, digest;
  std::string host = hostname();

  std::mutex mu;
  std::condition_variable cv;
  std::deque<NoticeEvent> queue;
  uint64_t overflow = 0;  // events that did not fit the queue
  bool stop = false;
  std::atomic<uint64_t> sent{0};
  std::thread thread;

  std::vector<std::pair<std::string, std::string>> vars(const NoticeEvent &e) const {
    auto clean = [](const std::string &s) { return policy::sanitize_reply_text(s, 2000); };
    std::string release = e.quarantine_id.empty()
                              ? std::string("(not stored in the quarantine)")
                              : "avsink quarantine release " + clean(e.quarantine_id) +
                                    " --config " + clean(config.source) + " --next-hop " +
                                    clean(config.notify_next_hop);
    return {{"action", clean(e.action)},
            {"reason", clean(e.reason)},
            {"queue_id", clean(e.queue_id.empty() ? "-" : e.queue_id)},
            {"mail_from", clean(e.mail_from)},
            {"rcpts", clean(join(e.rcpts, ", "))},
            {"client", clean(e.client.empty() ? "-" : e.client)},
            {"quarantine_id", clean(e.quarantine_id.empty() ? "-" : e.quarantine_id)},
            {"release_command", release},
            {"host", clean(host)}};
  }

  void send(const std::vector<std::string> &to, const Template &t,
            const std::vector<std::pair<std::string, std::string>> &v) {
    std::string subject = policy::sanitize_reply_text(render_template(t.subject, v), 200);
    std::string body = render_template(t.body, v);
    std::string msg = "From: " + config.notify_from + "\r\nTo: " + join(to, ", ") +
                      "\r\nSubject: " + subject + "\r\nDate: " + rfc5322_date() +
                      "\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
                      "8bit\r\n\r\n" +
                      body;
    // The null sender: a notice must never bounce back into another notice (RFC 3834).
    auto r = quarantine::smtp_send(hop.host, hop.port, "", to, msg, 30000);
    if (!r) {
      logger.error("notice to " + join(to, ", ") + " not sent: " + r.error().describe());
      return;
    }
    ++sent;
    logger.info("notice sent to " + join(to, ", ") + ": " + subject);
  }

  void send_single(const NoticeEvent &e) {
    auto v = vars(e);
    send(config.notify_admins, admin, v);
    // The sender only when avsink accepted and then withheld the message (quarantine): a refusal
    // already reached the sending MTA. Off by default: senders of viruses are mostly forged.
    if (config.notify_sender && e.action == "quarantine" && !e.mail_from.empty())
      send({e.mail_from}, sender, v);
  }

  void send_digest(const std::vector<NoticeEvent> &events, uint64_t lost) {
    std::string entries;
    for (const auto &e : events) {
      auto v = vars(e);
      entries += render_template(
          "- ${action} ${queue_id} from <${mail_from}> to ${rcpts} (client ${client}): ${reason}; "
          "quarantine ${quarantine_id}\n",
          v);
    }
    if (lost > 0)
      entries += "- and " + std::to_string(lost) + " more (the notice queue was full)\n";
    send(config.notify_admins, digest,
         {{"count", std::to_string(events.size() + lost)}, {"entries", entries}, {"host", host}});
  }

  void run() {
    using clock = std::chrono::steady_clock;
    const auto interval = std::chrono::milliseconds(config.notify_interval_ms);
    auto interval_start = clock::now();
    uint32_t in_interval = 0;
    std::vector<NoticeEvent> pending;  // this interval's events past the budget
    uint64_t lost = 0;
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait_until(lock, interval_start + interval, [&] { return stop || !queue.empty(); });
      std::deque<NoticeEvent> batch;
      batch.swap(queue);
      lost += overflow;
      overflow = 0;
      const bool stopping = stop;
      lock.unlock();
      auto now = clock::now();
      if (now >= interval_start + interval) {
        if (!pending.empty() || lost > 0) send_digest(pending, lost);
        pending.clear();
        lost = 0;
        interval_start = now;
        in_interval = 0;
      }
      for (auto &e : batch) {
        if (in_interval < config.notify_max_per_interval) {
          send_single(e);
          ++in_interval;
        } else {
          pending.push_back(std::move(e));
        }
      }
      if (stopping) {
        if (!pending.empty() || lost > 0) send_digest(pending, lost);
        return;
      }
      lock.lock();
    }
  }
};

Notifier::Notifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::unique_ptr<Notifier>> Notifier::start(const Config &config, Logger logger) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->logger = std::move(logger);
  if (config.notify_admins.empty())
    return make_error(ErrorCode::kConfig, "notify.admins: at least one address", config.source);
  auto hop = quarantine::parse_host_port(config.notify_next_hop);
  if (!hop)
    return make_error(ErrorCode::kConfig, "notify.next_hop: " + hop.error().message, config.source);
  impl->hop = *hop;
  std::string dir = config.notify_templates_dir.empty() ? Config::shipped_rules_dir() + "/templates"
                                                        : config.notify_templates_dir;
  for (auto [name, t] :
       {std::pair{"admin-notice.txt", &impl->admin}, std::pair{"sender-notice.txt", &impl->sender},
        std::pair{"digest.txt", &impl->digest}}) {
    auto loaded = load_template(dir + "/" + name);
    if (!loaded) return loaded.error();
    *t = std::move(loaded.value());
  }
  Impl *raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<Notifier>(new Notifier(std::move(impl)));
}

void Notifier::notify(NoticeEvent event) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->queue.size() >= kMaxQueued)
      ++impl_->overflow;
    else
      impl_->queue.push_back(std::move(event));
  }
  impl_->cv.notify_one();
}

uint64_t Notifier::sent() const {
  return impl_->sent.load();
}

}  // namespace avsink::session
