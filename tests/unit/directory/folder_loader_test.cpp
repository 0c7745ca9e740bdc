#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/directory/checker.h"
#include "common/directory/folder_loader.h"

using namespace warden::directory;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("warden-dir-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(path_ / "data");
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

bool Allowed(const DirectorySnapshot& s, CheckRequest r) {
  auto out = Check(s, r);
  REQUIRE_MESSAGE(out.ok(), out.status().ToString());
  return out->allowed;
}

}  // namespace

TEST_CASE("a folder with a manifest, json and jsonl data loads") {
  TempDir dir;
  dir.Write("manifest.yaml", "types:\n  user: {}\n  doc:\n    relations:\n      viewer: user\n");
  dir.Write("data/users.json", R"({"objects":[{"type":"user","id":"alice","display_name":"Alice",
    "properties":{"roles":["admin"]}}],"relations":[]})");
  dir.Write("data/more/rels.jsonl",
            "{\"object_type\":\"doc\",\"object_id\":\"d1\",\"relation\":\"viewer\",\"subject_type\":\"user\",\"subject_id\":\"alice\"}\n"
            "\n{\"type\":\"doc\",\"id\":\"d1\",\"display_name\":\"Doc one\",\"created_at\":\"2024-01-01\"}\n");
  auto s = LoadDirectoryFolder(dir.path(), 7);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  CHECK((*s)->revision() == 7);
  CHECK((*s)->relation_count() == 1);
  CHECK((*s)->object_count() == 2);
  CHECK(Allowed(**s, {"doc", "d1", "viewer", "user", "alice", "", false}));
  CHECK((*s)->GetObject("user", "alice")->properties["roles"][0] == "admin");
}

TEST_CASE("every bad line is reported with file, line and reason") {
  TempDir dir;
  dir.Write("schema.zed", "definition user {}\ndefinition doc {\n  relation viewer: user\n}\n");
  dir.Write("data/a.jsonl",
            "{\"object_type\":\"doc\",\"object_id\":\"d1\",\"relation\":\"viewer\",\"subject_type\":\"user\",\"subject_id\":\"a\"}\n"
            "{not json\n"
            "{\"object_type\":\"doc\",\"object_id\":\"d1\",\"relation\":\"editor\",\"subject_type\":\"user\",\"subject_id\":\"a\"}\n"
            "{\"type\":\"robot\",\"id\":\"r1\"}\n"
            "[1,2]\n"
            "{\"object_type\":\"doc\",\"object_id\":\"d1\",\"relation\":\"viewer\",\"subject_type\":\"doc\",\"subject_id\":\"d2\"}\n"
            "{\"type\":\"user\",\"id\":\"u\",\"colour\":\"red\"}\n");
  dir.Write("data/b.json", R"({"objects":[{"type":"user"}],"relations":[{"object_type":"doc","object_id":"x",
    "relation":"viewer","subject_type":"user","subject_id":7}],"extra":1})");
  auto s = LoadDirectoryFolder(dir.path());
  REQUIRE_FALSE(s.ok());
  const std::string m = s.status().message();
  CHECK(m.find("data/a.jsonl:2: not valid JSON") != std::string::npos);
  CHECK(m.find("data/a.jsonl:3: relation: type 'doc' has no relation 'editor'") != std::string::npos);
  CHECK(m.find("data/a.jsonl:4: object: unknown object type 'robot'") != std::string::npos);
  CHECK(m.find("data/a.jsonl:5: expected a JSON object") != std::string::npos);
  CHECK(m.find("data/a.jsonl:6: relation: relation 'doc#viewer' does not allow subject 'doc' (allowed: user)") !=
        std::string::npos);
  CHECK(m.find("data/a.jsonl:7: object: unknown field 'colour'") != std::string::npos);
  CHECK(m.find("data/b.json: unknown top-level field 'extra'") != std::string::npos);
  CHECK(m.find("data/b.json: objects[0]: id: required") != std::string::npos);
  CHECK(m.find("data/b.json: relations[0]: subject_id: must be a string") != std::string::npos);
  CHECK(m.find("data/a.jsonl:1:") == std::string::npos);  // the good line is not blamed
}

TEST_CASE("manifest problems and folder shape") {
  TempDir dir;
  dir.Write("manifest.yaml", "types:\n  doc:\n    relations:\n      viewer: person\n");
  auto s = LoadDirectoryFolder(dir.path());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message() == "manifest.yaml:4:15: relation 'doc#viewer': unknown subject type 'person'");
  dir.Write("schema.zed", "definition user {}\n");
  s = LoadDirectoryFolder(dir.path());
  CHECK(s.status().message().find("both manifest.yaml and schema.zed are present") != std::string::npos);
  CHECK(LoadDirectoryFolder(dir.path() / "nope").status().code() == warden::StatusCode::kNotFound);

  TempDir bare;  // no manifest: the built-in model
  bare.Write("data/ids.jsonl",
             "{\"object_type\":\"identity\",\"object_id\":\"a@x.com\",\"relation\":\"identifier\",\"subject_type\":\"user\",\"subject_id\":\"a\"}\n");
  auto b = LoadDirectoryFolder(bare.path());
  REQUIRE_MESSAGE(b.ok(), b.status().ToString());
  CHECK((*b)->ResolveUser("a@x.com") == std::optional<std::string>("a"));
}

TEST_CASE("data nested deeper than JSON's limit is refused by name, not a stack overflow") {
  TempDir dir;
  dir.Write("manifest.yaml", "types:\n  user: {}\n");
  const std::string deep = std::string(150'000, '[') + std::string(150'000, ']');
  dir.Write("data/deep.jsonl", R"({"type":"user","id":"a","properties":{"p":)" + deep + "}}\n");
  dir.Write("data/deep.json", R"({"objects":[{"type":"user","id":"b","properties":{"p":)" + deep + "}}]}");
  auto s = LoadDirectoryFolder(dir.path(), 1);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("deep.jsonl:1: JSON nests deeper than 128 levels") != std::string::npos);
  CHECK(s.status().message().find("deep.json: JSON nests deeper than 128 levels") != std::string::npos);
}
