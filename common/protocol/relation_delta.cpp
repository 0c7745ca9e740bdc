#include "common/protocol/relation_delta.h"

#include <limits>

namespace warden::protocol {

namespace {

// A cursor over the message. Every method answers false for what this reader does not take.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool Eat(char c) {
    SkipSpace();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }

  // A string of printable ASCII without escapes.
  bool String(std::string_view& out) {
    if (!Eat('"')) return false;
    size_t start = at_;
    for (; at_ < text_.size(); ++at_) {
      unsigned char c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') {
        out = text_.substr(start, at_ - start);
        ++at_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x7f) return false;
    }
    return false;
  }

  // A plain unsigned integer (no sign, fraction or exponent) that fits 64 bits.
  bool Unsigned(uint64_t& out) {
    SkipSpace();
    size_t start = at_;
    out = 0;
    for (; at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9'; ++at_) {
      uint64_t digit = static_cast<uint64_t>(text_[at_] - '0');
      if (out > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
      out = out * 10 + digit;
    }
    size_t digits = at_ - start;
    if (digits == 0 || (digits > 1 && text_[start] == '0')) return false;
    return at_ == text_.size() || (text_[at_] != '.' && text_[at_] != 'e' && text_[at_] != 'E');
  }

  // Skips a value of a field this reader ignores: a string, a plain unsigned integer, true,
  // false or null.
  bool SkipScalar() {
    SkipSpace();
    if (at_ >= text_.size()) return false;
    std::string_view ignored;
    uint64_t number = 0;
    if (text_[at_] == '"') return String(ignored);
    if (text_[at_] >= '0' && text_[at_] <= '9') return Unsigned(number);
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(at_, word.size()) == word) {
        at_ += word.size();
        return true;
      }
    }
    return false;
  }

  bool AtEnd() {
    SkipSpace();
    return at_ == text_.size();
  }

  // Where the next value starts, and the text from `start` to here.
  size_t Position() {
    SkipSpace();
    return at_;
  }
  std::string_view Since(size_t start) const { return text_.substr(start, at_ - start); }

 private:
  void SkipSpace() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }

  std::string_view text_;
  size_t at_ = 0;
};

// Reads the members of an object whose "{" was eaten, calling `member(key)` to read each value.
template <typename Member>
bool Members(Reader& in, Member&& member) {
  if (in.Eat('}')) return true;
  do {
    std::string_view key;
    if (!in.String(key) || !in.Eat(':') || !member(key)) return false;
  } while (in.Eat(','));
  return in.Eat('}');
}

bool Relation(Reader& in, directory::RelationTuple& out) {
  if (!in.Eat('{')) return false;
  std::string* fields[] = {&out.object_type, &out.object_id,  &out.relation,
                           &out.subject_type, &out.subject_id, &out.subject_relation};
  constexpr std::string_view kNames[] = {"object_type", "object_id", "relation", "subject_type", "subject_id",
                                         "subject_relation"};
  bool seen[6] = {};
  bool read = Members(in, [&](std::string_view key) {
    for (int i = 0; i < 6; ++i) {
      if (key != kNames[i]) continue;
      std::string_view value;
      if (seen[i] || !in.String(value)) return false;
      seen[i] = true;
      fields[i]->assign(value);
      return true;
    }
    return false;  // bookkeeping fields and unknown ones: the general path decides
  });
  if (!read) return false;
  for (int i = 0; i < 5; ++i) {
    if (!seen[i] || fields[i]->empty()) return false;  // the general path words the error
  }
  return true;
}

bool Op(Reader& in, std::vector<DeltaOp>& ops) {
  if (!in.Eat('{')) return false;
  std::string_view name;
  bool has_relation = false;
  directory::RelationTuple relation;
  bool read = Members(in, [&](std::string_view key) {
    if (key == "op" && name.empty()) return in.String(name) && !name.empty();
    if (key == "relation" && !has_relation) return has_relation = Relation(in, relation);
    return false;
  });
  if (!read || !has_relation) return false;
  if (name == "relation.set") {
    ops.push_back(DeltaOp::SetRelation(std::move(relation)));
  } else if (name == "relation.delete") {
    ops.push_back(DeltaOp::DeleteRelation(std::move(relation)));
  } else {
    return false;
  }
  return true;
}

bool Ops(Reader& in, std::vector<DeltaOp>& ops) {
  if (!in.Eat('[')) return false;
  if (in.Eat(']')) return true;
  do {
    if (!Op(in, ops)) return false;
  } while (in.Eat(','));
  return in.Eat(']');
}

// A `delta` (index null) or a `rev_part` (its index read into *index), whose ops' text is put in
// *ops_text when asked.
bool ParseRelationMessage(std::string_view text, std::string_view expected_type, uint64_t& revision,
                          uint64_t* index, std::vector<DeltaOp>& ops, std::string_view* ops_text) {
  Reader in(text);
  if (!in.Eat('{')) return false;
  bool has_type = false, has_revision = false, has_ops = false, has_index = false;
  ops.clear();
  bool read = Members(in, [&](std::string_view key) {
    if (key == "type") {
      std::string_view type;
      if (has_type || !in.String(type) || type != expected_type) return false;
      return has_type = true;
    }
    if (key == "revision") {
      if (has_revision || !in.Unsigned(revision)) return false;
      return has_revision = true;
    }
    if (key == "index" && index) {
      if (has_index || !in.Unsigned(*index)) return false;
      return has_index = true;
    }
    if (key == "ops") {
      size_t start = in.Position();
      if (has_ops || !Ops(in, ops)) return false;
      if (ops_text) *ops_text = in.Since(start);
      return has_ops = true;
    }
    // Fields this edge does not use (author, time, later additions) are skipped when they are
    // scalars; a repeat of one is harmless since its value is not read.
    return in.SkipScalar();
  });
  return read && in.AtEnd() && has_type && has_revision && has_ops && (!index || has_index);
}

}  // namespace

bool ParseRelationDelta(std::string_view text, uint64_t& revision, std::vector<DeltaOp>& ops) {
  return ParseRelationMessage(text, "delta", revision, nullptr, ops, nullptr);
}

bool ParseRelationPart(std::string_view text, uint64_t& revision, uint64_t& index, std::vector<DeltaOp>& ops,
                       std::string_view& ops_text) {
  return ParseRelationMessage(text, "rev_part", revision, &index, ops, &ops_text);
}

}  // namespace warden::protocol
