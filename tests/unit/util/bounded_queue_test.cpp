#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/util/bounded_queue.h"

namespace warden {

TEST_CASE("a bounded queue refuses past its capacity and hands values back in order") {
  BoundedQueue<std::string> queue(3);  // rounded up to 4
  CHECK(queue.capacity() == 4);
  for (int i = 0; i < 4; ++i) {
    std::string value = "v" + std::to_string(i);
    CHECK(queue.TryPush(value));
  }
  std::string extra = "overflow";
  CHECK_FALSE(queue.TryPush(extra));
  CHECK(extra == "overflow");  // a refused value is left to the caller
  for (int i = 0; i < 4; ++i) CHECK(queue.TryPop() == "v" + std::to_string(i));
  CHECK_FALSE(queue.TryPop().has_value());
}

TEST_CASE("four producers and one consumer: every pushed value is popped exactly once") {
  BoundedQueue<int> queue(1024);
  constexpr int kPerProducer = 50'000;
  std::atomic<int> refused{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        int value = p * kPerProducer + i;
        while (!queue.TryPush(value)) {
          refused.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<int> seen(4 * kPerProducer, 0);
  int popped = 0;
  while (popped < 4 * kPerProducer) {
    if (auto value = queue.TryPop()) {
      ++seen[*value];
      ++popped;
    }
  }
  for (auto& t : producers) t.join();
  for (int count : seen) REQUIRE(count == 1);
  CHECK_FALSE(queue.TryPop().has_value());
}

}  // namespace warden
