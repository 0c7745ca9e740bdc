// A compiled Program is shared by many threads, each with its own Activation.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/unit/cel/test_util.h"

namespace warden::cel {
namespace {

TEST_CASE("one Program evaluated from several threads gives every thread its own answer") {
  auto program = testing::MustCompile(
      "R.attr.name.matches('^doc-[0-9]+$') && timestamp(R.attr.at).getHours('Europe/Paris') >= 0 && "
      "R.attr.tags.exists(t, t == P.id) && hierarchy(R.attr.path).descendentOf(hierarchy('acme'))",
      {"R", "P"});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::string id = "user" + std::to_string((t + i) % 7);
        bool expect = (i % 2) == 0;
        Activation act;
        act.Bind("P", FromJson({{"id", id}}));
        act.Bind("R", FromJson({{"attr",
                                 {{"name", "doc-" + std::to_string(i)},
                                  {"at", "2024-03-31T01:30:00Z"},
                                  {"path", "acme.eng"},
                                  {"tags", expect ? nlohmann::json::array({"x", id}) : nlohmann::json::array({"x"})}}}}));
        Value v = Evaluate(*program, act);
        if (v.kind() != Kind::kBool || v.bool_value() != expect) wrong.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
}

}  // namespace
}  // namespace warden::cel
