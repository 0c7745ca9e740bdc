// Helpers for directory unit tests: a snapshot from manifest text and tuples written as
// "document:d1#viewer@group:g1#member".
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/directory/checker.h"
#include "common/directory/snapshot.h"

namespace warden::directory::testing {

inline RelationTuple T(const std::string& s) {
  RelationTuple t;
  size_t colon = s.find(':'), hash = s.find('#'), at = s.find('@', hash);
  t.object_type = s.substr(0, colon);
  t.object_id = s.substr(colon + 1, hash - colon - 1);
  t.relation = s.substr(hash + 1, at - hash - 1);
  std::string subject = s.substr(at + 1);
  size_t scolon = subject.find(':'), shash = subject.find('#');
  t.subject_type = subject.substr(0, scolon);
  if (shash == std::string::npos) {
    t.subject_id = subject.substr(scolon + 1);
  } else {
    t.subject_id = subject.substr(scolon + 1, shash - scolon - 1);
    t.subject_relation = subject.substr(shash + 1);
  }
  return t;
}

inline std::shared_ptr<const DirectorySnapshot> Build(const std::string& manifest, const std::vector<std::string>& tuples,
                                                      ManifestSource::Format format = ManifestSource::Format::kYaml) {
  auto builder = DirectorySnapshot::Builder::Create(ManifestSource{format, manifest, "test"});
  REQUIRE_MESSAGE(builder.ok(), builder.status().ToString());
  for (const std::string& t : tuples) {
    Status s = builder->AddRelation(T(t));
    REQUIRE_MESSAGE(s.ok(), std::string(t + ": " + s.ToString()));
  }
  return builder->Build(1);
}

// check("document:d1#view@user:u1")
inline bool Allowed(const DirectorySnapshot& snap, const std::string& s) {
  RelationTuple t = T(s);
  auto r = Check(snap, {t.object_type, t.object_id, t.relation, t.subject_type, t.subject_id, t.subject_relation, false});
  REQUIRE_MESSAGE(r.ok(), std::string(s + ": " + r.status().ToString()));
  return r->allowed;
}

// The SpiceDB corpus model, small enough to reason about in tests.
inline const char* kDriveManifest = R"(model:
  version: 3
types:
  user: {}
  group:
    relations:
      member: user | group#member
  folder:
    relations:
      parent: folder
      owner: user
      viewer: user | user:* | group#member
    permissions:
      edit: owner | parent->edit
      view: viewer | edit | parent->view
  document:
    relations:
      parent: folder
      owner: user
      viewer: user | user:* | group#member
      commenter: user | group#member
      banned: user | group#member
    permissions:
      edit: owner - banned
      view: (viewer | owner | parent->view) - banned
      comment: view & commenter
)";

}  // namespace warden::directory::testing
