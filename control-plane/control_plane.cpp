#include "control-plane/control_plane.h"

#include <openssl/crypto.h>

#include <chrono>
#include <future>
#include <optional>

#include <spdlog/spdlog.h>

#include "common/protocol/apply.h"

namespace warden::control_plane {
namespace {

// Writes of at least this many ops validate in memory and write SQLite at the same time; below
// it the second thread would cost more than the overlap saves.
constexpr size_t kOverlapOps = 256;

}  // namespace

Result<std::unique_ptr<ControlPlane>> ControlPlane::Open(const std::string& db_path, const std::string& bootstrap_token,
                                                         metrics::Registry& registry,
                                                         const policy::ExpressionLimits& expression_limits) {
  auto store = Store::Open(db_path);
  if (!store.ok()) return store.status();
  std::unique_ptr<ControlPlane> cp(new ControlPlane());
  cp->store_ = std::move(*store);
  if (!cp->store_->migration_backup().empty()) {
    spdlog::info("migrated database {}; the previous version was saved as {}", db_path,
                 cp->store_->migration_backup());
  }
  auto snapshot = cp->store_->LoadSnapshot(expression_limits);
  if (!snapshot.ok()) return snapshot.status();
  cp->current_ = std::move(*snapshot);
  auto tokens = cp->store_->Tokens();
  if (!tokens.ok()) return tokens.status();
  if (!bootstrap_token.empty()) {
    if (tokens->empty()) {
      auto created = cp->store_->CreateToken("bootstrap", "write", bootstrap_token);
      if (!created.ok()) return created.status();
      spdlog::info("created the bootstrap write token from WARDEN_ADMIN_TOKEN (id {})", created->id);
    } else {
      spdlog::info("WARDEN_ADMIN_TOKEN ignored: the store already holds {} token(s)", tokens->size());
    }
  } else if (tokens->empty()) {
    // Without a token nothing can be changed or read through the API; say how out, loudly.
    spdlog::warn(
        "the store {} holds no admin token, so every admin API call will be refused (401). Make the first one "
        "offline with `warden-control-plane token create NAME --db {}` (then send this process SIGHUP), or "
        "restart with WARDEN_ADMIN_TOKEN=SECRET set.",
        db_path, db_path);
  }
  WARDEN_RETURN_IF_ERROR(cp->ReloadTokens());
  WARDEN_RETURN_IF_ERROR(cp->ReloadKeys());

  cp->writes_ = &registry.AddCounter("warden_cp_writes_total", "Writes committed (each took one revision)");
  cp->write_refusals_ = &registry.AddCounter("warden_cp_write_refusals_total", "Writes refused by validation");
  cp->ops_written_ = &registry.AddCounter("warden_cp_ops_written_total", "Delta ops committed");
  cp->import_rows_ = &registry.AddCounter("warden_cp_import_rows_total", "Rows committed by /v1/import");
  ControlPlane* raw = cp.get();
  registry.AddCallbackGauge("warden_cp_revision", "The latest committed revision", {},
                            [raw] { return static_cast<double>(raw->current()->revision); });
  registry.AddCallbackGauge("warden_cp_relations", "Relations in the current revision", {},
                            [raw] { return static_cast<double>(raw->current()->directory->relation_count()); });
  registry.AddCallbackGauge("warden_cp_objects", "Objects in the current revision", {},
                            [raw] { return static_cast<double>(raw->current()->directory->object_count()); });
  spdlog::info("opened store {} ({}) at revision {}", cp->store_id(), db_path, cp->current_->revision);
  return cp;
}

std::shared_ptr<const Snapshot> ControlPlane::current() const {
  std::lock_guard lock(current_mutex_);
  return current_;
}

Result<WriteOutcome> ControlPlane::Write(std::vector<protocol::DeltaOp> ops, const std::string& author) {
  return Write([&ops](const Snapshot&) -> Result<std::vector<protocol::DeltaOp>> { return std::move(ops); }, author);
}

Result<WriteOutcome> ControlPlane::Write(const Planner& plan, const std::string& author) {
  std::lock_guard write_lock(write_mutex_);
  std::shared_ptr<const Snapshot> base = current();
  auto ops = plan(*base);
  if (!ops.ok()) {
    write_refusals_->Increment();
    return ops.status();
  }
  if (ops->empty()) return WriteOutcome{base->revision, false, 0};
  uint64_t revision = base->revision + 1;
  auto planned_at = std::chrono::steady_clock::now();
  std::optional<Result<uint64_t>> committed;
  std::optional<Result<std::shared_ptr<const Snapshot>>> next;
  auto applied_at = planned_at;
  const bool overlap = ops->size() >= kOverlapOps && !protocol::TouchesPolicies(*ops);
  if (overlap) {
    // A large write's two halves take turns on the clock but need not: its rows are written into
    // an open transaction on a second thread while this one validates and applies them in memory,
    // and the transaction commits only once that passed (else it rolls back). With a million
    // relations stored each half of a 1,000-relation batch takes milliseconds.
    std::promise<bool> valid;
    std::future<bool> proceed = valid.get_future();
    auto staged = std::async(std::launch::async, [&] { return store_->Append(*ops, author, nullptr, &proceed); });
    struct Verdict {  // an exception here must not leave the other thread waiting forever
      std::promise<bool>& valid;
      bool given = false;
      void Give(bool ok) { valid.set_value(ok); given = true; }
      ~Verdict() { if (!given) valid.set_value(false); }
    } verdict{valid};
    next = protocol::ApplyRevision(*base, revision, *ops);
    applied_at = std::chrono::steady_clock::now();
    verdict.Give(next->ok());
    committed = staged.get();
  } else {
    next = protocol::ApplyRevision(*base, revision, *ops);
    applied_at = std::chrono::steady_clock::now();
    if (next->ok()) {
      const std::vector<policy::SourceDocument>* policy_set =
          protocol::TouchesPolicies(*ops) ? (**next)->policy_sources.get() : nullptr;
      committed = store_->Append(*ops, author, policy_set);
    }
  }
  if (!next->ok()) {
    write_refusals_->Increment();
    if (next->status().code() == StatusCode::kInvalidArgument) return next->status();
    return Status::InvalidArgument(next->status().message());
  }
  if (!committed->ok()) {
    spdlog::error("write of {} ops by {} failed to commit: {}", ops->size(), author, committed->status().message());
    return committed->status();
  }
  if (**committed != revision) {
    // Another process wrote to the same database file; our in-memory view is stale.
    return Status::Internal("revision mismatch: committed " + std::to_string(**committed) + ", expected " +
                            std::to_string(revision) + " (is another control plane using this database?)");
  }
  {
    std::lock_guard lock(current_mutex_);
    current_ = std::move(**next);
  }
  if (overlap) reclaimer_.Retire(std::move(base));
  writes_->Increment();
  ops_written_->Increment(ops->size());
  if (on_commit_) on_commit_(revision);
  if (ops->size() >= 10'000) {
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    spdlog::info("revision {}: {} ops by {}; validated and applied in memory in {:.0f} ms, committed in {:.0f} ms",
                 revision, ops->size(), author, ms(planned_at, applied_at),
                 ms(applied_at, std::chrono::steady_clock::now()));
  }
  return WriteOutcome{revision, true, ops->size()};
}

namespace {

// The credential whose hash is that of `secret`, or null. Every stored hash is compared in full,
// so timing says nothing about which (if any) matched.
const CredentialHash* FindCredential(const std::vector<CredentialHash>& candidates, std::string_view secret) {
  std::string presented = protocol::Sha256Hex(secret);
  const CredentialHash* match = nullptr;
  for (const auto& candidate : candidates) {
    bool same = candidate.sha256.size() == presented.size() &&
                CRYPTO_memcmp(candidate.sha256.data(), presented.data(), presented.size()) == 0;
    if (same) match = &candidate;
  }
  return secret.empty() ? nullptr : match;
}

}  // namespace

Result<ControlPlane::EdgeKey> ControlPlane::AuthenticateKey(std::string_view key) const {
  std::shared_lock lock(tokens_mutex_);
  const CredentialHash* match = FindCredential(keys_, key);
  if (!match) return Status::Unauthenticated("invalid or revoked key");
  return EdgeKey{match->id, match->name};
}

Result<std::string> ControlPlane::KeyName(std::string_view id) const {
  std::shared_lock lock(tokens_mutex_);
  for (const CredentialHash& key : keys_) {
    if (key.id == id) return key.name;
  }
  return Status::NotFound("no live key " + std::string(id));
}

Result<Store::NewSecret> ControlPlane::CreateKey(const std::string& name) {
  auto key = store_->CreateApiKey(name);
  if (!key.ok()) return key.status();
  WARDEN_RETURN_IF_ERROR(ReloadKeys());
  return key;
}

Status ControlPlane::RevokeKey(const std::string& id) {
  WARDEN_RETURN_IF_ERROR(store_->DeleteApiKey(id));
  WARDEN_RETURN_IF_ERROR(ReloadKeys());
  if (on_key_revoked_) on_key_revoked_(id);
  return Status::Ok();
}

Status ControlPlane::ReloadKeys() {
  auto hashes = store_->KeyHashes();
  if (!hashes.ok()) return hashes.status();
  std::unique_lock lock(tokens_mutex_);
  keys_ = std::move(*hashes);
  return Status::Ok();
}

void ControlPlane::SetListeners(std::function<void(uint64_t)> on_commit,
                                std::function<void(const std::string&)> on_key_revoked) {
  on_commit_ = std::move(on_commit);
  on_key_revoked_ = std::move(on_key_revoked);
}

Result<Caller> ControlPlane::Authenticate(std::string_view token) const {
  std::shared_lock lock(tokens_mutex_);
  const CredentialHash* match = FindCredential(tokens_, token);
  if (!match) return Status::Unauthenticated("invalid or revoked token");
  Caller caller;
  caller.token_id = match->id;
  caller.name = match->name;
  caller.scope = match->scope == "write" ? Scope::kWrite : Scope::kRead;
  return caller;
}

Status ControlPlane::ReloadTokens() {
  auto hashes = store_->TokenHashes();
  if (!hashes.ok()) return hashes.status();
  std::unique_lock lock(tokens_mutex_);
  tokens_ = std::move(*hashes);
  return Status::Ok();
}

}  // namespace warden::control_plane
