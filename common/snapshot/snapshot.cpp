#include "common/snapshot/snapshot.h"

namespace warden {

Result<std::shared_ptr<const Snapshot>> MakeSnapshot(std::vector<policy::SourceDocument> policy_sources,
                                                     std::shared_ptr<const directory::DirectorySnapshot> directory,
                                                     uint64_t revision, std::string store_id,
                                                     const policy::ExpressionLimits& expression_limits) {
  policy::CompileSetOptions compile_options;
  compile_options.expression_limits = expression_limits;
  auto policies = policy::PolicySet::Compile(policy_sources, compile_options);
  if (!policies.ok()) return policies.status();
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->revision = revision;
  snapshot->store_id = std::move(store_id);
  snapshot->policies = std::move(*policies);
  snapshot->policy_sources = std::make_shared<const std::vector<policy::SourceDocument>>(std::move(policy_sources));
  snapshot->directory = directory ? std::move(directory) : directory::DirectorySnapshot::Empty();
  snapshot->created_at = std::chrono::system_clock::now();
  snapshot->expression_limits = expression_limits;
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

}  // namespace warden
