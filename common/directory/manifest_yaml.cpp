#include "common/directory/manifest_yaml.h"

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
  // yaml-cpp's iterators hand out temporaries: copy the (cheap, shared) node handles, never
  // keep references to `it->first` or `it->second`.
  for (auto it = body.begin(); it != body.end(); ++it) {
    const YAML::Node section_key = it->first;
    const YAML::Node members = it->second;
    const std::string section = section_key.Scalar();
    if (section != "relations" && section != "permissions") {
      return ErrorAt(source, section_key, "type '" + name + "': unknown key '" + section +
                                            "' (expected relations or permissions)");
    }
    if (members.IsNull()) continue;
    if (!members.IsMap()) return ErrorAt(source, members, "type '" + name + "': " + section + " must be a map");
    for (auto m = members.begin(); m != members.end(); ++m) {
      const YAML::Node member_key = m->first;
      const YAML::Node member_value = m->second;
      const std::string member = member_key.Scalar();
      if (!IsName(member)) return ErrorAt(source, member_key, "type '" + name + "': '" + member + "' is not a valid name");
      if (!member_value.IsScalar()) {
        return ErrorAt(source, member_value, name + "#" + member + ": expected a string");
      }
      const std::string value = member_value.Scalar();
      if (section == "relations") {
        RelationAst relation;
        relation.name = member;
        relation.pos = PosOf(member_key);
        auto allowed = ParseSubjectTypes(value, source, member_value, name + "#" + member);
        if (!allowed.ok()) return allowed.status();
        relation.allowed = std::move(*allowed);
        type.relations.push_back(std::move(relation));
      } else {
        PermissionAst permission;
        permission.name = member;
        permission.pos = PosOf(member_key);
        auto expr = ParsePermissionExpression(value, source, PosOf(member_value));
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
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      const std::string key = key_node.Scalar();
      if (key == "model") {
        if (!value.IsMap()) return ErrorAt(source, value, "model: must be a map with 'version: 3'");
        const YAML::Node version = value["version"];
        if (!version) return ErrorAt(source, value, "model: missing 'version' (expected 3)");
        if (version.Scalar() != "3") {
          return ErrorAt(source, version, "model.version: unsupported version '" + version.Scalar() + "' (expected 3)");
        }
      } else if (key == "types") {
        if (value.IsNull()) continue;
        if (!value.IsMap()) return ErrorAt(source, value, "types must be a map from type name to definition");
        for (auto t = value.begin(); t != value.end(); ++t) {
          const YAML::Node type_key = t->first;
          const YAML::Node type_body = t->second;
          const std::string name = type_key.Scalar();
          if (!IsName(name)) return ErrorAt(source, type_key, "'" + name + "' is not a valid type name");
          TypeAst type;
          WARDEN_RETURN_IF_ERROR(ParseType(source, name, type_key, type_body, type));
          ast.types.push_back(std::move(type));
        }
      } else {
        return ErrorAt(source, key_node, "unknown top-level key '" + key + "' (expected model and types)");
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(FormatPos(source, {e.mark.line + 1, e.mark.column + 1}) + e.msg);
  }
  return ast;
}

}  // namespace warden::directory
