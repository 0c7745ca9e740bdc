// Replays the SpiceDB oracle corpus (tests/conformance/corpus/spicedb/README.md) against the
// directory engine, loading the schema twice: as the hand-translated manifest beside this file and
// as the raw schema.zed. Exits non-zero on any mismatch, printing each one.
//
//  1. all 1,000 checks equal SpiceDB's answers, for both manifests;
//  2. the membership cycle g1 <-> g3 (added through Apply): every user/group membership equals an
//     independent fixpoint computed here, where SpiceDB gives up with "max depth exceeded";
//  3. lookup_resources and lookup_subjects equal the set of objects/subjects for which check
//     says yes, over a deterministic sample of users, objects and permissions, with and without
//     paging.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/directory/checker.h"
#include "common/directory/lookup.h"
#include "common/directory/snapshot.h"

using namespace warden::directory;

namespace {

int failures = 0;

void Fail(const std::string& msg) {
  if (++failures <= 50) std::fprintf(stderr, "FAIL: %s\n", msg.c_str());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(2);
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<nlohmann::json> ReadJsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

RelationTuple TupleOf(const nlohmann::json& j) {
  return {j["resource_type"], j["resource_id"], j["relation"], j["subject_type"], j["subject_id"],
          j.value("subject_relation", "")};
}

std::shared_ptr<const DirectorySnapshot> Load(const ManifestSource& manifest, const std::vector<RelationTuple>& tuples) {
  auto builder = DirectorySnapshot::Builder::Create(manifest);
  if (!builder.ok()) {
    std::fprintf(stderr, "manifest %s: %s\n", manifest.name.c_str(), builder.status().ToString().c_str());
    std::exit(1);
  }
  for (const RelationTuple& t : tuples) {
    warden::Status s = builder->AddRelation(t);
    if (!s.ok()) Fail("load " + t.ToString() + ": " + s.message());
  }
  return builder->Build(1);
}

bool CheckOrDie(const DirectorySnapshot& snap, const std::string& ot, const std::string& oid, const std::string& rel,
                const std::string& st, const std::string& sid) {
  auto r = Check(snap, {ot, oid, rel, st, sid, "", false});
  if (!r.ok()) {
    Fail("check " + ot + ":" + oid + "#" + rel + "@" + st + ":" + sid + " errored: " + r.status().ToString());
    return false;
  }
  return r->allowed;
}

void RunChecks(const char* label, const DirectorySnapshot& snap, const std::vector<nlohmann::json>& checks) {
  int agree = 0;
  auto start = std::chrono::steady_clock::now();
  for (const auto& c : checks) {
    bool got = CheckOrDie(snap, c["object_type"], c["object_id"], c["relation"], c["subject_type"], c["subject_id"]);
    if (got == c["expected"].get<bool>()) {
      ++agree;
    } else {
      Fail(std::string(label) + ": " + c.dump() + " answered " + (got ? "true" : "false"));
    }
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %d/%zu checks agree with SpiceDB (%.1f ms)\n", label, agree, checks.size(), ms);
}

// Independent membership fixpoint over group#member tuples.
std::map<std::string, std::set<std::string>> Memberships(const std::vector<RelationTuple>& tuples) {
  std::map<std::string, std::set<std::string>> users, subgroups;  // group -> direct users / groups
  for (const auto& t : tuples) {
    if (t.object_type != "group" || t.relation != "member") continue;
    if (t.subject_type == "user") users[t.object_id].insert(t.subject_id);
    if (t.subject_type == "group") subgroups[t.object_id].insert(t.subject_id);
    users[t.object_id];
  }
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto& [g, members] : users) {
      for (const std::string& sub : subgroups[g]) {
        for (const std::string& u : users[sub]) changed |= members.insert(u).second;
      }
    }
  }
  return users;
}

}  // namespace

int main() {
  const std::string dir = std::string(WARDEN_CORPUS_DIR) + "/spicedb/";
  std::vector<RelationTuple> tuples;
  for (const auto& j : ReadJsonl(dir + "relationships.jsonl")) tuples.push_back(TupleOf(j));
  const auto checks = ReadJsonl(dir + "checks.jsonl");
  std::printf("corpus: %zu relationships, %zu checks\n", tuples.size(), checks.size());

  ManifestSource yaml{ManifestSource::Format::kYaml, ReadFile(WARDEN_SPICEDB_MANIFEST), "manifest.yaml"};
  ManifestSource zed{ManifestSource::Format::kZed, ReadFile(dir + "schema.zed"), "schema.zed"};
  auto from_yaml = Load(yaml, tuples);
  auto from_zed = Load(zed, tuples);
  if (from_yaml->relation_count() != tuples.size()) Fail("relation count " + std::to_string(from_yaml->relation_count()));

  // 1. The oracle's checks.
  RunChecks("manifest.yaml", *from_yaml, checks);
  RunChecks("schema.zed", *from_zed, checks);

  // 2. A membership cycle.
  ChangeBatch cycle;
  RelationTuple g1_g3{"group", "g1", "member", "group", "g3", "member"};
  RelationTuple g3_g1{"group", "g3", "member", "group", "g1", "member"};
  cycle.changes = {Change::SetRelation(g1_g3), Change::SetRelation(g3_g1)};
  auto cyclic = from_yaml->Apply(cycle);
  if (!cyclic.ok()) {
    Fail("apply cycle: " + cyclic.status().ToString());
    return 1;
  }
  std::vector<RelationTuple> cyclic_tuples = tuples;
  cyclic_tuples.push_back(g1_g3);
  cyclic_tuples.push_back(g3_g1);
  auto members = Memberships(cyclic_tuples);
  std::set<std::string> all_users;
  for (const auto& t : tuples) {
    if (t.subject_type == "user" && t.subject_id != "*") all_users.insert(t.subject_id);
  }
  int cycle_checks = 0, cycle_members = 0;
  for (const auto& [group, users] : members) {
    for (const std::string& u : all_users) {
      bool want = users.count(u) > 0;
      bool got = CheckOrDie(**cyclic, "group", group, "member", "user", u);
      ++cycle_checks;
      cycle_members += got;
      if (got != want) Fail("cycle: group:" + group + "#member@user:" + u + " answered " + (got ? "true" : "false"));
    }
  }
  if (members["g1"] != members["g3"]) Fail("cycle: g1 and g3 should have the same members");
  if (members["g1"].empty()) Fail("cycle: g1 has no members; the test proves nothing");
  // The revision before the cycle is unchanged: readers keep their snapshot.
  for (const std::string& u : members["g3"]) {
    bool before = CheckOrDie(*from_yaml, "group", "g1", "member", "user", u);
    bool direct = Memberships(tuples)["g1"].count(u) > 0;
    if (before != direct) Fail("snapshot isolation: g1@" + u + " changed in the parent revision");
  }
  std::printf("cycle g1 <-> g3: %d membership checks agree with the fixpoint (%d members, g1 has %zu)\n", cycle_checks,
              cycle_members, members["g1"].size());

  // 3. Lookups equal checks.
  std::map<std::string, std::set<std::string>> objects_by_type;
  for (const auto& t : tuples) {
    objects_by_type[t.object_type].insert(t.object_id);
    if (t.subject_id != "*") objects_by_type[t.subject_type].insert(t.subject_id);
  }
  const std::vector<std::pair<std::string, std::string>> perms = {
      {"document", "view"}, {"document", "edit"}, {"document", "comment"}, {"document", "viewer"},
      {"folder", "view"},   {"folder", "edit"},   {"group", "member"}};
  auto start = std::chrono::steady_clock::now();
  int resources_compared = 0, results_total = 0;
  std::vector<std::string> users(all_users.begin(), all_users.end());
  for (size_t i = 0; i < users.size(); i += 15) {  // every 15th user
    for (const auto& [type, perm] : perms) {
      std::vector<std::string> want;
      for (const std::string& id : objects_by_type[type]) {
        if (CheckOrDie(**cyclic, type, id, perm, "user", users[i])) want.push_back(id);
      }
      LookupResourcesRequest req{"user", users[i], "", perm, type, 0, ""};
      auto got = LookupResources(**cyclic, req);
      if (!got.ok()) {
        Fail("lookup_resources " + users[i] + " " + type + "#" + perm + ": " + got.status().ToString());
        continue;
      }
      ++resources_compared;
      results_total += static_cast<int>(got->ids.size());
      if (got->ids != want) {
        Fail("lookup_resources user:" + users[i] + " " + type + "#" + perm + ": got " + std::to_string(got->ids.size()) +
             " ids, checks say " + std::to_string(want.size()));
      }
      // Paging returns the same list.
      std::vector<std::string> paged;
      req.page_size = std::max<size_t>(1, want.size() / 3);  // three or four pages
      for (int page = 0; page < 10000; ++page) {
        auto p = LookupResources(**cyclic, req);
        if (!p.ok()) {
          Fail("paged lookup: " + p.status().ToString());
          break;
        }
        paged.insert(paged.end(), p->ids.begin(), p->ids.end());
        if (p->next_cursor.empty()) break;
        req.cursor = p->next_cursor;
      }
      if (paged != want) Fail("paged lookup_resources user:" + users[i] + " " + type + "#" + perm + " differs");
    }
  }
  int subjects_compared = 0;
  for (const auto& [type, perm] : perms) {
    std::vector<std::string> ids(objects_by_type[type].begin(), objects_by_type[type].end());
    for (size_t i = 0; i < ids.size(); i += std::max<size_t>(1, ids.size() / 40)) {
      std::vector<std::string> want;
      for (const std::string& u : users) {
        if (CheckOrDie(**cyclic, type, ids[i], perm, "user", u)) want.push_back(u);
      }
      auto got = LookupSubjects(**cyclic, {type, ids[i], perm, "user", 0, ""});
      if (!got.ok()) {
        Fail("lookup_subjects " + type + ":" + ids[i] + "#" + perm + ": " + got.status().ToString());
        continue;
      }
      ++subjects_compared;
      results_total += static_cast<int>(got->ids.size());
      if (got->ids != want) {
        Fail("lookup_subjects " + type + ":" + ids[i] + "#" + perm + ": got " + std::to_string(got->ids.size()) +
             " ids, checks say " + std::to_string(want.size()));
      }
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("lookups: %d lookup_resources and %d lookup_subjects equal to checks (%d ids, %.1f s)\n",
              resources_compared, subjects_compared, results_total, secs);

  if (failures > 0) {
    std::printf("%d failures\n", failures);
    return 1;
  }
  std::printf("all passed\n");
  return 0;
}
