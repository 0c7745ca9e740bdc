// A seeded generator of a Google-Drive-like directory of about one million relations, using the
// SpiceDB corpus model (tests/conformance/spicedb/manifest.yaml):
//
//   10,000 users            u0 .. u9999
//    1,000 groups           5 levels of 200 (g0..g199 level 0 .. g800..g999 level 4); every user is
//                           a member of 3 random level-0 groups; every group below level 4 is a
//                           member (group#member) of one random group one level up
//   10,000 folders          6 levels: 200 roots, then 600, 1200, 2000, 2800, 3200; each non-root
//                           folder has a random parent one level up; each folder has an owner and
//                           a viewer group (any level); roots also have 3 viewer users
//  100,000 documents        each with a random parent folder, an owner, 5 viewer users, a viewer
//                           group, an editor, a commenter every other document and a banned user
//                           every 20th
//
// std::mt19937_64 with a fixed seed: every run generates the same graph.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "common/directory/directory_types.h"

namespace warden::directory::bench {

struct DriveGraph {
  static constexpr int kUsers = 10000;
  static constexpr int kGroupsPerLevel = 200;
  static constexpr int kGroupLevels = 5;
  static constexpr int kFolderLevelSize[6] = {200, 600, 1200, 2000, 2800, 3200};
  static constexpr int kDocuments = 100000;

  std::vector<RelationTuple> relations;
  std::vector<int> folder_level;         // by folder index
  std::vector<int> folder_parent;        // -1 for roots
  std::vector<int> folder_viewer_group;  // by folder index
  std::vector<int> document_folder;      // by document index
  std::vector<std::vector<int>> group_parents;  // group -> groups it is a member of
  std::vector<std::vector<int>> user_groups;    // user -> level-0 groups

  static std::string U(int i) { return "u" + std::to_string(i); }
  static std::string G(int i) { return "g" + std::to_string(i); }
  static std::string F(int i) { return "f" + std::to_string(i); }
  static std::string D(int i) { return "d" + std::to_string(i); }

  explicit DriveGraph(uint64_t seed = 20261124) {
    std::mt19937_64 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
    relations.reserve(1100000);
    auto add = [&](const std::string& ot, const std::string& oid, const char* rel, const std::string& st,
                   const std::string& sid, const char* srel = "") {
      relations.push_back({ot, oid, rel, st, sid, srel});
    };
    const int groups = kGroupsPerLevel * kGroupLevels;
    group_parents.resize(groups);
    user_groups.resize(kUsers);
    for (int u = 0; u < kUsers; ++u) {
      for (int k = 0; k < 3; ++k) {
        int g = pick(kGroupsPerLevel);
        user_groups[u].push_back(g);
        add("group", G(g), "member", "user", U(u));
      }
    }
    for (int level = 0; level + 1 < kGroupLevels; ++level) {
      for (int i = 0; i < kGroupsPerLevel; ++i) {
        int g = level * kGroupsPerLevel + i;
        for (int k = 0; k < 1; ++k) {
          int parent = (level + 1) * kGroupsPerLevel + pick(kGroupsPerLevel);
          group_parents[g].push_back(parent);
          add("group", G(parent), "member", "group", G(g), "member");
        }
      }
    }
    int start = 0;
    std::vector<int> level_start;
    for (int level = 0; level < 6; ++level) {
      level_start.push_back(start);
      for (int i = 0; i < kFolderLevelSize[level]; ++i) {
        int f = start + i;
        folder_level.push_back(level);
        int parent = level == 0 ? -1 : level_start[level - 1] + pick(kFolderLevelSize[level - 1]);
        folder_parent.push_back(parent);
        if (parent >= 0) add("folder", F(f), "parent", "folder", F(parent));
        add("folder", F(f), "owner", "user", U(pick(kUsers)));
        int vg = pick(groups);
        folder_viewer_group.push_back(vg);
        add("folder", F(f), "viewer", "group", G(vg), "member");
        if (level == 0) {
          for (int k = 0; k < 3; ++k) add("folder", F(f), "viewer", "user", U(pick(kUsers)));
        }
      }
      start += kFolderLevelSize[level];
    }
    const int folders = start;
    for (int d = 0; d < kDocuments; ++d) {
      int f = pick(folders);
      document_folder.push_back(f);
      add("document", D(d), "parent", "folder", F(f));
      add("document", D(d), "owner", "user", U(pick(kUsers)));
      for (int k = 0; k < 5; ++k) add("document", D(d), "viewer", "user", U(pick(kUsers)));
      add("document", D(d), "viewer", "group", G(pick(groups)), "member");
      add("document", D(d), "editor", "user", U(pick(kUsers)));
      if (d % 2 == 0) add("document", D(d), "commenter_allowed", "user", U(pick(kUsers)));
      if (d % 20 == 0) add("document", D(d), "banned", "user", U(pick(kUsers)));
    }
  }
};

}  // namespace warden::directory::bench
