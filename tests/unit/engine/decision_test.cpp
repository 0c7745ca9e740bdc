// engine::Decide, the one decision pipeline: subject resolution by identity, stored roles and
// properties joined with the request's, policies first, the manifest where no policy covers the
// type, explanations, and the errors it promises.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/engine/decision.h"
#include "common/snapshot/folder_snapshot.h"

namespace {

namespace fs = std::filesystem;
using warden::Snapshot;
using warden::StatusCode;
using warden::engine::Decide;
using warden::engine::DecisionInput;
using warden::engine::DecisionResult;

const std::string kRickPid = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
const std::string kBethPid = "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
const std::string kSummerPid = "CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";

std::shared_ptr<const Snapshot> Load(const fs::path& dir) {
  auto snapshot = warden::LoadSnapshotFolder(dir, 3, "store");
  REQUIRE_MESSAGE(snapshot.ok(), snapshot.status().ToString());
  return *snapshot;
}

const Snapshot& Todo() {
  static auto snapshot = Load(fs::path(WARDEN_SOURCE_DIR) / "examples" / "authzen-todo");
  return *snapshot;
}

DecisionInput Input(std::string subject_type, std::string subject_id, std::string action, std::string resource_type,
                    std::string resource_id, nlohmann::json resource_properties = nullptr) {
  DecisionInput input;
  input.subject = {std::move(subject_type), std::move(subject_id), nullptr};
  input.action = std::move(action);
  input.resource = {std::move(resource_type), std::move(resource_id), std::move(resource_properties)};
  return input;
}

DecisionResult Decided(const Snapshot& snapshot, const DecisionInput& input) {
  auto result = Decide(snapshot, input);
  REQUIRE_MESSAGE(result.ok(), result.status().ToString());
  return *result;
}

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("warden-engine-test-" + std::to_string(std::random_device{}()))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((path_ / rel).parent_path());
    std::ofstream(path_ / rel) << text;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("a PID resolves to its user, whose stored roles the policies see") {
  auto result = Decided(Todo(), Input("user", kRickPid, "can_delete_todo", "todo", "t1",
                                      {{"ownerID", "morty@the-citadel.com"}}));
  CHECK(result.allowed);
  CHECK(result.subject_id == "rick@the-citadel.com");
  CHECK(result.source == DecisionResult::Source::kPolicy);
  CHECK(result.policy == "resource.todo.vdefault");
  CHECK(result.rule == "admin-deletes-any");

  auto beth = Decided(Todo(), Input("user", kBethPid, "can_create_todo", "todo", "t1"));
  CHECK_FALSE(beth.allowed);
  CHECK(beth.rule.empty());
  CHECK(beth.reason.find("default deny") != std::string::npos);
}

TEST_CASE("ownership is asked of the directory through the owner's email identity") {
  auto own = Decided(Todo(), Input("user", kSummerPid, "can_update_todo", "todo", "t",
                                   {{"ownerID", "summer@the-smiths.com"}}));
  CHECK(own.allowed);
  CHECK(own.rule == "change-own-todos");
  CHECK_FALSE(Decided(Todo(), Input("user", kSummerPid, "can_update_todo", "todo", "t",
                                    {{"ownerID", "rick@the-citadel.com"}}))
                  .allowed);
  // no owner at all: the condition cannot hold
  CHECK_FALSE(Decided(Todo(), Input("user", kSummerPid, "can_update_todo", "todo", "t")).allowed);
  // the subject may be named by email or id too
  CHECK(Decided(Todo(), Input("user", "summer@the-smiths.com", "can_update_todo", "todo", "t",
                              {{"ownerID", "summer@the-smiths.com"}}))
            .allowed);
}

TEST_CASE("identity subjects and user resources named by email") {
  CHECK(Decided(Todo(), Input("identity", kRickPid, "POST", "route", "/todos")).allowed);
  CHECK_FALSE(Decided(Todo(), Input("identity", kBethPid, "POST", "route", "/todos")).allowed);
  CHECK_FALSE(Decided(Todo(), Input("identity", kRickPid, "GET", "route", "/admin")).allowed);
  CHECK(Decided(Todo(), Input("user", kBethPid, "can_read_user", "user", "rick@the-citadel.com")).allowed);
}

TEST_CASE("request roles and properties join the stored ones") {
  DecisionInput input = Input("user", kBethPid, "can_create_todo", "todo", "t1");
  input.subject.properties = {{"roles", {"editor"}}};
  CHECK(Decided(Todo(), input).allowed);  // viewer (stored) + editor (request)
}

TEST_CASE("unknown subjects, unknown types and empty fields are errors naming the field") {
  auto unknown = Decide(Todo(), Input("user", "nobody@nowhere", "can_read_todos", "todo", "t1"));
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kNotFound);
  CHECK(unknown.status().message().find("subject.id") == 0);

  // a principal the directory does not know may still be decided on what the request says of it
  DecisionInput known_by_request = Input("user", "guest", "can_read_todos", "todo", "t1");
  known_by_request.subject.properties = {{"roles", {"viewer"}}};
  CHECK(Decided(Todo(), known_by_request).allowed);

  auto spaceship = Decide(Todo(), Input("user", kRickPid, "fly", "spaceship", "s1"));
  REQUIRE_FALSE(spaceship.ok());
  CHECK(spaceship.status().code() == StatusCode::kInvalidArgument);
  CHECK(spaceship.status().message().find("resource.type") == 0);

  for (auto [input, field] : {std::pair{Input("", "x", "a", "todo", "t"), "subject.type"},
                              std::pair{Input("user", "", "a", "todo", "t"), "subject.id"},
                              std::pair{Input("user", "x", "", "todo", "t"), "action.name"},
                              std::pair{Input("user", "x", "a", "", "t"), "resource.type"},
                              std::pair{Input("user", "x", "a", "todo", ""), "resource.id"}}) {
    auto result = Decide(Todo(), input);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().message().find(field) == 0);
  }
}

TEST_CASE("where no policy covers the type, the manifest permission named like the action decides") {
  TempDir dir;
  dir.Write("manifest.yaml",
            "types:\n  user: {}\n  identity:\n    relations:\n      identifier: user\n"
            "  group:\n    relations:\n      member: user | group#member\n"
            "  doc:\n    relations:\n      viewer: user | group#member\n    permissions:\n      can_view: viewer\n");
  dir.Write("data/d.jsonl",
            "{\"type\":\"user\",\"id\":\"ann\"}\n{\"type\":\"user\",\"id\":\"ben\"}\n"
            "{\"type\":\"identity\",\"id\":\"ann@example.com\"}\n"
            "{\"object_type\":\"identity\",\"object_id\":\"ann@example.com\",\"relation\":\"identifier\","
            "\"subject_type\":\"user\",\"subject_id\":\"ann\"}\n"
            "{\"object_type\":\"group\",\"object_id\":\"eng\",\"relation\":\"member\",\"subject_type\":\"user\","
            "\"subject_id\":\"ann\"}\n"
            "{\"object_type\":\"doc\",\"object_id\":\"d1\",\"relation\":\"viewer\",\"subject_type\":\"group\","
            "\"subject_id\":\"eng\",\"subject_relation\":\"member\"}\n");
  auto snapshot = Load(dir.path());

  DecisionInput input = Input("user", "ann@example.com", "can_view", "doc", "d1");
  input.explain = true;
  auto ann = Decided(*snapshot, input);
  CHECK(ann.allowed);
  CHECK(ann.source == DecisionResult::Source::kDirectory);
  CHECK(ann.subject_id == "ann");
  CHECK_FALSE(ann.path.empty());

  auto ben = Decided(*snapshot, Input("user", "ben", "can_view", "doc", "d1"));
  CHECK_FALSE(ben.allowed);

  // an action the type has no permission or relation for is a deny with the reason, not an error
  auto fly = Decided(*snapshot, Input("user", "ann", "can_fly", "doc", "d1"));
  CHECK_FALSE(fly.allowed);
  CHECK(fly.reason.find("can_fly") != std::string::npos);
}
