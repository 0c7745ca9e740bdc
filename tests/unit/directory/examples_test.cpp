// The example folders' directory halves load, and examples/drive answers as its README promises.
#include <doctest/doctest.h>

#include "common/directory/checker.h"
#include "common/directory/folder_loader.h"
#include "common/directory/lookup.h"

using namespace warden::directory;

namespace {

std::shared_ptr<const DirectorySnapshot> LoadExample(const std::string& name) {
  auto s = LoadDirectoryFolder(std::string(WARDEN_SOURCE_DIR) + "/examples/" + name);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return *s;
}

bool Can(const DirectorySnapshot& s, const std::string& user, const std::string& perm, const std::string& type,
         const std::string& id) {
  auto r = Check(s, {type, id, perm, "user", user, "", false});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return r->allowed;
}

}  // namespace

TEST_CASE("examples/drive") {
  auto s = LoadExample("drive");
  CHECK(Can(*s, "grace", "can_edit", "document", "cobol-notes"));       // owner of the folder
  CHECK(Can(*s, "brian", "can_edit", "document", "cobol-notes"));       // compilers -> engineering -> eng editor
  CHECK(Can(*s, "linus", "can_edit", "document", "driver-model"));
  CHECK(Can(*s, "margaret", "can_edit", "document", "driver-model"));   // engineering edits everything under eng
  CHECK(Can(*s, "eve", "can_view", "document", "cobol-notes"));         // everyone views the company folder tree
  CHECK_FALSE(Can(*s, "eve", "can_edit", "document", "cobol-notes"));
  CHECK(Can(*s, "eve", "can_comment", "document", "cobol-notes"));      // invited and can view
  CHECK_FALSE(Can(*s, "brian", "can_comment", "document", "cobol-notes"));
  CHECK_FALSE(Can(*s, "eve", "can_view", "document", "roadmap"));       // banned beats viewer
  CHECK(Can(*s, "eve@example.com", "can_view", "document", "handbook"));  // by email
  CHECK(Can(*s, "github|4711", "can_delete", "document", "driver-model"));  // by another identity
  CHECK(Can(*s, "somebody-new", "can_view", "document", "press-release"));  // public
  CHECK(Can(*s, "ada", "can_delete", "document", "roadmap"));             // shares the whole company folder
  CHECK_FALSE(Can(*s, "grace", "can_delete", "document", "roadmap"));
  auto docs = LookupResources(*s, {"user", "eve", "", "can_view", "document", 0, ""});
  REQUIRE(docs.ok());
  CHECK(docs->ids == std::vector<std::string>{"cobol-notes", "driver-model", "handbook", "press-release"});
  auto editors = LookupSubjects(*s, {"document", "driver-model", "can_edit", "user", 0, ""});
  REQUIRE(editors.ok());
  CHECK(editors->ids == std::vector<std::string>{"ada", "brian", "grace", "linus", "margaret"});
}

TEST_CASE("examples/authzen-todo: users resolve by PID and by email, roles are in properties") {
  auto s = LoadExample("authzen-todo");
  auto by_pid = s->ResolveUser("CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs");
  auto by_email = s->ResolveUser("rick@the-citadel.com");
  REQUIRE(by_pid.has_value());
  CHECK(by_pid == by_email);
  auto rick = s->GetObject("user", *by_pid);
  REQUIRE(rick.ok());
  CHECK(rick->properties["roles"] == nlohmann::json::array({"admin", "evil_genius"}));
  for (const char* pid : {"CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
                          "CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
                          "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs",
                          "CiRmZDQ2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"}) {
    CHECK_MESSAGE(s->ResolveUser(pid).has_value(), pid);
  }
}

TEST_CASE("examples/authzen-search loads") {
  auto s = LoadExample("authzen-search");
  CHECK(s->object_count() > 0);
}
