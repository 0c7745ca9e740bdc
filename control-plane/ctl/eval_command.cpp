// wardenctl eval --data DIR
//
// Loads a standalone folder exactly as warden-edge --data does, then reads requests from stdin,
// one JSON object per line, and writes one JSON answer per line, in order. The form of each
// request is told apart by its keys:
//   {"principal", "resources"}                 Cerbos CheckResources   -> its response
//   {"principal", "resource", "action(s)"}     Cerbos PlanResources    -> its response
//   {"subject"|"action"|"resource", "evaluations"?}  AuthZEN evaluation(s) -> {"decision"} / {"evaluations"}
//   {"object_type", ...} / {"lookup", ...}     directory check, lookup or expand (Topaz v3 shapes)
// A line that is not a valid request gets {"error": {"line": N, "message": ...}} and the rest go on.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "common/directory/json_api.h"
#include "common/engine/decision.h"
#include "common/engine/enrich.h"
#include "common/policy/cerbos_api.h"
#include "common/snapshot/folder_snapshot.h"
#include "common/wire/authzen.h"
#include "control-plane/ctl/commands.h"

namespace warden::ctl {
namespace {

using nlohmann::json;

Result<json> Answer(const Snapshot& snapshot, json request) {
  if (!request.is_object()) return Status::InvalidArgument("a request must be a JSON object");
  // The edge's default limits: wardenctl eval answers as an edge with no limit options would.
  const directory::CheckLimits limits;
  directory::BoundedRelationOracle oracle(*snapshot.directory, limits);
  policy::DecideOptions options;
  options.oracle = &oracle;
  options.now = policy::CurrentTime();
  if (request.contains("principal")) {
    engine::EnrichCerbosPrincipal(snapshot, request["principal"]);
    if (request.contains("resources")) {
      for (auto& entry : request["resources"]) {
        if (entry.is_object() && entry.contains("resource")) engine::EnrichCerbosResource(snapshot, entry["resource"]);
      }
      auto parsed = policy::ParseCheckResourcesRequest(request);
      if (!parsed.ok()) return parsed.status();
      options.aux_data = parsed->aux_data;
      return policy::CheckResources(*snapshot.policies, *parsed, options);
    }
    auto parsed = policy::ParsePlanResourcesRequest(request);
    if (!parsed.ok()) return parsed.status();
    options.aux_data = parsed->aux_data;
    return policy::PlanResources(*snapshot.policies, *parsed, options);
  }
  if (request.contains("subject") || request.contains("evaluations")) {
    auto items = request.find("evaluations");
    if (items == request.end() || (items->is_array() && items->empty())) {
      auto input = wire::ParseAuthzenEvaluation(request, json(), "");
      if (!input.ok()) return input.status();
      auto result = engine::Decide(snapshot, *input);
      if (!result.ok()) return result.status();  // the edge answers these 4xx; here, an error line
      return wire::AuthzenDecisionJson(*result, &snapshot, input->explain);
    }
    // Exactly as the edge answers POST /access/v1/evaluations, semantics and per-item errors included.
    return wire::EvaluateAuthzenBatch(snapshot, request, std::numeric_limits<size_t>::max(), {});
  }
  return directory::DirectoryRequestJson(*snapshot.directory, request);
}

}  // namespace

int EvalCommand(const std::vector<std::string>& args) {
  std::string dir;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--data" && i + 1 < args.size()) {
      dir = args[++i];
    } else if (args[i].rfind("--data=", 0) == 0) {
      dir = args[i].substr(7);
    } else {
      std::fprintf(stderr, "wardenctl eval: unexpected argument '%s'\nusage: wardenctl eval --data DIR < requests.jsonl\n",
                   args[i].c_str());
      return 2;
    }
  }
  if (dir.empty()) {
    std::fputs("usage: wardenctl eval --data DIR < requests.jsonl\n", stderr);
    return 2;
  }
  auto snapshot = LoadSnapshotFolder(dir, 1, "standalone");
  if (!snapshot.ok()) {
    std::fprintf(stderr, "wardenctl eval: cannot load %s:\n%s\n", dir.c_str(), snapshot.status().message().c_str());
    return 1;
  }
  std::string line;
  int number = 0;
  bool any_error = false;
  while (std::getline(std::cin, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json request = json::parse(line, nullptr, false);
    Result<json> answer = request.is_discarded() ? Result<json>(Status::InvalidArgument("not valid JSON"))
                                                 : Answer(**snapshot, std::move(request));
    if (answer.ok()) {
      std::cout << answer->dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    } else {
      any_error = true;
      std::cout << json{{"error", {{"line", number}, {"message", answer.status().message()}}}}.dump() << '\n';
    }
  }
  std::cout.flush();
  return any_error ? 1 : 0;
}

}  // namespace warden::ctl
