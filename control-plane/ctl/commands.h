// wardenctl's commands, one function per command. Each takes the arguments after the command
// name and returns the process exit code: 0 ok, 1 refused or failed, 2 usage error.
#pragma once

#include <string>
#include <vector>

namespace warden::ctl {

// eval --data DIR: decides request lines from stdin, answers one JSON line each on stdout.
int EvalCommand(const std::vector<std::string>& args);
// test DIR: runs the policy test suites found in DIR (or DIR/policies).
int TestCommand(const std::vector<std::string>& args);
// validate DIR: loads DIR as an edge would; every problem on stderr and exit 1, or a summary.
int ValidateCommand(const std::vector<std::string>& args);

// Commands that talk to a control plane (see client.h for --url, --token, --json and exit codes).
// push DIR [--prune]: a standalone folder (policies/, manifest, data/) as one revision.
int PushCommand(const std::vector<std::string>& args);
// import FILE: JSON lines of objects and relations, atomic; a progress bar on a terminal.
int ImportCommand(const std::vector<std::string>& args);
// check SUBJECT PERMISSION OBJECT: asked of the control plane's latest revision, with the path.
int CheckCommand(const std::vector<std::string>& args);
// evaluate JSON|-: an AuthZEN evaluation asked of the control plane, with its explanation.
int EvaluateCommand(const std::vector<std::string>& args);
// policy list|get PATH|history|tag REVISION TAG|rollback TAG|REVISION|diff A B
int PolicyCommand(const std::vector<std::string>& args);
// manifest get
int ManifestCommand(const std::vector<std::string>& args);
// object get|set|rm TYPE:ID [JSON]
int ObjectCommand(const std::vector<std::string>& args);
// relation set|rm SPEC, relation list [field=value...]
int RelationCommand(const std::vector<std::string>& args);
// keys create NAME|list|revoke ID (edge keys)
int KeysCommand(const std::vector<std::string>& args);
// tokens create NAME read|write|list|revoke ID (admin tokens)
int TokensCommand(const std::vector<std::string>& args);
// edges: the edges the control plane knows
int EdgesCommand(const std::vector<std::string>& args);
// decisions [FILTER=VALUE ...] [--follow]: the decision logs.
int DecisionsCommand(const std::vector<std::string>& args);
// revision: the store's latest revision and store_id
int RevisionCommand(const std::vector<std::string>& args);
// backup FILE: a consistent copy of the store's database
int BackupCommand(const std::vector<std::string>& args);
// restore FILE --db DB: puts a backup in place (offline, with the control plane stopped)
int RestoreCommand(const std::vector<std::string>& args);

}  // namespace warden::ctl
