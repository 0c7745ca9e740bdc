// The control plane's SQLite schema and its numbered migrations.
//
// PRAGMA user_version holds the number of the last migration applied. Opening a database runs
// every newer migration, each in its own transaction, after copying the database aside with
// VACUUM INTO (so an upgrade that goes wrong leaves the old file to go back to). A database whose
// user_version is newer than this binary knows is refused: an old binary must not write to a
// schema it does not understand.
#pragma once

#include <string>

#include "common/store/sqlite.h"

namespace warden::control_plane {

// The schema version this binary writes.
inline constexpr int kSchemaVersion = 2;

// Sets the connection's pragmas: WAL, synchronous=FULL, foreign keys, busy timeout.
Status ConfigureConnection(sqlite::Database& db);

// Brings `db` (opened from `path`) to kSchemaVersion. A fresh database gets a new store_id
// (a random UUID) and revision 0. An existing one older than kSchemaVersion is first backed up to
// "<path>.v<old>-<unix time>.bak"; `backup_path`, when given, receives that file's name ("" when
// no backup was needed). FailedPrecondition with one line naming both versions when the
// database is newer than this binary; Internal naming the migration that failed otherwise.
Status Migrate(sqlite::Database& db, const std::string& path, std::string* backup_path = nullptr);

// A random version-4 UUID in its canonical text form.
std::string NewUuid();

}  // namespace warden::control_plane
