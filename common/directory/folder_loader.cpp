#include "common/directory/folder_loader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/directory/data_json.h"
#include "common/util/json_text.h"

namespace warden::directory {
namespace {

constexpr size_t kMaxReported = 100;

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path.string() + ": cannot open");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class Problems {
 public:
  void Add(std::string line) {
    ++count_;
    if (lines_.size() < kMaxReported) lines_.push_back(std::move(line));
  }
  bool empty() const { return count_ == 0; }
  Status ToStatus() const {
    std::string msg;
    for (const std::string& l : lines_) {
      if (!msg.empty()) msg.push_back('\n');
      msg += l;
    }
    if (count_ > lines_.size()) msg += "\n(and " + std::to_string(count_ - lines_.size()) + " more problems)";
    return Status::InvalidArgument(msg);
  }

 private:
  std::vector<std::string> lines_;
  size_t count_ = 0;
};

// 1-based line of a byte offset, for JSON parse errors.
size_t LineOf(const std::string& text, size_t offset) {
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + std::min(offset, text.size()), '\n'));
}

void LoadJsonl(const std::string& text, const std::string& name, DirectorySnapshot::Builder& builder, Problems& problems) {
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::string where = name + ":" + std::to_string(line_no) + ": ";
    if (Status nesting = CheckJsonNesting(line, kMaxJsonDepth); !nesting.ok()) {
      problems.Add(where + nesting.message());
      continue;
    }
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      problems.Add(where + "not valid JSON");
      continue;
    }
    if (!j.is_object()) {
      problems.Add(where + "expected a JSON object (an object or a relation)");
      continue;
    }
    if (j.contains("relation")) {
      auto r = RelationFromJson(j);
      Status s = r.ok() ? builder.AddRelation(*r) : r.status();
      if (!s.ok()) problems.Add(where + "relation: " + s.message());
    } else {
      auto o = ObjectFromJson(j);
      Status s = o.ok() ? builder.AddObject(std::move(*o)) : o.status();
      if (!s.ok()) problems.Add(where + "object: " + s.message());
    }
  }
}

void LoadJson(const std::string& text, const std::string& name, DirectorySnapshot::Builder& builder, Problems& problems) {
  if (Status nesting = CheckJsonNesting(text, kMaxJsonDepth); !nesting.ok()) {
    problems.Add(name + ": " + nesting.message());
    return;
  }
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    problems.Add(name + ":" + std::to_string(LineOf(text, e.byte)) + ": not valid JSON: " + e.what());
    return;
  }
  if (!doc.is_object()) {
    problems.Add(name + ": expected {\"objects\": [...], \"relations\": [...]}");
    return;
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.key() != "objects" && it.key() != "relations") {
      problems.Add(name + ": unknown top-level field '" + it.key() + "' (expected objects and relations)");
    } else if (!it->is_array()) {
      problems.Add(name + ": " + it.key() + " must be an array");
    }
  }
  if (doc.contains("objects") && doc["objects"].is_array()) {
    const auto& objects = doc["objects"];
    for (size_t i = 0; i < objects.size(); ++i) {
      auto o = ObjectFromJson(objects[i]);
      Status s = o.ok() ? builder.AddObject(std::move(*o)) : o.status();
      if (!s.ok()) problems.Add(name + ": objects[" + std::to_string(i) + "]: " + s.message());
    }
  }
  if (doc.contains("relations") && doc["relations"].is_array()) {
    const auto& relations = doc["relations"];
    for (size_t i = 0; i < relations.size(); ++i) {
      auto r = RelationFromJson(relations[i]);
      Status s = r.ok() ? builder.AddRelation(*r) : r.status();
      if (!s.ok()) problems.Add(name + ": relations[" + std::to_string(i) + "]: " + s.message());
    }
  }
}

}  // namespace

Result<std::optional<ManifestSource>> ReadFolderManifest(const std::filesystem::path& dir) {
  std::filesystem::path yaml = dir / "manifest.yaml", zed = dir / "schema.zed";
  bool has_yaml = std::filesystem::exists(yaml), has_zed = std::filesystem::exists(zed);
  if (has_yaml && has_zed) {
    return Status::InvalidArgument(dir.string() + ": both manifest.yaml and schema.zed are present; keep one");
  }
  if (!has_yaml && !has_zed) return std::optional<ManifestSource>();
  ManifestSource source;
  source.format = has_zed ? ManifestSource::Format::kZed : ManifestSource::Format::kYaml;
  source.name = has_zed ? "schema.zed" : "manifest.yaml";
  auto text = ReadFile(has_zed ? zed : yaml);
  if (!text.ok()) return text.status();
  source.text = std::move(*text);
  return std::optional<ManifestSource>(std::move(source));
}

Result<std::shared_ptr<const DirectorySnapshot>> LoadDirectoryFolder(const std::filesystem::path& dir, uint64_t revision) {
  if (!std::filesystem::is_directory(dir)) return Status::NotFound(dir.string() + ": not a directory");
  auto manifest = ReadFolderManifest(dir);
  if (!manifest.ok()) return manifest.status();
  auto builder = DirectorySnapshot::Builder::Create(*manifest);
  if (!builder.ok()) return builder.status();
  std::filesystem::path data = dir / "data";
  Problems problems;
  if (std::filesystem::is_directory(data)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(data)) {
      if (!entry.is_regular_file()) continue;
      std::string ext = entry.path().extension().string();
      if (ext == ".json" || ext == ".jsonl") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::string name = std::filesystem::relative(file, dir).string();
      auto text = ReadFile(file);
      if (!text.ok()) {
        problems.Add(name + ": cannot read");
        continue;
      }
      if (file.extension() == ".jsonl") {
        LoadJsonl(*text, name, *builder, problems);
      } else {
        LoadJson(*text, name, *builder, problems);
      }
    }
  }
  if (!problems.empty()) return problems.ToStatus();
  return builder->Build(revision);
}

}  // namespace warden::directory
