// pg_migrations.h - the PostgreSQL schema migrations, embedded at build time from
// src/quarantine/pg_migrations/NNN_*.sql (generated pg_migrations.cpp; see CMakeLists.txt).
#pragma once

#include <cstddef>

namespace avsink::quarantine {

struct PgMigration {
  int version;       // NNN of the file name
  const char *name;  // the file name
  const char *sql;   // its text, run as one simple query inside a transaction
};
// In ascending version order, without gaps (checked at build time by the generator).
extern const PgMigration kPgMigrations[];
extern const size_t kPgMigrationCount;

}  // namespace avsink::quarantine
