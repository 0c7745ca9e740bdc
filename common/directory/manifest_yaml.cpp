#include "common/directory/manifest_yaml.h"

// GCC 12 reports a false "dangling pointer" inside yaml-cpp 0.7's node iterators.
#pragma GCC diagnostic ignored "-Wdangling-pointer"

#include <yaml-cpp/yaml.h>

#include <cctype>

#include "common/directory/permission_expression.h"

namespace warden::directory {
namespace {

SourcePos PosOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

Status ErrorAt(const std::string& source, const YAML::Node& node, const std::string& reason) {
  return Status::InvalidArgument(FormatPos(source, PosOf(node)) + reason);
}

bool IsName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// "user | group#member | user:*"
Result<std::vector<SubjectTypeAst>> ParseSubjectTypes(const std::string& text, const std::string& source,
                                                      const YAML::Node& node, const std::string& relation) {
  std::vector<SubjectTypeAst> out;
  SourcePos base = PosOf(node);
  size_t start = 0;
  while (start <= text.size()) {
    size_t bar = text.find('|', start);
    if (bar == std::string::npos) bar = text.size();
    std::string part = Trim(std::string_view(text).substr(start, bar - start));
    SourcePos pos{base.line, base.column + static_cast<int>(start)};
    if (part.empty()) {
      return Status::InvalidArgument(FormatPos(source, pos) + "relation '" + relation +
                                     "': empty subject type in '" + text + "'");
    }
    SubjectTypeAst subject;
    subject.pos = pos;
    size_t hash = part.find('#');
    size_t colon = part.find(':');
    if (colon != std::string::npos) {
      if (part.substr(colon) != ":*") {
        return Status::InvalidArgument(FormatPos(source, pos) + "relation '" + relation + "': '" + part +
                                       "' is not a subject type (wildcards are written type:*)");
      }
      subject.type = part.substr(0, colon);
      subject.wildcard = true;
    } else if (hash != std::string::npos) {
      subject.type = part.substr(0, hash);
      subject.relation = part.substr(hash + 1);
    } else {
      subject.type = part;
    }
    if (!IsName(subject.type) || (hash != std::string::npos && !IsName(subject.relation))) {
      return Status::InvalidArgument(FormatPos(source, pos) + "relation '" + relation + "': '" + part +
                                     "' is not a subject type (expected type, type#relation or type:*)");
    }
    out.push_back(std::move(subject));
    start = bar + 1;
  }
  return out;
}

Status ParseType(const std::string& source, const std::string& name, const YAML::Node& key, const YAML::Node& body,
                 TypeAst& type) {
  type.name = name;
  type.pos = PosOf(key);
  if (body.IsNull()) return Status::Ok();
  if (!body.IsMap()) return ErrorAt(source, body, "type '" + name + "' must be a map with relations and permissions");
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string section = it->first.Scalar();
    const YAML::Node& members = it->second;
    if (section != "relations" && section != "permissions") {
      return ErrorAt(source, it->first, "type '" + name + "': unknown key '" + section +
                                            "' (expected relations or permissions)");
    }
    if (members.IsNull()) continue;
    if (!members.IsMap()) return ErrorAt(source, members, "type '" + name + "': " + section + " must be a map");
    for (auto m = members.begin(); m != members.end(); ++m) {
      const std::string member = m->first.Scalar();
      if (!IsName(member)) return ErrorAt(source, m->first, "type '" + name + "': '" + member + "' is not a valid name");
      if (!m->second.IsScalar()) {
        return ErrorAt(source, m->second, name + "#" + member + ": expected a string");
      }
      const std::string value = m->second.Scalar();
      if (section == "relations") {
        RelationAst relation;
        relation.name = member;
        relation.pos = PosOf(m->first);
        auto allowed = ParseSubjectTypes(value, source, m->second, name + "#" + member);
        if (!allowed.ok()) return allowed.status();
        relation.allowed = std::move(*allowed);
        type.relations.push_back(std::move(relation));
      } else {
        PermissionAst permission;
        permission.name = member;
        permission.pos = PosOf(m->first);
        auto expr = ParsePermissionExpression(value, source, PosOf(m->second));
        if (!expr.ok()) return Status::InvalidArgument(expr.status().message() + " (in permission " + name + "#" + member + ")");
        permission.expr = std::move(*expr);
        type.permissions.push_back(std::move(permission));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ManifestAst> ParseManifestYaml(std::string_view text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(FormatPos(source, {e.mark.line + 1, e.mark.column + 1}) + "invalid YAML: " + e.msg);
  }
  ManifestAst ast;
  ast.source = source;
  if (root.IsNull()) return ast;
  if (!root.IsMap()) return ErrorAt(source, root, "a manifest must be a map with 'model' and 'types'");
  try {
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (key == "model") {
        const YAML::Node& version = it->second["version"];
        if (!version) return ErrorAt(source, it->second, "model: missing 'version' (expected 3)");
        if (version.Scalar() != "3") {
          return ErrorAt(source, version, "model.version: unsupported version '" + version.Scalar() + "' (expected 3)");
        }
      } else if (key == "types") {
        if (it->second.IsNull()) continue;
        if (!it->second.IsMap()) return ErrorAt(source, it->second, "types must be a map from type name to definition");
        for (auto t = it->second.begin(); t != it->second.end(); ++t) {
          const std::string name = t->first.Scalar();
          if (!IsName(name)) return ErrorAt(source, t->first, "'" + name + "' is not a valid type name");
          TypeAst type;
          WARDEN_RETURN_IF_ERROR(ParseType(source, name, t->first, t->second, type));
          ast.types.push_back(std::move(type));
        }
      } else {
        return ErrorAt(source, it->first, "unknown top-level key '" + key + "' (expected model and types)");
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(FormatPos(source, {e.mark.line + 1, e.mark.column + 1}) + e.msg);
  }
  return ast;
}

}  // namespace warden::directory
