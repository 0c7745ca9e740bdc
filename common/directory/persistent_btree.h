// PersistentBTree: an immutable ordered map whose updates share structure with the old version.
//
// The directory index is published as snapshots that readers keep while a writer builds the next
// revision, so every container in it must be cheap to "copy with a few changes". This B+-tree
// copies only the root-to-leaf path an update touches (O(log n) nodes), and leaves every other
// node shared between versions through reference counts; a version's nodes are freed when the
// last version holding them is destroyed.
//
// Updates go through an Editor. Nodes created by one Editor are private to it until Finish(), so
// the Editor mutates them in place instead of copying them again; a batch of k changes therefore
// copies each touched path once, not k times (the "transient" trick of persistent collections).
//
// Reads (Find, Scan) never lock and never allocate. A tree is safe to read from many threads
// while other trees that share its nodes are being edited: an edit never mutates a node that an
// already finished tree can reach.
//
// Deletion removes keys without rebalancing: a leaf that empties is unlinked, others may stay
// under-full. Height therefore only grows with inserts, which keeps the O(log n) bound.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/intrusive_ptr.hpp>

namespace warden::directory {

// The value type of a tree used as a set.
struct Unit {};

template <typename K, typename V>
class PersistentBTree {
  static constexpr int kCap = 32;  // keys per node; a leaf of 16-byte keys fills 512 bytes

  struct Node {
    mutable std::atomic<uint32_t> refs{0};
    uint64_t owner = 0;  // the Editor that may still mutate this node in place, 0 once published
    bool leaf = true;
    uint16_t n = 0;
    K keys[kCap];  // leaf: the keys; inner: the smallest key reachable through each child

    friend void intrusive_ptr_add_ref(const Node* p) { p->refs.fetch_add(1, std::memory_order_relaxed); }
    friend void intrusive_ptr_release(const Node* p) {
      if (p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        if (p->leaf) {
          delete static_cast<const Leaf*>(p);
        } else {
          static_cast<const Inner*>(p)->PrefetchKids();
          delete static_cast<const Inner*>(p);
        }
      }
    }
  };
  using NodePtr = boost::intrusive_ptr<Node>;
  struct Leaf : Node {
    V vals[kCap];
  };
  struct Inner : Node {
    NodePtr kids[kCap];

    // Copying or freeing an inner node changes the reference count of every child, each in a
    // node nothing else touches, and atomic updates do not overlap their cache misses.
    // Prefetching the counts first lets them overlap: applying 1,000 relations to a control
    // plane holding a million took ~10% less time.
    void PrefetchKids() const {
      for (int i = 0; i < this->n; ++i) __builtin_prefetch(kids[i].get(), 1);
    }
  };

 public:
  PersistentBTree() = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The value stored under `key`, or nullptr.
  const V* Find(const K& key) const {
    const Node* node = root_.get();
    if (node == nullptr) return nullptr;
    while (!node->leaf) {
      node = static_cast<const Inner*>(node)->kids[ChildIndex(node, key)].get();
    }
    const K* end = node->keys + node->n;
    const K* it = std::lower_bound(node->keys, end, key);
    if (it == end || *it != key) return nullptr;
    return &static_cast<const Leaf*>(node)->vals[it - node->keys];
  }
  bool Contains(const K& key) const { return Find(key) != nullptr; }

  // Calls fn(key, value) for each entry with key >= lo in ascending order until fn returns false.
  template <typename Fn>
  void ScanFrom(const K& lo, Fn&& fn) const {
    const Node* node = root_.get();
    if (node == nullptr) return;
    const Inner* stack[24];
    int idx[24];
    int depth = 0;
    while (!node->leaf) {
      const Inner* inner = static_cast<const Inner*>(node);
      int i = ChildIndex(node, lo);
      stack[depth] = inner;
      idx[depth] = i;
      ++depth;
      node = inner->kids[i].get();
    }
    int pos = static_cast<int>(std::lower_bound(node->keys, node->keys + node->n, lo) - node->keys);
    for (;;) {
      const Leaf* leaf = static_cast<const Leaf*>(node);
      for (; pos < leaf->n; ++pos) {
        if (!fn(leaf->keys[pos], leaf->vals[pos])) return;
      }
      int d = depth - 1;
      while (d >= 0 && idx[d] + 1 >= stack[d]->n) --d;
      if (d < 0) return;
      ++idx[d];
      node = stack[d]->kids[idx[d]].get();
      depth = d + 1;
      while (!node->leaf) {
        const Inner* inner = static_cast<const Inner*>(node);
        stack[depth] = inner;
        idx[depth] = 0;
        ++depth;
        node = inner->kids[0].get();
      }
      pos = 0;
    }
  }

  // Calls fn(key, value) for every entry with lo <= key < hi, ascending, until fn returns false.
  template <typename Fn>
  void ScanRange(const K& lo, const K& hi, Fn&& fn) const {
    ScanFrom(lo, [&](const K& k, const V& v) { return k < hi && fn(k, v); });
  }

  // Builds a tree from entries sorted by key with no duplicates, in O(n). Leaves are filled to
  // three quarters so that later inserts rarely split.
  static PersistentBTree FromSorted(std::vector<std::pair<K, V>>&& sorted) {
    PersistentBTree tree;
    tree.size_ = sorted.size();
    if (sorted.empty()) return tree;
    constexpr int kFill = kCap * 3 / 4;
    std::vector<NodePtr> level;
    level.reserve(sorted.size() / kFill + 1);
    for (size_t i = 0; i < sorted.size();) {
      Leaf* leaf = new Leaf();
      size_t take = std::min<size_t>(kFill, sorted.size() - i);
      for (size_t j = 0; j < take; ++j) {
        leaf->keys[j] = sorted[i + j].first;
        leaf->vals[j] = std::move(sorted[i + j].second);
      }
      leaf->n = static_cast<uint16_t>(take);
      i += take;
      level.emplace_back(leaf);
    }
    while (level.size() > 1) {
      std::vector<NodePtr> up;
      up.reserve(level.size() / kFill + 1);
      for (size_t i = 0; i < level.size();) {
        Inner* inner = new Inner();
        inner->leaf = false;
        size_t take = std::min<size_t>(kFill, level.size() - i);
        for (size_t j = 0; j < take; ++j) {
          inner->keys[j] = level[i + j]->keys[0];
          inner->kids[j] = std::move(level[i + j]);
        }
        inner->n = static_cast<uint16_t>(take);
        i += take;
        up.emplace_back(inner);
      }
      level = std::move(up);
    }
    tree.root_ = std::move(level[0]);
    return tree;
  }

  // Makes a changed copy of a tree. Not thread-safe itself (one writer per Editor); the tree it
  // started from stays valid and unchanged.
  class Editor {
   public:
    explicit Editor(const PersistentBTree& base) : root_(base.root_), size_(base.size_), token_(NextToken()) {}

    // Inserts or replaces; returns true if the key was new.
    bool Upsert(const K& key, V value) {
      bool added = false;
      if (!root_) {
        Leaf* leaf = NewLeaf();
        leaf->keys[0] = key;
        leaf->vals[0] = std::move(value);
        leaf->n = 1;
        root_.reset(leaf);
        ++size_;
        return true;
      }
      Own(root_);
      NodePtr split = InsertInto(root_.get(), key, std::move(value), added);
      if (split) {
        Inner* top = NewInner();
        top->keys[0] = root_->keys[0];
        top->kids[0] = std::move(root_);
        top->keys[1] = split->keys[0];
        top->kids[1] = std::move(split);
        top->n = 2;
        root_.reset(top);
      }
      if (added) ++size_;
      return added;
    }

    // Removes `key`; returns false (and copies nothing) if it was absent.
    bool Erase(const K& key) {
      PersistentBTree probe;
      probe.root_ = root_;
      if (!probe.Contains(key)) return false;
      Own(root_);
      EraseFrom(root_.get(), key);
      --size_;
      while (root_ && !root_->leaf && root_->n == 1) root_ = static_cast<Inner*>(root_.get())->kids[0];
      if (root_ && root_->n == 0) root_.reset();
      return true;
    }

    // Reads see the edits made so far.
    const V* Find(const K& key) const {
      PersistentBTree probe;
      probe.root_ = root_;
      return probe.Find(key);
    }

    // Publishes the edited tree. The Editor must not be used afterwards.
    PersistentBTree Finish() {
      PersistentBTree out;
      out.root_ = std::move(root_);
      out.size_ = size_;
      // Later Editors get other tokens, so nothing reachable from `out` is mutated again.
      return out;
    }

   private:
    static uint64_t NextToken() {
      static std::atomic<uint64_t> next{1};
      return next.fetch_add(1, std::memory_order_relaxed);
    }
    Leaf* NewLeaf() {
      Leaf* leaf = new Leaf();
      leaf->owner = token_;
      return leaf;
    }
    Inner* NewInner() {
      Inner* inner = new Inner();
      inner->leaf = false;
      inner->owner = token_;
      return inner;
    }
    // Makes `slot` point to a node this Editor may mutate, copying it if it is shared.
    void Own(NodePtr& slot) {
      if (slot->owner == token_) return;
      if (slot->leaf) {
        const Leaf* src = static_cast<const Leaf*>(slot.get());
        Leaf* copy = NewLeaf();
        copy->n = src->n;
        std::copy(src->keys, src->keys + src->n, copy->keys);
        std::copy(src->vals, src->vals + src->n, copy->vals);
        slot.reset(copy);
      } else {
        const Inner* src = static_cast<const Inner*>(slot.get());
        Inner* copy = NewInner();
        copy->n = src->n;
        std::copy(src->keys, src->keys + src->n, copy->keys);
        src->PrefetchKids();
        std::copy(src->kids, src->kids + src->n, copy->kids);
        slot.reset(copy);
      }
    }

    // Inserts below an owned node; returns the new right sibling if the node split.
    NodePtr InsertInto(Node* node, const K& key, V&& value, bool& added) {
      if (node->leaf) {
        Leaf* leaf = static_cast<Leaf*>(node);
        int pos = static_cast<int>(std::lower_bound(leaf->keys, leaf->keys + leaf->n, key) - leaf->keys);
        if (pos < leaf->n && leaf->keys[pos] == key) {
          leaf->vals[pos] = std::move(value);
          return nullptr;
        }
        added = true;
        if (leaf->n < kCap) {
          InsertAt(leaf, pos, key, std::move(value));
          return nullptr;
        }
        Leaf* right = NewLeaf();
        int half = kCap / 2;
        for (int i = half; i < kCap; ++i) {
          right->keys[i - half] = leaf->keys[i];
          right->vals[i - half] = std::move(leaf->vals[i]);
        }
        right->n = static_cast<uint16_t>(kCap - half);
        leaf->n = static_cast<uint16_t>(half);
        if (pos <= half) {
          InsertAt(leaf, pos, key, std::move(value));
        } else {
          InsertAt(right, pos - half, key, std::move(value));
        }
        return NodePtr(right);
      }
      Inner* inner = static_cast<Inner*>(node);
      int i = ChildIndex(node, key);
      if (key < inner->keys[0]) inner->keys[0] = key;
      Own(inner->kids[i]);
      NodePtr split = InsertInto(inner->kids[i].get(), key, std::move(value), added);
      if (!split) return nullptr;
      K split_key = split->keys[0];
      if (inner->n < kCap) {
        InsertChild(inner, i + 1, split_key, std::move(split));
        return nullptr;
      }
      Inner* right = NewInner();
      int half = kCap / 2;
      for (int j = half; j < kCap; ++j) {
        right->keys[j - half] = inner->keys[j];
        right->kids[j - half] = std::move(inner->kids[j]);
      }
      right->n = static_cast<uint16_t>(kCap - half);
      inner->n = static_cast<uint16_t>(half);
      if (i + 1 <= half) {
        InsertChild(inner, i + 1, split_key, std::move(split));
      } else {
        InsertChild(right, i + 1 - half, split_key, std::move(split));
      }
      return NodePtr(right);
    }

    static void InsertAt(Leaf* leaf, int pos, const K& key, V&& value) {
      for (int j = leaf->n; j > pos; --j) {
        leaf->keys[j] = leaf->keys[j - 1];
        leaf->vals[j] = std::move(leaf->vals[j - 1]);
      }
      leaf->keys[pos] = key;
      leaf->vals[pos] = std::move(value);
      ++leaf->n;
    }
    static void InsertChild(Inner* inner, int pos, const K& key, NodePtr&& child) {
      for (int j = inner->n; j > pos; --j) {
        inner->keys[j] = inner->keys[j - 1];
        inner->kids[j] = std::move(inner->kids[j - 1]);
      }
      inner->keys[pos] = key;
      inner->kids[pos] = std::move(child);
      ++inner->n;
    }

    // REQUIRES: key is present below the owned `node`.
    void EraseFrom(Node* node, const K& key) {
      if (node->leaf) {
        Leaf* leaf = static_cast<Leaf*>(node);
        int pos = static_cast<int>(std::lower_bound(leaf->keys, leaf->keys + leaf->n, key) - leaf->keys);
        for (int j = pos; j + 1 < leaf->n; ++j) {
          leaf->keys[j] = leaf->keys[j + 1];
          leaf->vals[j] = std::move(leaf->vals[j + 1]);
        }
        leaf->vals[leaf->n - 1] = V();
        --leaf->n;
        return;
      }
      Inner* inner = static_cast<Inner*>(node);
      int i = ChildIndex(node, key);
      Own(inner->kids[i]);
      EraseFrom(inner->kids[i].get(), key);
      if (inner->kids[i]->n == 0) {
        for (int j = i; j + 1 < inner->n; ++j) {
          inner->keys[j] = inner->keys[j + 1];
          inner->kids[j] = std::move(inner->kids[j + 1]);
        }
        inner->kids[inner->n - 1].reset();
        --inner->n;
      }
      // A separator may now be below its child's smallest key; it still divides the children
      // correctly, so it is left as is.
    }

    NodePtr root_;
    size_t size_;
    uint64_t token_;
  };

 private:
  // The child of an inner node whose key range holds `key`.
  static int ChildIndex(const Node* node, const K& key) {
    int i = static_cast<int>(std::upper_bound(node->keys, node->keys + node->n, key) - node->keys) - 1;
    return i < 0 ? 0 : i;
  }

  NodePtr root_;
  size_t size_ = 0;
};

}  // namespace warden::directory
