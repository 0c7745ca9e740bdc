// Compile: parse, then resolve identifiers and functions and fold constants (the planner).
#include <algorithm>
#include <limits>
#include <optional>
#include <unordered_set>

#include "common/cel/internal/compiled.h"
#include "common/cel/internal/parser.h"

namespace warden::cel {

Program::Program(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Program::~Program() = default;
const std::string& Program::source() const { return impl_->source; }
const std::vector<std::string>& Program::referenced_variables() const { return impl_->variables; }
bool Program::is_constant() const { return impl_->root->op == internal::Op::kConst; }

namespace {

using internal::Expr;
using internal::Macro;
using internal::Op;

constexpr uint32_t kNoLocal = std::numeric_limits<uint32_t>::max();

// What the planner learns about a subtree.
struct Facts {
  bool reads_variable = false;
  bool impure = false;
  uint32_t min_local = kNoLocal;  // lowest comprehension slot referenced
  bool constant() const { return !reads_variable && !impure && min_local == kNoLocal; }
  void Merge(const Facts& o) {
    reads_variable |= o.reads_variable;
    impure |= o.impure;
    min_local = std::min(min_local, o.min_local);
  }
};

const std::unordered_set<std::string_view>& TypeNames() {
  static const std::unordered_set<std::string_view> names = {
      "int",       "uint",      "double", "bool", "string", "bytes", "list", "map", "null_type", "type",
      "google.protobuf.Timestamp", "google.protobuf.Duration", "net.IP", "net.CIDR",
      "cerbos.lib.hierarchy", "optional_type"};
  return names;
}

class Planner {
 public:
  Planner(std::string_view source, const CompileOptions& options, Program::Impl& impl)
      : source_(source), options_(options), impl_(impl) {
    for (const auto& v : options.variables) declared_.insert(v);
  }

  Status Resolve(std::unique_ptr<Expr>& e, Facts& facts) {
    switch (e->op) {
      case Op::kConst: return Status::Ok();
      case Op::kIdent:
      case Op::kSelect: {
        bool handled = false;
        WARDEN_RETURN_IF_ERROR(ResolveChain(e, facts, handled));
        if (handled) return Status::Ok();
        if (e->op == Op::kIdent) return Undeclared(e, "undeclared reference to '" + Strip(e->name) + "'");
        WARDEN_RETURN_IF_ERROR(ResolveChild(e->args[0], facts));
        return MaybeFold(e, facts);
      }
      case Op::kCall: return ResolveCall(e, facts);
      case Op::kComprehension: return ResolveComprehension(e, facts);
      default: {
        for (auto& a : e->args) {
          if (a) WARDEN_RETURN_IF_ERROR(ResolveChild(a, facts));
        }
        return MaybeFold(e, facts);
      }
    }
  }

  uint32_t num_locals() const { return max_locals_; }

 private:
  static std::string Strip(const std::string& name) { return !name.empty() && name[0] == '.' ? name.substr(1) : name; }

  Status Error(const Expr& e, std::string reason) const {
    return Status::InvalidArgument(internal::Position(source_, e.offset) + ": " + reason);
  }

  Status ResolveChild(std::unique_ptr<Expr>& e, Facts& parent) {
    Facts f;
    WARDEN_RETURN_IF_ERROR(Resolve(e, f));
    parent.Merge(f);
    return Status::Ok();
  }

  // The declared name `name` resolves to under the container, or empty.
  std::string ResolveName(const std::string& name) const {
    if (!name.empty() && name[0] == '.') {
      std::string bare = name.substr(1);
      return declared_.count(bare) ? bare : std::string();
    }
    std::string container = options_.container;
    while (true) {
      std::string candidate = container.empty() ? name : container + "." + name;
      if (declared_.count(candidate)) return candidate;
      if (container.empty()) return {};
      auto dot = container.rfind('.');
      container = dot == std::string::npos ? std::string() : container.substr(0, dot);
    }
  }

  const uint32_t* FindLocal(const std::string& name) const {
    for (auto it = scope_.rbegin(); it != scope_.rend(); ++it) {
      if (it->first == name) return &it->second;
    }
    return nullptr;
  }

  uint32_t VariableSlot(const std::string& name) {
    for (uint32_t i = 0; i < impl_.variables.size(); ++i) {
      if (impl_.variables[i] == name) return i;
    }
    impl_.variables.push_back(name);
    return static_cast<uint32_t>(impl_.variables.size() - 1);
  }

  // Collects an identifier chain a.b.c (bottom first); false if `e` is not one.
  static bool Chain(Expr* e, std::vector<Expr*>& nodes) {
    while (e->op == Op::kSelect) {
      nodes.push_back(e);
      e = e->args[0].get();
    }
    if (e->op != Op::kIdent) return false;
    nodes.push_back(e);
    std::reverse(nodes.begin(), nodes.end());
    return true;
  }

  static std::string ChainName(const std::vector<Expr*>& nodes, size_t k) {
    std::string name = nodes[0]->name;
    for (size_t i = 1; i < k; ++i) name += "." + nodes[i]->name;
    return name;
  }

  // Resolves an identifier chain to the longest declared variable (or a local, or a type name).
  Status ResolveChain(std::unique_ptr<Expr>& e, Facts& facts, bool& handled) {
    std::vector<Expr*> nodes;
    if (!Chain(e.get(), nodes)) return Status::Ok();
    const size_t n = nodes.size();
    auto replace = [&](size_t k, std::unique_ptr<Expr> repl) {
      if (k == n) {
        e = std::move(repl);
      } else {
        nodes[k]->args[0] = std::move(repl);
      }
    };
    if (const uint32_t* slot = (nodes[0]->name[0] == '.') ? nullptr : FindLocal(nodes[0]->name)) {
      auto local = std::make_unique<Expr>();
      local->op = Op::kLocal;
      local->slot = *slot;
      local->offset = nodes[0]->offset;
      local->name = nodes[0]->name;
      facts.min_local = std::min(facts.min_local, *slot);
      replace(1, std::move(local));
      handled = true;
      return Status::Ok();
    }
    for (size_t k = n; k >= 1; --k) {
      std::string resolved = ResolveName(ChainName(nodes, k));
      if (resolved.empty()) continue;
      auto var = std::make_unique<Expr>();
      var->op = Op::kVar;
      var->name = resolved;
      var->offset = nodes[0]->offset;
      var->slot = VariableSlot(resolved);
      facts.reads_variable = true;
      replace(k, std::move(var));
      handled = true;
      return Status::Ok();
    }
    std::string full = Strip(ChainName(nodes, n));
    if (options_.enable_type_values && TypeNames().count(full)) {
      auto type = std::make_unique<Expr>();
      type->op = Op::kConst;
      type->offset = nodes[0]->offset;
      type->value = Value::Type(full);
      e = std::move(type);
      handled = true;
      return Status::Ok();
    }
    for (size_t k = n; k >= 1; --k) {
      std::string prefix = Strip(ChainName(nodes, k));
      if (options_.enable_type_values && TypeNames().count(prefix)) {
        return Error(*nodes[0], "type '" + prefix + "' does not support field selection");
      }
    }
    handled = true;
    return Undeclared(e, "undeclared reference to '" + Strip(nodes[0]->name) + "'", nodes[0]->offset);
  }

  // An undeclared name: a compile error, or (when the options ask) an error value at run time.
  Status Undeclared(std::unique_ptr<Expr>& e, std::string message, std::optional<uint32_t> offset = {}) {
    if (!options_.undeclared_as_runtime_error) {
      return Status::InvalidArgument(internal::Position(source_, offset.value_or(e->offset)) + ": " + message);
    }
    auto err = std::make_unique<Expr>();
    err->op = Op::kConst;
    err->offset = e->offset;
    err->value = Value::Error(std::move(message));
    e = std::move(err);
    return Status::Ok();
  }

  Status ResolveCall(std::unique_ptr<Expr>& e, Facts& facts) {
    // ns.fn(args): a namespaced global function when `ns` is not a variable.
    if (e->receiver) {
      std::vector<Expr*> nodes;
      if (Chain(e->args[0].get(), nodes) && nodes[0]->name[0] != '.' && !FindLocal(nodes[0]->name)) {
        bool is_variable = false;
        for (size_t k = nodes.size(); k >= 1 && !is_variable; --k) {
          is_variable = !ResolveName(ChainName(nodes, k)).empty();
        }
        std::string qualified = ChainName(nodes, nodes.size()) + "." + e->name;
        if (!is_variable && internal::HasBuiltinNamed(qualified)) {
          e->name = qualified;
          e->receiver = false;
          e->args.erase(e->args.begin());
        }
      }
    }
    if (!e->receiver && !e->name.empty() && e->name[0] == '.') e->name = e->name.substr(1);
    for (auto& a : e->args) WARDEN_RETURN_IF_ERROR(ResolveChild(a, facts));
    e->fn = internal::FindBuiltin(e->name, e->receiver, e->args.size());
    if (e->fn == nullptr) {
      if (internal::HasBuiltinNamed(e->name)) {
        return Error(*e, "no matching overload for '" + e->name + "' with " +
                             std::to_string(e->args.size() - (e->receiver ? 1 : 0)) + " argument(s)" +
                             (e->receiver ? " as a method" : ""));
      }
      return Undeclared(e, "undeclared reference to function '" + e->name + "'");
    }
    if (e->fn->prepare != nullptr) {
      Status st = e->fn->prepare(*e);
      if (!st.ok()) return Error(*e, st.message());
    }
    if (!e->fn->pure) facts.impure = true;
    if (!e->fn->fold) return Status::Ok();
    return MaybeFold(e, facts);
  }

  Status ResolveComprehension(std::unique_ptr<Expr>& e, Facts& facts) {
    // The range (or bind initializer) is evaluated outside the new scope.
    Facts inner;
    WARDEN_RETURN_IF_ERROR(ResolveChild(e->args[0], facts));
    uint32_t slot = next_local_;
    e->slot = slot;
    uint32_t count = e->var2.empty() ? 1 : 2;
    next_local_ += count;
    max_locals_ = std::max(max_locals_, next_local_);
    scope_.emplace_back(e->var1, slot);
    if (count == 2) scope_.emplace_back(e->var2, slot + 1);
    for (size_t i = 1; i < e->args.size(); ++i) {
      if (e->args[i]) WARDEN_RETURN_IF_ERROR(ResolveChild(e->args[i], inner));
    }
    scope_.resize(scope_.size() - count);
    next_local_ -= count;
    if (inner.min_local >= slot) inner.min_local = kNoLocal;  // bound here
    facts.Merge(inner);
    Facts own = facts;
    return MaybeFold(e, own);
  }

  // Replaces `e` by its value when it depends on nothing known only at evaluation time.
  Status MaybeFold(std::unique_ptr<Expr>& e, const Facts& facts) {
    if (!facts.constant() || e->op == Op::kConst || e->op == Op::kOptionalEntry) return Status::Ok();
    if (e->op == Op::kCall && e->fn != nullptr && !e->fn->fold) return Status::Ok();
    Activation empty;
    internal::EvalContext ctx;
    std::vector<Value> locals(max_locals_ + 2);
    ctx.activation = &empty;
    ctx.max_cost = 100'000;
    ctx.locals = locals.data();
    ctx.var_names = &impl_.variables;
    Value v = internal::Eval(*e, ctx);
    if (ctx.exhausted) return Status::Ok();  // too costly to fold; evaluate at run time
    auto folded = std::make_unique<Expr>();
    folded->op = Op::kConst;
    folded->offset = e->offset;
    folded->value = std::move(v);
    e = std::move(folded);
    return Status::Ok();
  }

  std::string_view source_;
  const CompileOptions& options_;
  Program::Impl& impl_;
  std::unordered_set<std::string> declared_;
  std::vector<std::pair<std::string, uint32_t>> scope_;
  uint32_t next_local_ = 0;
  uint32_t max_locals_ = 0;
};

}  // namespace

Result<std::shared_ptr<const Program>> Compile(std::string_view source, const CompileOptions& options) {
  if (source.size() > options.max_source_length) {
    return Status::ResourceExhausted("1:1: expression is " + std::to_string(source.size()) +
                                     " bytes, longer than the limit of " +
                                     std::to_string(options.max_source_length));
  }
  constexpr int kHardDepthLimit = 400;
  auto parsed = internal::Parse(source, std::min(options.max_ast_depth, kHardDepthLimit));
  if (!parsed.ok()) return parsed.status();
  auto impl = std::make_unique<Program::Impl>();
  impl->source = std::string(source);
  impl->root = std::move(parsed).value();
  Planner planner(source, options, *impl);
  Facts facts;
  WARDEN_RETURN_IF_ERROR(planner.Resolve(impl->root, facts));
  impl->num_locals = planner.num_locals();
  return std::shared_ptr<const Program>(std::make_shared<Program>(std::move(impl)));
}

}  // namespace warden::cel
