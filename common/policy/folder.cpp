#include "common/policy/folder.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace warden::policy {

namespace fs = std::filesystem;

namespace {
bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

bool IsPolicyFile(const std::string& relative_path) {
  const fs::path p(relative_path);
  for (const auto& part : p) {
    const std::string s = part.string();
    if (s == "testdata" || (!s.empty() && s[0] == '.' && s != "." && s != "..")) return false;
  }
  const std::string name = p.filename().string();
  if (!(EndsWith(name, ".yaml") || EndsWith(name, ".yml") || EndsWith(name, ".json"))) return false;
  return !(EndsWith(name, "_test.yaml") || EndsWith(name, "_test.yml") || EndsWith(name, "_test.json"));
}

Result<std::vector<SourceDocument>> ReadPolicyFolder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("policy folder '" + dir + "' does not exist");
  std::vector<SourceDocument> docs;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::InvalidArgument("reading policy folder '" + dir + "': " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    const std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (!IsPolicyFile(rel)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) return Status::InvalidArgument(rel + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    docs.push_back({rel, text.str()});
  }
  if (ec) return Status::InvalidArgument("reading policy folder '" + dir + "': " + ec.message());
  std::sort(docs.begin(), docs.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return docs;
}

Result<std::shared_ptr<const PolicySet>> LoadPolicyFolder(const std::string& dir, const CompileSetOptions& options,
                                                          std::vector<LoadError>* errors) {
  auto docs = ReadPolicyFolder(dir);
  if (!docs.ok()) return docs.status();
  return PolicySet::Compile(*docs, options, errors);
}

}  // namespace warden::policy
