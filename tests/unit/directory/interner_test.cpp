// GCC 12 reports a false -Wrestrict on `"literal" + std::to_string(...)` (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "common/directory/interner.h"

using warden::directory::Interner;

TEST_CASE("interning is stable, dense and survives table growth") {
  Interner interner;
  CHECK(interner.Intern("") == 0);
  CHECK(interner.Str(0).empty());
  std::vector<uint32_t> ids;
  for (int i = 0; i < 100000; ++i) ids.push_back(interner.Intern("id-" + std::to_string(i)));
  for (int i = 0; i < 100000; ++i) {
    CHECK(ids[i] == static_cast<uint32_t>(i + 1));
    if (i % 997 == 0) {
      CHECK(interner.Str(ids[i]) == "id-" + std::to_string(i));
      CHECK(interner.Intern("id-" + std::to_string(i)) == ids[i]);
      CHECK(interner.FindLocked("id-" + std::to_string(i)) == ids[i]);
    }
  }
  CHECK(interner.size() == 100001);
  CHECK_FALSE(interner.FindLocked("never").has_value());
  std::string big(200000, 'x');  // longer than an arena block
  uint32_t id = interner.Intern(big);
  CHECK(interner.Str(id) == big);
}

TEST_CASE("concurrent writers agree on ids") {
  Interner interner;
  std::vector<std::vector<uint32_t>> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) seen[t].push_back(interner.Intern("s" + std::to_string(i)));
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 1; t < 4; ++t) CHECK(seen[t] == seen[0]);
  CHECK(interner.size() == 20001);
}
