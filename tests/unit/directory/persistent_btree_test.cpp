#include <doctest/doctest.h>

#include <map>
#include <random>
#include <vector>

#include "common/directory/persistent_btree.h"

using warden::directory::PersistentBTree;

using Tree = PersistentBTree<uint64_t, int>;

std::vector<std::pair<uint64_t, int>> Contents(const Tree& t) {
  std::vector<std::pair<uint64_t, int>> out;
  t.ScanFrom(0, [&](uint64_t k, int v) {
    out.emplace_back(k, v);
    return true;
  });
  return out;
}

TEST_CASE("random inserts and erases match std::map, and old versions never change") {
  std::mt19937_64 rng(42);
  std::map<uint64_t, int> model;
  Tree tree;
  std::vector<std::pair<Tree, std::map<uint64_t, int>>> versions;
  for (int round = 0; round < 60; ++round) {
    Tree::Editor editor(tree);
    for (int i = 0; i < 300; ++i) {
      uint64_t k = rng() % 5000;
      if (rng() % 3 == 0) {
        CHECK(editor.Erase(k) == (model.erase(k) == 1));
      } else {
        int v = static_cast<int>(rng() % 1000);
        bool added = model.find(k) == model.end();
        model[k] = v;
        CHECK(editor.Upsert(k, v) == added);
      }
    }
    tree = editor.Finish();
    versions.emplace_back(tree, model);
    REQUIRE(tree.size() == model.size());
  }
  for (const auto& [t, m] : versions) {
    std::vector<std::pair<uint64_t, int>> want(m.begin(), m.end());
    CHECK(Contents(t) == want);
    CHECK(t.size() == m.size());
  }
  for (uint64_t k = 0; k < 5000; k += 7) {
    auto it = model.find(k);
    const int* v = tree.Find(k);
    CHECK((v != nullptr) == (it != model.end()));
    if (v != nullptr) CHECK(*v == it->second);
  }
}

TEST_CASE("FromSorted builds a tree that later edits extend") {
  std::vector<std::pair<uint64_t, int>> entries;
  for (uint64_t i = 0; i < 100000; ++i) entries.emplace_back(i * 2, static_cast<int>(i));
  Tree tree = Tree::FromSorted(std::move(entries));
  CHECK(tree.size() == 100000);
  CHECK(*tree.Find(1000) == 500);
  CHECK(tree.Find(1001) == nullptr);
  Tree::Editor e(tree);
  CHECK(e.Upsert(1001, -1));
  CHECK(e.Erase(0));
  CHECK_FALSE(e.Erase(3));
  Tree next = e.Finish();
  CHECK(next.size() == 100000);
  CHECK(*next.Find(1001) == -1);
  CHECK(next.Find(0) == nullptr);
  CHECK(tree.Find(1001) == nullptr);  // the base is untouched
  CHECK(*tree.Find(0) == 0);
}

TEST_CASE("ScanFrom starts at the first key not below the bound and stops when asked") {
  std::vector<std::pair<uint64_t, int>> entries;
  for (uint64_t i = 0; i < 1000; ++i) entries.emplace_back(i * 10, 0);
  Tree tree = Tree::FromSorted(std::move(entries));
  std::vector<uint64_t> seen;
  tree.ScanFrom(995, [&](uint64_t k, int) {
    seen.push_back(k);
    return seen.size() < 3;
  });
  CHECK(seen == std::vector<uint64_t>{1000, 1010, 1020});
  seen.clear();
  tree.ScanRange(20, 50, [&](uint64_t k, int) {
    seen.push_back(k);
    return true;
  });
  CHECK(seen == std::vector<uint64_t>{20, 30, 40});
  seen.clear();
  tree.ScanFrom(99999, [&](uint64_t k, int) {
    seen.push_back(k);
    return true;
  });
  CHECK(seen.empty());
}

TEST_CASE("erasing everything leaves an empty tree that accepts inserts") {
  Tree tree;
  {
    Tree::Editor e(tree);
    for (uint64_t i = 0; i < 500; ++i) e.Upsert(i, 1);
    tree = e.Finish();
  }
  Tree::Editor e(tree);
  for (uint64_t i = 0; i < 500; ++i) CHECK(e.Erase(i));
  Tree empty = e.Finish();
  CHECK(empty.empty());
  CHECK(Contents(empty).empty());
  Tree::Editor again(empty);
  again.Upsert(7, 7);
  CHECK(*again.Finish().Find(7) == 7);
  CHECK(tree.size() == 500);
}
