// Store: one control-plane database (one tenant), the durable source of truth.
//
// It holds the current policies, manifest, objects and relations; every policy set ever pushed
// (with who, when, and tags); a change log with each revision's delta ops (common/protocol/
// delta.h), which sync streams to edges; edge keys, admin tokens and edges.
//
// Concurrency: one connection guarded by one mutex. Every write must take the next revision, so
// writes are serial by nature; the control plane serves reads of current data from its in-memory
// snapshot, so the few reads that come here (history, keys, the change log) are short and a
// reader pool would buy nothing but lock traffic. BEGIN IMMEDIATE still guards against a second
// process on the same file: it waits (busy timeout) instead of interleaving. A second connection,
// on its own thread, only checkpoints the WAL (wal_checkpointer.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/policy/source.h"
#include "common/protocol/delta.h"
#include "common/snapshot/snapshot.h"
#include "common/store/sqlite.h"
#include "control-plane/store/wal_checkpointer.h"

namespace warden::control_plane {

struct PolicySetInfo {
  uint64_t revision = 0;
  std::string sha256;  // over the sorted (path, file sha256) list
  std::string author;
  int64_t created_at = 0;  // unix seconds
  std::vector<std::string> tags;
  size_t file_count = 0;
};

struct ChangeEntry {
  uint64_t revision = 0;
  std::string ops_json;  // the JSON array of delta ops, as stored
  std::string author;
  int64_t created_at = 0;
};

struct ApiKeyInfo {
  std::string id;
  std::string name;
  int64_t created_at = 0;
};

struct TokenInfo {
  std::string id;
  std::string name;
  std::string scope;  // "read" or "write"
  int64_t created_at = 0;
};

struct CredentialHash {
  std::string id;
  std::string name;
  std::string scope;   // tokens: "read"/"write"; keys: "sync"
  std::string sha256;  // lower-case hex
};

struct EdgeInfo {
  std::string instance_id, key_id, address, version, state;
  uint64_t revision = 0;
  int64_t last_seen = 0;
};

class Store {
 public:
  // Opens or creates the database at `path` and migrates it (see schema.h). FailedPrecondition
  // when the database is newer than this binary or fails SQLite's quick_check (a damaged file);
  // Unavailable when it cannot be opened.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);

  const std::string& store_id() const { return store_id_; }
  const std::string& path() const { return path_; }
  // The backup made before migrating at Open ("" when none was needed).
  const std::string& migration_backup() const { return migration_backup_; }
  uint64_t revision() const;

  // Reads everything current into one snapshot at revision(). InvalidArgument when stored data
  // no longer loads (a policy the compiler now refuses, or one over `expression_limits`), naming
  // the item.
  Result<std::shared_ptr<const Snapshot>> LoadSnapshot(const policy::ExpressionLimits& expression_limits = {});

  // Commits `ops` as revision() + 1 in one transaction: applies them to the tables, appends them
  // to the change log, and, when `policy_set` is given (the whole policy set after the ops),
  // records it in the history. Returns the new revision; on any error nothing is stored.
  //
  // With `proceed`, everything is written inside the transaction first and then the commit waits
  // for it: true commits, false rolls back (FailedPrecondition, nothing stored). This lets a
  // caller validate the same ops on another thread meanwhile and still commit only what passed.
  Result<uint64_t> Append(const std::vector<protocol::DeltaOp>& ops, const std::string& author,
                          const std::vector<policy::SourceDocument>* policy_set,
                          std::future<bool>* proceed = nullptr);

  // Change log entries with revision > `after`, oldest first, at most `limit`. OutOfRange when
  // revision after+1 has been compacted (a snapshot is needed instead).
  Result<std::vector<ChangeEntry>> Changes(uint64_t after, size_t limit);

  // Compaction keeps the ops of the latest `revisions` revisions (0: keep all). The change log's
  // rows stay (revision, author, time: the history), older ones lose their ops. Applied by every
  // Append after this is set.
  void SetChangeLogRetention(uint64_t revisions);
  // The newest revision whose ops were compacted away (0 when none).
  uint64_t compacted_through() const;
  // The size of the latest committed revision's ops, as the change log holds them.
  size_t last_change_bytes() const { return last_change_bytes_.load(std::memory_order_relaxed); }

  // Policy history, newest first.
  Result<std::vector<PolicySetInfo>> PolicySets();
  // The files of the set pushed at `revision`; NotFound when no set was recorded there.
  Result<std::vector<policy::SourceDocument>> PolicySetFiles(uint64_t revision);
  // Tags the set at `revision`; a tag names one set, so retagging moves it. NotFound for no set.
  Status TagPolicySet(uint64_t revision, const std::string& tag);
  // The revision a tag names, or NotFound.
  Result<uint64_t> RevisionOfTag(const std::string& tag);

  // Edge keys: the secret is returned once and only its SHA-256 is kept.
  struct NewSecret {
    std::string id;
    std::string secret;
  };
  Result<NewSecret> CreateApiKey(const std::string& name);
  Result<std::vector<ApiKeyInfo>> ApiKeys();
  Status DeleteApiKey(const std::string& id);  // NotFound when absent

  // Admin tokens. `secret` empty: a random one is made. AlreadyExists when the secret is in use.
  Result<NewSecret> CreateToken(const std::string& name, const std::string& scope, std::string secret = {});
  Result<std::vector<TokenInfo>> Tokens();
  Status DeleteToken(const std::string& id);  // NotFound when absent
  // Every token's (id, scope, hash), or every key's (id, "sync", hash), for constant-time checks.
  Result<std::vector<CredentialHash>> TokenHashes();
  Result<std::vector<CredentialHash>> KeyHashes();

  Result<std::vector<EdgeInfo>> Edges();
  // Records (inserts or replaces) what is known of an edge.
  Status UpsertEdges(const std::vector<EdgeInfo>& edges);

  // A consistent copy of the whole database at `path` (VACUUM INTO); the file must not exist.
  Status Backup(const std::string& path);

 private:
  Store() = default;
  Status ApplyOp(const protocol::DeltaOp& op);
  // Stores ops[begin, end), all relation.set, in few statements.
  Status InsertRelations(const std::vector<protocol::DeltaOp>& ops, size_t begin, size_t end);

  mutable std::mutex mutex_;
  std::optional<sqlite::Database> db_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // after db_: stopped before it closes
  std::string path_;
  std::string store_id_;
  std::string migration_backup_;
  uint64_t revision_ = 0;  // GUARDED_BY(mutex_)
  uint64_t retain_revisions_ = 0;   // GUARDED_BY(mutex_)
  uint64_t compacted_through_ = 0;  // GUARDED_BY(mutex_)
  std::atomic<size_t> last_change_bytes_{0};
};

// `bytes` random bytes as lower-case hex.
std::string RandomHex(size_t bytes);

}  // namespace warden::control_plane
