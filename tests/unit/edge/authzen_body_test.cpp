// The plain decision body the evaluation endpoint writes by hand is the document's own dump.
#include <doctest/doctest.h>

#include "common/snapshot/snapshot.h"
#include "edge/authzen_api.h"

using namespace warden;

TEST_CASE("a plain decision body is what the decision document dumps to") {
  for (uint64_t revision : {uint64_t{0}, uint64_t{7}, uint64_t{18446744073709551615u}}) {
    auto snapshot = MakeSnapshot({}, directory::DirectorySnapshot::Empty(), revision, "store");
    REQUIRE(snapshot.ok());
    for (bool allowed : {true, false}) {
      engine::DecisionResult result;
      result.allowed = allowed;
      CAPTURE(revision);
      CAPTURE(allowed);
      CHECK(wire::PlainAuthzenDecisionBody(allowed, revision) ==
            wire::AuthzenDecisionJson(result, snapshot->get(), false).dump());
    }
  }
}
