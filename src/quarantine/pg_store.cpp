// pg_store.cpp - the PostgreSQL quarantine backend: nonblocking libpq with a deadline on every
// operation, a small connection pool, entries as chunk rows written in one transaction.
#include "quarantine/pg_store.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/sha256.h"
#include "quarantine/archive.h"
#include "quarantine/fs_util.h"
#include "quarantine/pg_migrations.h"

namespace avsink::quarantine {

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kMaxEntryFile = uint64_t{1} << 36;  // as the filesystem store
constexpr int64_t kMigrateLockKey = 0x61767371;        // "avsq": serialises migrate runs
constexpr int kMinMigrateMs = 60000;

struct ResultFree {
  void operator()(PGresult *r) const { PQclear(r); }
};
using Res = std::unique_ptr<PGresult, ResultFree>;

// One server connection. `broken` = do not return it to the pool.
struct Conn {
  PGconn *c = nullptr;
  bool broken = false;
  Conn() = default;
  Conn(const Conn &) = delete;
  Conn &operator=(const Conn &) = delete;
  ~Conn() {
    if (c) PQfinish(c);
  }
};

Error pg_error(const std::string &what, const std::string &detail) {
  std::string d = detail;
  while (!d.empty() && (d.back() == '\n' || d.back() == ' ')) d.pop_back();
  return make_error(ErrorCode::kIo, "postgresql: " + what + (d.empty() ? "" : ": " + d));
}

Error timeout_error(const std::string &what) {
  return make_error(ErrorCode::kTimeout, "postgresql: " + what + ": no answer within the timeout");
}

// Waits until the connection's socket is readable (or writable); false at the deadline.
bool wait_socket(PGconn *c, bool for_write, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    struct pollfd p {};
    p.fd = PQsocket(c);
    if (p.fd < 0) return true;  // let libpq report the error
    p.events = static_cast<short>(for_write ? (POLLOUT | POLLIN) : POLLIN);
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;
  }
}

Result<std::unique_ptr<Conn>> connect(const std::string &conninfo, Clock::time_point deadline) {
  auto conn = std::make_unique<Conn>();
  conn->c = PQconnectStart(conninfo.c_str());
  if (conn->c == nullptr) return pg_error("cannot connect", "out of memory");
  if (PQstatus(conn->c) == CONNECTION_BAD)
    return pg_error("cannot connect", PQerrorMessage(conn->c));
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) return pg_error("cannot connect", PQerrorMessage(conn->c));
    if (!wait_socket(conn->c, st == PGRES_POLLING_WRITING, deadline))
      return timeout_error("connect");
    st = PQconnectPoll(conn->c);
  }
  if (PQsetnonblocking(conn->c, 1) != 0) return pg_error("setnonblocking", PQerrorMessage(conn->c));
  return conn;
}

struct Param {
  std::string_view value;
  bool binary = false;
};

// Runs one statement (with parameters: one statement; without: the simple protocol, which
// allows several) and waits for its result until `deadline`. Any failure marks the connection
// broken: it is dropped, so the server rolls back whatever transaction it had open.
Result<Res> exec(Conn &conn, const char *sql, const std::vector<Param> &params,
                 Clock::time_point deadline, bool binary_result = false) {
  PGconn *c = conn.c;
  int sent;
  if (params.empty() && !binary_result) {
    sent = PQsendQuery(c, sql);
  } else {
    std::vector<const char *> values;
    std::vector<int> lengths, formats;
    for (const auto &p : params) {
      values.push_back(p.value.data());
      lengths.push_back(static_cast<int>(p.value.size()));
      formats.push_back(p.binary ? 1 : 0);
    }
    // Text parameters must be NUL-terminated: copy them.
    std::vector<std::string> texts;
    texts.reserve(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      if (!params[i].binary) {
        texts.emplace_back(params[i].value);
        values[i] = texts.back().c_str();
      }
    }
    sent = PQsendQueryParams(c, sql, static_cast<int>(params.size()), nullptr, values.data(),
                             lengths.data(), formats.data(), binary_result ? 1 : 0);
  }
  conn.broken = true;  // until the whole result has arrived
  if (!sent) return pg_error("cannot send", PQerrorMessage(c));
  for (;;) {
    int f = PQflush(c);
    if (f == 0) break;
    if (f < 0) return pg_error("cannot send", PQerrorMessage(c));
    if (!wait_socket(c, true, deadline)) return timeout_error("send");
    if (PQconsumeInput(c) == 0) return pg_error("connection lost", PQerrorMessage(c));
  }
  Res first_error, last;
  for (;;) {
    while (PQisBusy(c)) {
      if (!wait_socket(c, false, deadline)) return timeout_error("query");
      if (PQconsumeInput(c) == 0) return pg_error("connection lost", PQerrorMessage(c));
    }
    PGresult *r = PQgetResult(c);
    if (r == nullptr) break;
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && !first_error)
      first_error.reset(r);
    else
      last.reset(r);
  }
  if (first_error) {
    const char *state = PQresultErrorField(first_error.get(), PG_DIAG_SQLSTATE);
    Error e = pg_error("statement failed", PQresultErrorMessage(first_error.get()));
    if (state) e.message += " (SQLSTATE " + std::string(state) + ")";
    if (state && std::string_view(state) == "57014") e.code = ErrorCode::kTimeout;  // cancelled
    return e;  // stays broken: the caller's transaction is gone with the connection
  }
  if (PQstatus(c) != CONNECTION_OK) return pg_error("connection lost", PQerrorMessage(c));
  conn.broken = false;
  if (!last) return pg_error("no result", "");
  return last;
}

bool has_state(const Error &e, std::string_view state) {
  return e.message.find("(SQLSTATE " + std::string(state) + ")") != std::string::npos;
}

std::string value(const Res &r, int row, int col) {
  return std::string(PQgetvalue(r.get(), row, col), PQgetlength(r.get(), row, col));
}

int64_t int_value(const Res &r, int row, int col) {
  return std::strtoll(PQgetvalue(r.get(), row, col), nullptr, 10);
}

// The schema version of a connected database (0 when avsink_schema does not exist).
Result<int> schema_version(Conn &conn, Clock::time_point deadline) {
  auto r = exec(conn, "SELECT to_regclass('avsink_schema') IS NOT NULL", {}, deadline);
  if (!r) return r.error();
  if (value(*r, 0, 0) != "t") return 0;
  auto v = exec(conn, "SELECT coalesce(max(version), 0) FROM avsink_schema", {}, deadline);
  if (!v) return v.error();
  return static_cast<int>(int_value(*v, 0, 0));
}

// Refuses a connection string that carries a password (it belongs in libpq's passfile).
Result<void> check_conninfo(const std::string &conninfo) {
  if (conninfo.empty())
    return make_error(ErrorCode::kConfig, "postgresql: no connection string configured");
  char *err = nullptr;
  PQconninfoOption *opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    std::string m = err ? err : "cannot parse";
    if (err) PQfreemem(err);
    return make_error(ErrorCode::kConfig, "postgresql: bad connection string: " + m);
  }
  bool has_password = false;
  for (PQconninfoOption *o = opts; o->keyword; ++o)
    if (std::strcmp(o->keyword, "password") == 0 && o->val && *o->val) has_password = true;
  PQconninfoFree(opts);
  if (has_password)
    return make_error(ErrorCode::kConfig,
                      "postgresql: the connection string carries a password; keep it in libpq's "
                      "passfile (~/.pgpass, PGPASSFILE or passfile=...)");
  return {};
}

Clock::time_point deadline_after(int ms) {
  return Clock::now() + std::chrono::milliseconds(ms);
}

}  // namespace

int pg_schema_version() {
  return kPgMigrations[kPgMigrationCount - 1].version;
}

Result<std::pair<int, int>> pg_migrate(const std::string &conninfo, int timeout_ms) {
  if (auto c = check_conninfo(conninfo); !c) return c.error();
  const int ms = std::max(timeout_ms, kMinMigrateMs);
  auto conn = connect(conninfo, deadline_after(timeout_ms));
  if (!conn) return conn.error();
  Conn &cn = **conn;
  auto lock = exec(cn, "SELECT pg_advisory_lock($1)", {{std::to_string(kMigrateLockKey)}},
                   deadline_after(ms));
  if (!lock) return lock.error();
  auto before = schema_version(cn, deadline_after(ms));
  if (!before) return before.error();
  if (*before > pg_schema_version())
    return make_error(ErrorCode::kConfig,
                      "postgresql: the database schema is version " + std::to_string(*before) +
                          ", newer than this avsink (" + std::to_string(pg_schema_version()) + ")");
  for (size_t i = 0; i < kPgMigrationCount; ++i) {
    const PgMigration &m = kPgMigrations[i];
    if (m.version <= *before) continue;
    auto d = deadline_after(ms);
    if (auto b = exec(cn, "BEGIN", {}, d); !b) return b.error();
    if (auto r = exec(cn, m.sql, {}, d); !r)
      return make_error(r.error().code,
                        "migration " + std::string(m.name) + ": " + r.error().message);
    if (auto r = exec(cn, "INSERT INTO avsink_schema (version) VALUES ($1)",
                      {{std::to_string(m.version)}}, d);
        !r)
      return r.error();
    if (auto r = exec(cn, "COMMIT", {}, d); !r) return r.error();
  }
  return std::make_pair(*before, pg_schema_version());
}

struct PgStore::Impl {
  PgOptions opts;
  mutable std::mutex mu;
  mutable std::vector<std::unique_ptr<Conn>> idle;

  // A connection whose schema version was checked when it was made.
  Result<std::unique_ptr<Conn>> acquire(Clock::time_point deadline) const {
    {
      std::lock_guard<std::mutex> g(mu);
      while (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        // Reads what the server sent while it sat idle: a server that shut down or restarted
        // has closed it, and the connection is dropped here rather than failing the operation.
        (void)PQconsumeInput(c->c);
        if (PQstatus(c->c) == CONNECTION_OK && PQtransactionStatus(c->c) == PQTRANS_IDLE) return c;
      }
    }
    auto c = connect(opts.conninfo, deadline);
    if (!c) return c.error();
    // The server ends any statement that runs longer than the operation may (belt and braces to
    // the client-side deadline, which also covers a server that does not answer at all).
    std::string set = "SET statement_timeout = " + std::to_string(opts.timeout_ms);
    if (auto r = exec(**c, set.c_str(), {}, deadline); !r) return r.error();
    auto v = schema_version(**c, deadline);
    if (!v) return v.error();
    if (*v != pg_schema_version())
      return make_error(ErrorCode::kConfig,
                        "postgresql: the quarantine schema is version " + std::to_string(*v) +
                            ", this avsink needs " + std::to_string(pg_schema_version()) +
                            (*v < pg_schema_version() ? ": run `avsink quarantine migrate`"
                                                      : ": upgrade avsink"));
    return c;
  }
  void give_back(std::unique_ptr<Conn> c) const {
    if (!c || c->broken || PQstatus(c->c) != CONNECTION_OK ||
        PQtransactionStatus(c->c) != PQTRANS_IDLE)
      return;  // dropped: the server rolls back
    std::lock_guard<std::mutex> g(mu);
    if (idle.size() < 16) idle.push_back(std::move(c));
  }
};

namespace {

// A pooled connection for one operation, returned (or dropped when broken) at scope exit.
struct Lease {
  const PgStore::Impl *impl;
  std::unique_ptr<Conn> conn;
  Lease(const PgStore::Impl *i, std::unique_ptr<Conn> c) : impl(i), conn(std::move(c)) {}
  Lease(Lease &&) = default;
  Lease &operator=(Lease &&) = delete;
  ~Lease() { impl->give_back(std::move(conn)); }
  Conn &operator*() { return *conn; }
};

Result<Lease> lease(const PgStore::Impl &impl, Clock::time_point deadline) {
  auto c = impl.acquire(deadline);
  if (!c) return c.error();
  return Lease(&impl, std::move(*c));
}

Error not_found(const std::string &id) {
  return make_error(ErrorCode::kIo, "no such quarantine entry: " + id);
}

Result<void> check_id(const std::string &id) {
  if (!valid_id(id))
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid quarantine id (want 32 lowercase hex characters)");
  return {};
}

// Reads entry `id`'s header, metadata and metadata digest (what meta() needs) from its first
// chunks, inside the caller's transaction.
Result<std::string> read_prefix(Conn &c, const std::string &id, Clock::time_point deadline) {
  auto r = exec(c, "SELECT size, chunks FROM avsink_entries WHERE id = $1", {{id}}, deadline);
  if (!r) return r.error();
  if (PQntuples(r->get()) == 0) return not_found(id);
  const int64_t size = int_value(*r, 0, 0);
  const int64_t chunks = int_value(*r, 0, 1);
  if (size < 0 || static_cast<uint64_t>(size) > kMaxEntryFile || chunks < 0)
    return make_error(ErrorCode::kIo, "corrupt: entry row has an impossible size");
  std::string out;
  uint64_t want = static_cast<uint64_t>(size);
  for (int64_t seq = 0; seq < chunks && out.size() < want; ++seq) {
    auto d = exec(c, "SELECT data FROM avsink_chunks WHERE id = $1 AND seq = $2",
                  {{id}, {std::to_string(seq)}}, deadline, true);
    if (!d) return d.error();
    if (PQntuples(d->get()) != 1)
      return make_error(ErrorCode::kIo, "tampered: chunk " + std::to_string(seq) + " missing");
    out += value(*d, 0, 0);
    if (out.size() > static_cast<uint64_t>(size))
      return make_error(ErrorCode::kIo, "tampered: chunks longer than the entry");
    if (out.size() >= kHeaderBytes) {
      auto eh = decode_header(std::string_view(out).substr(0, kHeaderBytes));
      if (!eh) return eh.error();
      want = std::min<uint64_t>(want, kHeaderBytes + eh->meta_len + kDigestBytes);
    }
  }
  if (out.size() < want) return make_error(ErrorCode::kIo, "tampered: entry truncated");
  return out;
}

// Collects streamed bytes into rows of `chunk` bytes: `flush(seq, bytes)` inserts one row.
class Chunker {
 public:
  Chunker(size_t chunk, std::function<Result<void>(int64_t, std::string_view)> flush)
      : chunk_(chunk), flush_(std::move(flush)) {
    buf_.reserve(chunk);
  }
  Result<void> add(std::string_view d) {
    hash_.update(d);
    size_ += d.size();
    while (!d.empty()) {
      size_t n = std::min(chunk_ - buf_.size(), d.size());
      buf_.append(d.substr(0, n));
      d.remove_prefix(n);
      if (buf_.size() == chunk_)
        if (auto r = emit(); !r) return r;
    }
    return {};
  }
  Result<void> finish() { return buf_.empty() ? Result<void>() : emit(); }
  int64_t rows() const { return seq_; }
  uint64_t size() const { return size_; }
  std::string sha256() { return hash_.final_hex(); }

 private:
  Result<void> emit() {
    auto r = flush_(seq_++, buf_);
    buf_.clear();
    return r;
  }
  size_t chunk_;
  std::function<Result<void>(int64_t, std::string_view)> flush_;
  std::string buf_;
  Sha256 hash_;
  int64_t seq_ = 0;
  uint64_t size_ = 0;
};

constexpr const char *kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

}  // namespace

PgStore::~PgStore() = default;

Result<std::unique_ptr<PgStore>> PgStore::open(const PgOptions &options,
                                               std::shared_ptr<AuditLog> audit) {
  if (auto c = check_conninfo(options.conninfo); !c) return c.error();
  if (options.retention_seconds < 0 || options.release_mark_max_age_seconds <= 0 ||
      options.timeout_ms <= 0 || options.chunk_bytes == 0)
    return make_error(ErrorCode::kConfig, "postgresql quarantine: bad retention, timeout or chunk");
  std::unique_ptr<PgStore> s(new PgStore());
  s->impl_ = std::make_unique<Impl>();
  s->impl_->opts = options;
  s->audit_ = std::move(audit);
  s->retention_seconds_ = options.retention_seconds;
  s->release_mark_max_age_seconds_ = options.release_mark_max_age_seconds;
  s->clock_ = options.clock;
  if (auto k = s->load_keys(options.key_file, options.release_secret_file); !k) return k.error();
  if (s->release_secret_.empty())
    return make_error(ErrorCode::kConfig,
                      "postgresql quarantine: needs key_file or release_secret_file (the release "
                      "secret every gateway shares)");
  {
    char *err = nullptr;
    PQconninfoOption *o = PQconninfoParse(options.conninfo.c_str(), &err);
    std::string name;
    for (PQconninfoOption *i = o; i && i->keyword; ++i)
      if (std::strcmp(i->keyword, "dbname") == 0 && i->val) name = i->val;
    if (o) PQconninfoFree(o);
    if (err) PQfreemem(err);
    s->name_ = "postgresql:" + (name.empty() ? std::string("(default database)") : name);
  }
  auto l = lease(*s->impl_, deadline_after(options.timeout_ms));
  if (!l) {
    // A schema mismatch is always an error; an unreachable server only when asked.
    if (l.error().code == ErrorCode::kConfig || options.require_connection) return l.error();
  }
  return s;
}

Result<std::string> PgStore::put(std::string_view message, const EntryMeta &meta,
                                 const Deadline *scan_deadline) {
  auto deadline = deadline_after(impl_->opts.timeout_ms);
  if (scan_deadline != nullptr) {
    // What is left of the scan's time, not the whole timeout: the MTA is waiting on this scan.
    if (scan_deadline->expired())
      return make_error(ErrorCode::kTimeout,
                        "postgresql: quarantine write: the scan deadline has already passed");
    deadline =
        std::min(deadline, Clock::now() + std::chrono::milliseconds(scan_deadline->remaining_ms()));
  }
  EntryMeta m = meta;
  m.sha256 = sha256_hex(message);
  m.size = message.size();
  m.encrypted = key_.has_value();
  if (m.time == 0) m.time = now();
  for (int attempt = 0; attempt < 3; ++attempt) {
    m.id = random_id();
    auto l = lease(*impl_, deadline);
    if (!l) return l.error();
    if (auto r = exec(**l, "BEGIN", {}, deadline); !r) return r.error();
    // The row first (the chunks reference it); its size and digest once the file is written.
    auto ins = exec(**l,
                    "INSERT INTO avsink_entries (id, time, size, chunks, sha256) "
                    "VALUES ($1, $2, 0, 0, '')",
                    {{m.id}, {std::to_string(m.time)}}, deadline);
    if (!ins) {
      if (has_state(ins.error(), "23505")) continue;  // id taken: another id
      return ins.error();
    }
    Chunker rows(impl_->opts.chunk_bytes, [&](int64_t seq, std::string_view part) -> Result<void> {
      auto r = exec(**l, "INSERT INTO avsink_chunks (id, seq, data) VALUES ($1, $2, $3)",
                    {{m.id}, {std::to_string(seq)}, {part, true}}, deadline);
      if (!r) return r.error();
      return {};
    });
    auto w = write_entry(m, message, key(), [&](std::string_view d) { return rows.add(d); });
    if (!w) return w.error();
    if (auto r = rows.finish(); !r) return r.error();
    if (auto r =
            exec(**l, "UPDATE avsink_entries SET size = $2, chunks = $3, sha256 = $4 WHERE id = $1",
                 {{m.id}, {std::to_string(w->size)}, {std::to_string(rows.rows())}, {w->sha256}},
                 deadline);
        !r)
      return r.error();
    if (auto r = exec(**l, "COMMIT", {}, deadline); !r) return r.error();
    return m.id;
  }
  return make_error(ErrorCode::kInternal, "could not allocate a unique quarantine id");
}

bool PgStore::exists(const std::string &id) const {
  if (!valid_id(id)) return false;
  auto l = lease(*impl_, deadline_after(impl_->opts.timeout_ms));
  if (!l) return false;
  auto r = exec(**l, "SELECT 1 FROM avsink_entries WHERE id = $1", {{id}},
                deadline_after(impl_->opts.timeout_ms));
  return r && PQntuples(r->get()) == 1;
}

// Entry `id`'s metadata prefix, read in one read-only snapshot.
Result<std::string> PgStore::read_entry(const std::string &id, bool /*prefix_only*/) const {
  if (auto c = check_id(id); !c) return c.error();
  const auto deadline = deadline_after(impl_->opts.timeout_ms);
  auto l = lease(*impl_, deadline);
  if (!l) return l.error();
  if (auto r = exec(**l, kBeginRead, {}, deadline); !r) return r.error();
  auto file = read_prefix(**l, id, deadline);
  if (!file) return file.error();
  if (auto r = exec(**l, "COMMIT", {}, deadline); !r) return r.error();
  return file;
}

Result<EntryMeta> PgStore::meta(const std::string &id) const {
  auto prefix = read_entry(id, true);
  if (!prefix) return prefix.error();
  return decode_meta(*prefix, id, key());
}

Result<void> PgStore::stream_entry_file(const std::string &id,
                                        const std::function<Result<void>(uint64_t)> &on_size,
                                        const ByteSink &out) const {
  if (auto c = check_id(id); !c) return c;
  const auto deadline = deadline_after(impl_->opts.timeout_ms);
  auto l = lease(*impl_, deadline);
  if (!l) return l.error();
  Conn &c = **l;
  if (auto r = exec(c, kBeginRead, {}, deadline); !r) return r.error();
  auto row =
      exec(c, "SELECT size, chunks, sha256 FROM avsink_entries WHERE id = $1", {{id}}, deadline);
  if (!row) return row.error();
  if (PQntuples(row->get()) == 0) {
    if (auto r = exec(c, "COMMIT", {}, deadline); !r) return r.error();
    return not_found(id);
  }
  const int64_t size = int_value(*row, 0, 0);
  const int64_t chunks = int_value(*row, 0, 1);
  const std::string digest = value(*row, 0, 2);
  if (size < 0 || static_cast<uint64_t>(size) > kMaxEntryFile || chunks < 0)
    return make_error(ErrorCode::kIo, "corrupt: entry row has an impossible size");
  if (on_size)
    if (auto r = on_size(static_cast<uint64_t>(size)); !r) return r;
  Sha256 h;
  uint64_t got = 0;
  for (int64_t seq = 0; seq < chunks; ++seq) {
    auto d = exec(c, "SELECT data FROM avsink_chunks WHERE id = $1 AND seq = $2",
                  {{id}, {std::to_string(seq)}}, deadline, true);
    if (!d) return d.error();
    if (PQntuples(d->get()) != 1)
      return make_error(ErrorCode::kIo, "tampered: chunk " + std::to_string(seq) + " missing");
    std::string_view part(PQgetvalue(d->get(), 0, 0),
                          static_cast<size_t>(PQgetlength(d->get(), 0, 0)));
    got += part.size();
    if (got > static_cast<uint64_t>(size))
      return make_error(ErrorCode::kIo, "tampered: chunks longer than the entry");
    h.update(part);
    if (auto r = out(part); !r) return r;
  }
  if (got != static_cast<uint64_t>(size))
    return make_error(ErrorCode::kIo, "tampered: entry truncated");
  auto extra = exec(c, "SELECT count(*) FROM avsink_chunks WHERE id = $1", {{id}}, deadline);
  if (!extra) return extra.error();
  if (int_value(*extra, 0, 0) != chunks)
    return make_error(ErrorCode::kIo, "tampered: chunk count differs from the entry row");
  if (auto r = exec(c, "COMMIT", {}, deadline); !r) return r.error();
  if (h.final_hex() != digest)
    return make_error(ErrorCode::kIo, "tampered: entry row digest differs from the entry");
  return {};
}

Result<std::vector<EntryMeta>> PgStore::list(Unreadable *unreadable) const {
  const auto deadline = deadline_after(impl_->opts.timeout_ms);
  auto l = lease(*impl_, deadline);
  if (!l) return l.error();
  if (auto r = exec(**l, kBeginRead, {}, deadline); !r) return r.error();
  auto ids = exec(**l, "SELECT id FROM avsink_entries ORDER BY time, id", {}, deadline);
  if (!ids) return ids.error();
  std::vector<EntryMeta> out;
  for (int i = 0; i < PQntuples(ids->get()); ++i) {
    std::string id = value(*ids, i, 0);
    auto prefix = read_prefix(**l, id, deadline);
    if (!prefix && (prefix.error().code == ErrorCode::kTimeout ||
                    prefix.error().message.rfind("postgresql:", 0) == 0))
      return prefix.error();  // the server failed, not the entry
    auto m = prefix ? decode_meta(*prefix, id, key()) : Result<EntryMeta>(prefix.error());
    if (m)
      out.push_back(std::move(*m));
    else if (unreadable)
      unreadable->emplace_back(id, m.error().message);
  }
  if (auto r = exec(**l, "COMMIT", {}, deadline); !r) return r.error();
  std::sort(out.begin(), out.end(), [](const EntryMeta &a, const EntryMeta &b) {
    return a.time != b.time ? a.time < b.time : a.id < b.id;
  });
  return out;
}

Result<void> PgStore::remove(const std::string &id, const std::string &by) {
  if (auto c = check_id(id); !c) return c;
  if (by.empty()) return make_error(ErrorCode::kInvalidArgument, "delete: operator name missing");
  nlohmann::json rec = {{"id", id}, {"by", by}, {"uid", ::getuid()}, {"store", name_}};
  if (auto m = meta(id)) {
    rec["sha256"] = m->sha256;
    rec["mail_from"] = m->envelope.mail_from;
    rec["rcpt_to"] = m->envelope.rcpt_to;
  } else if (m.error().message.rfind("no such quarantine entry", 0) == 0 ||
             m.error().code == ErrorCode::kTimeout ||
             m.error().message.rfind("postgresql:", 0) == 0) {
    return m.error();  // absent, or the server failed: "not found" would be a lie
  } else {
    rec["note"] = m.error().message;  // unreadable (tampered, wrong key): still deletable
  }
  if (auto a = audit("quarantine.delete", rec); !a)
    return make_error(ErrorCode::kIo,
                      "not deleted: the audit record could not be written: " + a.error().message);
  const auto deadline = deadline_after(impl_->opts.timeout_ms);
  auto l = lease(*impl_, deadline);
  if (!l) return l.error();
  auto r = exec(**l, "DELETE FROM avsink_entries WHERE id = $1", {{id}}, deadline);
  if (!r) return r.error();
  if (std::string(PQcmdTuples(r->get())) != "1") return not_found(id);
  return {};
}

Result<size_t> PgStore::purge_older_than(int64_t age_seconds, const std::string &by) {
  if (age_seconds < 0) return make_error(ErrorCode::kInvalidArgument, "purge: negative age");
  if (by.empty()) return make_error(ErrorCode::kInvalidArgument, "purge: operator name missing");
  const int64_t cutoff = now() - age_seconds;
  std::vector<std::pair<std::string, int64_t>> old;
  {
    const auto deadline = deadline_after(impl_->opts.timeout_ms);
    auto l = lease(*impl_, deadline);
    if (!l) return l.error();
    auto r = exec(**l, "SELECT id, time FROM avsink_entries WHERE time < $1 ORDER BY time",
                  {{std::to_string(cutoff)}}, deadline);
    if (!r) return r.error();
    for (int i = 0; i < PQntuples(r->get()); ++i)
      old.emplace_back(value(*r, i, 0), int_value(*r, i, 1));
  }
  size_t removed = 0;
  for (const auto &[id, t] : old) {
    nlohmann::json rec = {{"id", id},
                          {"by", by},
                          {"uid", ::getuid()},
                          {"store", name_},
                          {"reason", "purge: older than " + std::to_string(age_seconds) + " s"},
                          {"entry_time", t}};
    if (auto a = audit("quarantine.delete", rec); !a)
      return make_error(ErrorCode::kIo, "purge stopped after " + std::to_string(removed) +
                                            " entries: audit record failed: " + a.error().message);
    const auto deadline = deadline_after(impl_->opts.timeout_ms);
    auto l = lease(*impl_, deadline);
    if (!l) return l.error();
    auto r = exec(**l, "DELETE FROM avsink_entries WHERE id = $1 AND time < $2",
                  {{id}, {std::to_string(cutoff)}}, deadline);
    if (!r) return r.error();
    if (std::string(PQcmdTuples(r->get())) == "1") ++removed;
  }
  return removed;
}

Result<Backend::VerifyReport> PgStore::verify() const {
  VerifyReport rep;
  std::vector<std::string> ids;
  {
    const auto deadline = deadline_after(impl_->opts.timeout_ms);
    auto l = lease(*impl_, deadline);
    if (!l) return l.error();
    auto r = exec(**l, "SELECT id FROM avsink_entries ORDER BY id", {}, deadline);
    if (!r) return r.error();
    for (int i = 0; i < PQntuples(r->get()); ++i) ids.push_back(value(*r, i, 0));
    // Chunks whose entry is gone cannot exist (foreign key); releases of vanished entries can.
  }
  for (const auto &id : ids) {
    auto e = read_message(id, nullptr);
    if (e) {
      ++rep.ok;
      continue;
    }
    if (e.error().message.rfind("no such quarantine entry", 0) == 0) continue;  // deleted
    if (e.error().code == ErrorCode::kTimeout || e.error().code == ErrorCode::kConfig ||
        e.error().message.rfind("postgresql:", 0) == 0)
      return e.error();  // the server failed, not the entry
    rep.bad.emplace_back(id, e.error().message);
  }
  return rep;
}

Result<void> PgStore::export_to(const std::string &archive_path) const {
  std::vector<std::string> ids;
  {
    const auto deadline = deadline_after(impl_->opts.timeout_ms);
    auto l = lease(*impl_, deadline);
    if (!l) return l.error();
    auto r = exec(**l, "SELECT id FROM avsink_entries", {}, deadline);
    if (!r) return r.error();
    for (int i = 0; i < PQntuples(r->get()); ++i) ids.push_back(value(*r, i, 0));
  }
  return write_export(archive_path, ids, *this, key(), now());
}

Result<size_t> PgStore::import_from(const std::string &archive_path) {
  auto bad = [&](const std::string &what) {
    return make_error(ErrorCode::kIo, "import: " + what, archive_path);
  };
  auto each_piece = [](const MemberReader &read, const ByteSink &f) {
    return tar_member_pieces(read, kStreamPiece, f);
  };
  struct Seen {
    uint64_t size = 0;
    std::string sha256;
    int64_t time = 0;
  };
  // Pass 1: manifest and every entry verified, streamed; nothing written.
  std::map<std::string, Seen> info;
  std::string manifest_text;
  bool have_manifest = false;
  {
    Fd fd(::open(archive_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return io_error("cannot open archive", archive_path);
    auto on_member = [&](const TarMember &m, const MemberReader &read) -> Result<void> {
      std::string id;
      if (auto c =
              classify_archive_member(m, read, archive_path, &have_manifest, &manifest_text, &id);
          !c || id.empty())
        return c;  // an error, or the manifest (read)
      if (info.count(id)) return bad("entry twice in the archive: " + id);
      if (m.size > kMaxEntryFile) return bad("member too large");
      EntryReader reader(id, key());
      auto fed = each_piece(read, [&](std::string_view d) { return reader.feed(d); });
      auto e = fed ? reader.finish() : Result<EntryMeta>(fed.error());
      if (!e) return bad("entry " + id + " does not verify: " + e.error().message);
      info[id] = Seen{reader.bytes_fed(), reader.file_sha256(), e->time};
      return {};
    };
    if (auto r = tar_read(fd.get(), archive_path, on_member); !r) return r.error();
  }
  if (!have_manifest) return bad("no manifest");
  std::vector<std::pair<std::string, std::pair<uint64_t, std::string>>> seen;
  for (const auto &[id, i] : info) seen.push_back({id, {i.size, i.sha256}});
  if (auto c = check_manifest(manifest_text, seen, archive_path); !c) return c.error();

  // Pass 2: one transaction; the bytes must be those pass 1 verified (same SHA-256).
  const auto deadline = deadline_after(std::max(impl_->opts.timeout_ms, kMinMigrateMs));
  auto l = lease(*impl_, deadline);
  if (!l) return l.error();
  if (auto r = exec(**l, "BEGIN", {}, deadline); !r) return r.error();
  size_t added = 0;
  const size_t chunk = impl_->opts.chunk_bytes;
  Fd fd(::open(archive_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open archive", archive_path);
  auto drain = [&](const MemberReader &read) {
    return each_piece(read, [](std::string_view) -> Result<void> { return {}; });
  };
  auto on_member = [&](const TarMember &m, const MemberReader &read) -> Result<void> {
    if (m.name == kArchiveManifest) return drain(read);
    std::string id = id_of_entry_file(std::string_view(m.name).substr(kArchiveEntries.size()));
    auto it = info.find(id);
    if (it == info.end() || it->second.size != m.size)
      return bad("archive changed while importing: " + m.name);
    const Seen &want = it->second;
    auto cur = exec(**l, "SELECT sha256 FROM avsink_entries WHERE id = $1", {{id}}, deadline);
    if (!cur) return cur.error();
    if (PQntuples(cur->get()) == 1) {
      if (value(*cur, 0, 0) == want.sha256) return drain(read);  // already here, identical
      return make_error(ErrorCode::kState,
                        "import: entry " + id + " already exists with different content",
                        archive_path);
    }
    const int64_t chunks = static_cast<int64_t>((want.size + chunk - 1) / chunk);
    if (auto r = exec(**l,
                      "INSERT INTO avsink_entries (id, time, size, chunks, sha256) "
                      "VALUES ($1, $2, $3, $4, $5)",
                      {{id},
                       {std::to_string(want.time)},
                       {std::to_string(want.size)},
                       {std::to_string(chunks)},
                       {want.sha256}},
                      deadline);
        !r)
      return r.error();
    Chunker rows(chunk, [&](int64_t seq, std::string_view part) -> Result<void> {
      auto r = exec(**l, "INSERT INTO avsink_chunks (id, seq, data) VALUES ($1, $2, $3)",
                    {{id}, {std::to_string(seq)}, {part, true}}, deadline);
      if (!r) return r.error();
      return {};
    });
    if (auto r = each_piece(read, [&](std::string_view d) { return rows.add(d); }); !r) return r;
    if (auto r = rows.finish(); !r) return r;
    if (rows.sha256() != want.sha256 || rows.rows() != chunks)
      return bad("archive changed while importing: " + id);
    ++added;
    return {};
  };
  if (auto r = tar_read(fd.get(), archive_path, on_member); !r) {
    (**l).broken = true;  // dropped: the transaction rolls back
    return r.error();
  }
  if (auto r = exec(**l, "COMMIT", {}, deadline); !r) return r.error();
  if (auto a = audit("quarantine.import", {{"archive", archive_path},
                                           {"store", name_},
                                           {"uid", ::getuid()},
                                           {"added", added},
                                           {"in_archive", seen.size()}});
      !a)
    return make_error(ErrorCode::kIo,
                      "imported " + std::to_string(added) +
                          " entries, but the audit record failed: " + a.error().message);
  return added;
}

Result<void> PgStore::record_release(const std::string &id, int64_t mark_time,
                                     const std::vector<std::string> &rcpts) {
  const auto deadline = deadline_after(impl_->opts.timeout_ms);
  auto l = lease(*impl_, deadline);
  if (!l) return l.error();
  nlohmann::json to = rcpts;
  auto r = exec(**l, "INSERT INTO avsink_releases (id, mark_time, rcpts) VALUES ($1, $2, $3)",
                {{id}, {std::to_string(mark_time)}, {to.dump()}}, deadline);
  if (!r) return r.error();
  return {};
}

std::string PgStore::claim_release(const std::string &id, int64_t mark_time,
                                   const std::vector<std::string> &rcpt_keys) {
  const auto deadline = deadline_after(impl_->opts.timeout_ms);
  auto l = lease(*impl_, deadline);
  if (!l) return "release store unavailable: " + l.error().message;
  auto r = exec(**l,
                "SELECT rcpts, used_at IS NOT NULL FROM avsink_releases "
                "WHERE id = $1 AND mark_time = $2",
                {{id}, {std::to_string(mark_time)}}, deadline);
  if (!r) return "release store unavailable: " + r.error().message;
  if (PQntuples(r->get()) != 1) return "no release record for this mark";
  if (value(*r, 0, 1) == "t") return "release mark already used";
  nlohmann::json rec = nlohmann::json::parse(value(*r, 0, 0), nullptr, false);
  if (rec.is_discarded() || !rec.is_array()) return "release record corrupt";
  std::vector<std::string> allowed;
  for (const auto &t : rec)
    if (t.is_string()) allowed.push_back(release_rcpt_key(t.get<std::string>()));
  for (const auto &k : rcpt_keys)
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      return "not released to " + k;
  // Single use across every gateway: only one UPDATE finds used_at still NULL.
  auto u = exec(**l,
                "UPDATE avsink_releases SET used_at = $3 WHERE id = $1 AND mark_time = $2 "
                "AND used_at IS NULL",
                {{id}, {std::to_string(mark_time)}, {std::to_string(now())}}, deadline);
  if (!u) return "release store unavailable: " + u.error().message;
  if (std::string(PQcmdTuples(u->get())) != "1") return "release mark already used";
  return {};
}

}  // namespace avsink::quarantine
