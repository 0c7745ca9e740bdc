#include "common/protocol/apply.h"

namespace warden::protocol {

Result<std::shared_ptr<const Snapshot>> ApplyRevision(const Snapshot& base, uint64_t revision,
                                                      const std::vector<DeltaOp>& ops) {
  if (revision <= base.revision) {
    return Status::FailedPrecondition("revision " + std::to_string(revision) + " is not after " +
                                      std::to_string(base.revision));
  }
  auto directory = base.directory->Apply(DirectoryBatch(ops, revision));
  if (!directory.ok()) return directory.status();
  auto next = std::make_shared<Snapshot>();
  next->revision = revision;
  next->store_id = base.store_id;
  next->directory = std::move(*directory);
  if (TouchesPolicies(ops)) {
    auto sources = ApplyPolicyOps(*base.policy_sources, ops);
    policy::CompileSetOptions compile_options;
    compile_options.expression_limits = base.expression_limits;
    auto policies = policy::PolicySet::Compile(sources, compile_options);
    if (!policies.ok()) return policies.status();
    next->policies = std::move(*policies);
    next->policy_sources = std::make_shared<const std::vector<policy::SourceDocument>>(std::move(sources));
  } else {
    next->policy_sources = base.policy_sources;
    next->policies = base.policies;
  }
  next->created_at = std::chrono::system_clock::now();
  next->expression_limits = base.expression_limits;
  return std::shared_ptr<const Snapshot>(std::move(next));
}

}  // namespace warden::protocol
