#include <doctest/doctest.h>

#include "common/directory/manifest_yaml.h"
#include "common/directory/model.h"
#include "common/directory/permission_expression.h"
#include "common/directory/schema_zed.h"
#include "common/directory/snapshot.h"

using namespace warden::directory;

namespace {

std::string Shape(const ExprAst& e) {
  switch (e.kind) {
    case ExprAst::Kind::kRef:
      return e.name;
    case ExprAst::Kind::kArrow:
      return e.name + "->" + e.target;
    default: {
      const char* op = e.kind == ExprAst::Kind::kUnion ? " | " : e.kind == ExprAst::Kind::kIntersection ? " & " : " - ";
      std::string s = "(";
      for (size_t i = 0; i < e.children.size(); ++i) s += (i ? op : "") + Shape(e.children[i]);
      return s + ")";
    }
  }
}

std::string ParseShape(const std::string& text) {
  auto e = ParsePermissionExpression(text, "t", {1, 1});
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  return Shape(*e);
}

std::string CompileError(const std::string& yaml) {
  Interner symbols;
  auto ast = ParseManifestYaml(yaml, "manifest.yaml");
  if (!ast.ok()) return ast.status().message();
  auto model = Model::Compile(*ast, symbols);
  return model.ok() ? "" : model.status().message();
}

std::string ZedError(const std::string& zed) {
  Interner symbols;
  auto ast = ParseSchemaZed(zed, "schema.zed");
  if (!ast.ok()) return ast.status().message();
  auto model = Model::Compile(*ast, symbols);
  return model.ok() ? "" : model.status().message();
}

}  // namespace

TEST_CASE("expression precedence follows SpiceDB: exclusion, then intersection, then union") {
  CHECK(ParseShape("a | b & c") == "(a | (b & c))");
  CHECK(ParseShape("a + b - c") == "(a | (b - c))");
  CHECK(ParseShape("(a + b) - c") == "((a | b) - c)");
  CHECK(ParseShape("a & b - c") == "(a & (b - c))");
  CHECK(ParseShape("a - b - c") == "((a - b) - c)");
  CHECK(ParseShape("parent->view | viewer") == "(parent->view | viewer)");
  CHECK(ParseShape("a | b | c") == "(a | b | c)");
}

TEST_CASE("expression syntax errors carry line and column") {
  auto e = ParsePermissionExpression("viewer | ", "m.yaml", {4, 13});
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("m.yaml:4:22") == 0);
  e = ParsePermissionExpression("(a | b", "m.yaml", {1, 1});
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("expected ')'") != std::string::npos);
  e = ParsePermissionExpression("a ^ b", "m.yaml", {1, 1});
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message().find("m.yaml:1:3: unexpected '^'") == 0);
  e = ParsePermissionExpression("parent->", "m.yaml", {1, 1});
  CHECK_FALSE(e.ok());
}

TEST_CASE("a Topaz v3 manifest compiles with usersets, wildcards and permissions") {
  Interner symbols;
  auto ast = ParseManifestYaml(R"(model:
  version: 3
types:
  user: {}
  group:
    relations:
      member: user | group#member
  doc:
    relations:
      viewer: user | user:* | group#member
    permissions:
      view: viewer
)", "m.yaml");
  REQUIRE(ast.ok());
  auto model = Model::Compile(*ast, symbols);
  REQUIRE(model.ok());
  auto doc = (*model)->FindSymbol("doc");
  auto viewer = (*model)->FindSymbol("viewer");
  REQUIRE((doc && viewer));
  const MemberDef* m = (*model)->Member(*doc, *viewer);
  REQUIRE(m != nullptr);
  CHECK((*model)->DescribeAllowed(*m) == "user | user:* | group#member");
  CHECK((*model)->Member(*doc, *(*model)->FindSymbol("view"))->union_only);
}

TEST_CASE("manifest validation names the problem and its position") {
  const std::string head = "model:\n  version: 3\ntypes:\n  user: {}\n";
  CHECK(CompileError(head + "  doc:\n    relations:\n      viewer: usr\n") ==
        "manifest.yaml:7:15: relation 'doc#viewer': unknown subject type 'usr'");
  CHECK(CompileError(head + "  doc:\n    relations:\n      viewer: user#friend\n") ==
        "manifest.yaml:7:15: relation 'doc#viewer': type 'user' has no relation or permission 'friend'");
  CHECK(CompileError(head + "  doc:\n    relations:\n      viewer: user\n    permissions:\n      view: viewr\n") ==
        "manifest.yaml:9:13: permission 'doc#view': type 'doc' has no relation or permission 'viewr'");
  CHECK(CompileError(head + "  doc:\n    relations:\n      viewer: user\n    permissions:\n      viewer: viewer\n") ==
        "manifest.yaml:9:7: 'doc#viewer' is used as both a relation and a permission");
  CHECK(CompileError(head +
                     "  doc:\n    relations:\n      parent: user\n    permissions:\n      view: parent->read\n") ==
        "manifest.yaml:9:13: permission 'doc#view': arrow 'parent->read': no type allowed in 'doc#parent' (user) has "
        "a relation or permission 'read'");
  CHECK(CompileError(head + "  doc:\n    relations:\n      o: user\n    permissions:\n      a: o | b\n      b: a\n") ==
        "manifest.yaml:9:7: permission 'doc#a' refers to itself with no relation in between (a -> b -> a)");
  CHECK(CompileError(head + "  doc:\n    relations:\n      o: user\n    permissions:\n      a: o\n      b: a->o\n") ==
        "manifest.yaml:10:10: permission 'doc#b': arrow 'a->o': 'a' is a permission; an arrow must follow a relation");
  CHECK(CompileError(head + "  doc:\n    relatons:\n      o: user\n") ==
        "manifest.yaml:6:5: type 'doc': unknown key 'relatons' (expected relations or permissions)");
  CHECK(CompileError("model:\n  version: 2\n") == "manifest.yaml:2:12: model.version: unsupported version '2' (expected 3)");
  CHECK(CompileError("types: [\n") .find("manifest.yaml:2:1: invalid YAML") == 0);
  CHECK(CompileError("typos: {}\n") == "manifest.yaml:1:1: unknown top-level key 'typos' (expected model and types)");
}

TEST_CASE("a permission may recurse through an arrow (a relation in between)") {
  CHECK(CompileError("types:\n  folder:\n    relations:\n      parent: folder\n    permissions:\n"
                     "      view: parent->view\n") == "");
}

TEST_CASE("SpiceDB schema language") {
  CHECK(ZedError(R"(
// comment
definition user {}
/* block
   comment */
definition group {
  relation member: user | group#member
}
definition doc {
  relation viewer: user | user:* | group#member
  relation banned: user
  permission view = viewer
     - banned
}
)") == "");
  CHECK(ZedError("definition user {}\ncaveat c(x int) { x > 1 }\n") ==
        "schema.zed:2:1: caveats are not supported; express the condition in a policy instead");
  CHECK(ZedError("definition user {}\ndefinition doc {\n  relation v: user with c\n}\n") ==
        "schema.zed:3:20: doc#v: caveats ('with') are not supported");
  CHECK(ZedError("definition doc {\n  relation v: usr\n}\n") == "schema.zed:2:15: relation 'doc#v': unknown subject type 'usr'");
  CHECK(ZedError("definition doc {\n  relaton v: usr\n}\n") ==
        "schema.zed:2:3: definition 'doc': expected 'relation', 'permission' or '}', found 'relaton'");
  CHECK(ZedError("definition doc {\n  relation v: doc\n  permission p = v + \n}\n").find("schema.zed:3:22") == 0);
  CHECK(ZedError("definition doc {\n") == "schema.zed:2:1: definition 'doc' is not closed with '}'");
}

TEST_CASE("both languages compile the same model") {
  Interner a, b;
  auto zed = ParseSchemaZed(
      "definition user {}\ndefinition doc {\n relation owner: user\n relation viewer: user\n"
      " permission view = viewer + owner\n}\n",
      "s.zed");
  auto yaml = ParseManifestYaml(
      "types:\n  user: {}\n  doc:\n    relations:\n      owner: user\n      viewer: user\n    permissions:\n"
      "      view: viewer | owner\n",
      "m.yaml");
  REQUIRE((zed.ok() && yaml.ok()));
  REQUIRE(zed->types.size() == yaml->types.size());
  CHECK(Shape(zed->types[1].permissions[0].expr) == Shape(yaml->types[1].permissions[0].expr));
}

TEST_CASE("the built-in model is Topaz's") {
  Interner symbols;
  auto model = Model::BuiltIn(symbols);
  for (const char* t : {"user", "group", "identity", "application", "resource"}) {
    auto s = model->FindSymbol(t);
    REQUIRE_MESSAGE(s, t);
    CHECK(model->Type(*s) != nullptr);
  }
  auto group = *model->FindSymbol("group");
  auto member = *model->FindSymbol("member");
  auto user = *model->FindSymbol("user");
  CHECK(model->ValidateRelation(group, member, user, 0, false).ok());
  CHECK(model->ValidateRelation(group, member, group, member, false).ok());
  warden::Status bad = model->ValidateRelation(group, member, group, 0, false);
  CHECK(bad.message() == "relation 'group#member' does not allow subject 'group' (allowed: user | group#member)");
}
