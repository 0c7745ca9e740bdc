#include "common/util/status.h"

#include <doctest/doctest.h>

using warden::Result;
using warden::Status;
using warden::StatusCode;

TEST_CASE("a default Status is ok and prints as ok") {
  Status status;
  CHECK(status.ok());
  CHECK(status.ToString() == "ok");
}

TEST_CASE("a failed Status keeps its code and names it in snake case") {
  Status status = Status::InvalidArgument("field 'subject.id' is missing");
  CHECK_FALSE(status.ok());
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.ToString() == "invalid_argument: field 'subject.id' is missing");
  CHECK(status.WithPrefix("evaluations[2]").message() == "evaluations[2]: field 'subject.id' is missing");
}

TEST_CASE("Result holds a value or a status, never both") {
  Result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  Result<int> bad = Status::NotFound("no object user:alice");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kNotFound);
}
