// Differential checking of Warden's CEL engine and policy decisions against a deliberately simple
// reference (see tests/differential/README.md).
//
// One random case at a time: a generator draws a typed CEL expression tree (or a Cerbos resource
// policy whose conditions are such trees) from an Entropy, a small tree-walking evaluator written
// for this test alone computes what CEL / Cerbos say the answer is, and the case is then rendered
// to source text and handed to Warden (cel::Compile + cel::Evaluate, or PolicySet::Compile +
// Decide). The two answers must agree: the same value (kinds included, doubles bit for bit up to
// NaN payloads) or both an error; the same effect for every action.
//
// The expression subset: null, bool, int, uint, double, string, list and map literals; variables
// bound to random values; + - * / % and unary - (int/uint overflow, division and modulus by zero
// are errors; mixed operand types are "no such overload" errors); == != with heterogeneous
// numeric equality (int/uint against double as cel-go compares them); < <= > >= across
// int/uint/double, strings and
// bools (a NaN operand is an error, as cel-go answers); && || ! with commutative error
// absorption; ?:; `in` on lists and maps; size(); contains/startsWith/endsWith; list and map
// indexing and field selection with "no such key" / out-of-range errors; has() on maps; and the
// macros exists, all, exists_one, map and filter (drawn with map/filter over lists, because CEL
// leaves iteration order over a map unspecified; over a map that arrives as a dyn value, insertion
// order is assumed, as Warden iterates). A small share of operands is drawn with a random type,
// so the "no such overload" paths are exercised too.
//
// The policy subset: one resource policy (kind "doc", version default) with 1-5 rules, each with
// actions drawn from view, edit, delete, approve, `*`, `view:*`; effect ALLOW or DENY; roles from
// user, admin, guest, auditor or `*`; and no condition, `match.expr`, or `match.all/any/none.of`
// (one level of nesting). Conditions read request.resource.attr / request.principal.attr (as R.attr
// / P.attr or in full) whose values are JSON-shaped (null, bool, double, string, list, map),
// sometimes absent or of an unexpected type. The reference decision, per Cerbos 0.55 as
// docs/policies.md describes it: each of the principal's roles is decided on its own: a DENY rule
// matching the action and the role whose condition holds denies that role, otherwise a matching
// ALLOW whose condition holds allows it; the action is allowed when some role is allowed, and
// denied otherwise (also when nothing matches). A condition holds when its expression evaluates to
// true; an error or a non-bool result does not hold (inside all/any/none it counts as false).
// Action globs: `*` matches every action, `view:*` one further `:`-separated segment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace warden::differential {

// Where the random choices come from: a seeded generator in the unit test, the fuzzer's bytes in
// the fuzz target. Below(n) is in [0, n); a source that has run dry answers 0, and choice 0 is
// always the one that ends a branch, so generation terminates whatever the source.
class Entropy {
 public:
  virtual ~Entropy() = default;
  virtual uint64_t Below(uint64_t n) = 0;
};

// splitmix64: fixed across compilers and standard libraries, unlike std::uniform_int_distribution.
class SeededEntropy final : public Entropy {
 public:
  explicit SeededEntropy(uint64_t seed) : state_(seed) {}
  uint64_t Below(uint64_t n) override;

 private:
  uint64_t state_;
};

// What a run of cases produced, so a test can show the generator is not stuck on one outcome.
struct Tally {
  uint64_t cases = 0;
  uint64_t values = 0;        // the reference's answer was a value
  uint64_t errors = 0;        // ... an error
  uint64_t allows = 0;        // policy cases: actions the reference allowed
  uint64_t denies = 0;
  uint64_t known_divergences = 0;  // cases skipped because they hit a divergence listed in the README
};

// Draws one expression with its variable bindings, evaluates it both ways and returns a report of
// the disagreement (source, bindings, both answers), or nullopt when they agree.
std::optional<std::string> CheckOneExpression(Entropy& entropy, Tally* tally = nullptr);

// Draws one policy and a few principals/resources, decides every action both ways and returns a
// report of the first disagreement (policy YAML, request, both effects), or nullopt.
std::optional<std::string> CheckOnePolicy(Entropy& entropy, Tally* tally = nullptr);

}  // namespace warden::differential
