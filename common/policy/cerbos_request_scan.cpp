#include "common/policy/cerbos_request_scan.h"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

namespace warden::policy {
namespace {

// Deeper bodies are rare and left to the general path, whose cel::FromJson has its own bound.
constexpr int kMostDepth = 64;

class Scanner {
 public:
  Scanner(std::string_view text, int max_depth)
      : at_(text.data()), end_(text.data() + text.size()), max_depth_(std::min(max_depth, kMostDepth)) {}

  bool Request(CheckResourcesRequest& out) {
    unsigned seen = 0;
    bool ok = Object([&](std::string_view key) {
      if (key == "requestId") {
        std::string_view id;
        if (!Once(seen, 1) || !String(id)) return false;
        out.request_id.assign(id);
        return true;
      }
      if (key == "includeMeta") return Once(seen, 2) && Bool(out.include_meta);
      if (key == "principal") return Once(seen, 4) && Principal(out.principal);
      if (key == "resources") {
        return Once(seen, 8) && Array([&] {
                 out.resources.emplace_back();
                 return Entry(out.resources.back());
               });
      }
      return false;
    });
    Space();
    return ok && at_ == end_ && (seen & 4) && (seen & 8) && !out.resources.empty();
  }

 private:
  static bool Once(unsigned& seen, unsigned bit) {
    if (seen & bit) return false;
    seen |= bit;
    return true;
  }

  void Space() {
    while (at_ < end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
  }
  bool Eat(char c) {
    Space();
    if (at_ == end_ || *at_ != c) return false;
    ++at_;
    return true;
  }
  bool Literal(std::string_view word) {
    Space();
    if (static_cast<size_t>(end_ - at_) < word.size() || std::string_view(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  // A string of printable ASCII without escapes, viewed in the text.
  bool String(std::string_view& out) {
    if (!Eat('"')) return false;
    const char* start = at_;
    while (at_ < end_) {
      auto c = static_cast<unsigned char>(*at_);
      if (c == '"') {
        out = std::string_view(start, static_cast<size_t>(at_ - start));
        ++at_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++at_;
    }
    return false;
  }
  bool NonEmptyString(std::string& out) {
    std::string_view text;
    if (!String(text) || text.empty()) return false;
    out.assign(text);
    return true;
  }
  // Only the empty scope: any other is validated (and worded) by the general path.
  bool EmptyScope() {
    std::string_view scope;
    return String(scope) && scope.empty();
  }
  bool Bool(bool& out) {
    if (Literal("true")) {
      out = true;
      return true;
    }
    out = false;
    return Literal("false");
  }

  // A JSON number as cel::FromJson sees it: a double. The text is read with from_chars, correctly
  // rounded as nlohmann's strtod and integer-to-double conversions are; only an integer minus
  // zero differs (nlohmann makes it the integer 0), so it is made +0.0 here too.
  bool Number(double& out) {
    Space();
    const char* start = at_;
    if (at_ < end_ && *at_ == '-') ++at_;
    if (at_ == end_ || *at_ < '0' || *at_ > '9') return false;
    if (*at_ == '0') {
      ++at_;
    } else {
      while (at_ < end_ && *at_ >= '0' && *at_ <= '9') ++at_;
    }
    bool integer = true;
    if (at_ < end_ && *at_ == '.') {
      integer = false;
      ++at_;
      if (at_ == end_ || *at_ < '0' || *at_ > '9') return false;
      while (at_ < end_ && *at_ >= '0' && *at_ <= '9') ++at_;
    }
    if (at_ < end_ && (*at_ == 'e' || *at_ == 'E')) {
      integer = false;
      ++at_;
      if (at_ < end_ && (*at_ == '+' || *at_ == '-')) ++at_;
      if (at_ == end_ || *at_ < '0' || *at_ > '9') return false;
      while (at_ < end_ && *at_ >= '0' && *at_ <= '9') ++at_;
    }
    auto [end, error] = std::from_chars(start, at_, out);
    if (error != std::errc() || end != at_) return false;  // out of a double's range: the general path
    if (integer && out == 0) out = 0.0;
    return true;
  }

  // Calls member(key) for each member, the text positioned after the key's colon.
  template <typename Member>
  bool Object(Member&& member) {
    if (!Eat('{')) return false;
    if (++depth_ > max_depth_) return false;
    if (!Eat('}')) {
      do {
        std::string_view key;
        if (!String(key) || !Eat(':') || !member(key)) return false;
      } while (Eat(','));
      if (!Eat('}')) return false;
    }
    --depth_;
    return true;
  }
  template <typename Element>
  bool Array(Element&& element) {
    if (!Eat('[')) return false;
    if (++depth_ > max_depth_) return false;
    if (!Eat(']')) {
      do {
        if (!element()) return false;
      } while (Eat(','));
      if (!Eat(']')) return false;
    }
    --depth_;
    return true;
  }

  // Any JSON value, as cel::FromJson converts it.
  bool Value(cel::Value& out) {
    Space();
    if (at_ == end_) return false;
    switch (*at_) {
      case '{': return Map(out);
      case '[': {
        cel::ListValue items;
        if (!Array([&] {
              items.emplace_back();
              return Value(items.back());
            })) {
          return false;
        }
        out = cel::Value::List(std::move(items));
        return true;
      }
      case '"': {
        std::string_view text;
        if (!String(text)) return false;
        out = cel::Value::String(std::string(text));
        return true;
      }
      case 't':
      case 'f': {
        bool value;
        if (!Bool(value)) return false;
        out = cel::Value::Bool(value);
        return true;
      }
      case 'n':
        if (!Literal("null")) return false;
        out = cel::Value::Null();
        return true;
      default: {
        double value;
        if (!Number(value)) return false;
        out = cel::Value::Double(value);
        return true;
      }
    }
  }
  // An object as a map whose keys are in the order of nlohmann's std::map (cel::FromJson keeps
  // that order); a repeated key (nlohmann keeps the last) goes to the general path.
  bool Map(cel::Value& out) {
    std::vector<std::pair<std::string_view, cel::Value>> members;
    if (!Object([&](std::string_view key) {
          members.emplace_back(key, cel::Value());
          return Value(members.back().second);
        })) {
      return false;
    }
    std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<cel::Value, cel::Value>> entries;
    entries.reserve(members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0 && members[i].first == members[i - 1].first) return false;
      entries.emplace_back(cel::Value::String(std::string(members[i].first)), std::move(members[i].second));
    }
    out = cel::Value::Map(std::move(entries));
    return true;
  }
  bool Attr(cel::Value& out) {
    Space();
    return at_ < end_ && *at_ == '{' && Map(out);
  }
  bool Strings(std::vector<std::string>& out) {
    bool ok = Array([&] {
      std::string_view text;
      if (!String(text) || text.empty()) return false;
      out.emplace_back(text);
      return true;
    });
    return ok && !out.empty();
  }

  // The keys a principal and a resource share (bits 4, 8 and 16 of `seen`); false for any other.
  bool SharedField(std::string_view key, unsigned& seen, std::string& policy_version, cel::Value& attr) {
    if (key == "policyVersion") {
      std::string_view version;
      if (!Once(seen, 4) || !String(version)) return false;
      policy_version.assign(version);
      return true;
    }
    if (key == "scope") return Once(seen, 8) && EmptyScope();
    if (key == "attr") return Once(seen, 16) && Attr(attr);
    return false;
  }
  // Both required fields given (bits 1 and 2), and attr an empty map when absent.
  static bool Complete(unsigned seen, cel::Value& attr) {
    if (!(seen & 1) || !(seen & 2)) return false;
    if (!(seen & 16)) attr = cel::Value::Map({});
    return true;
  }

  bool Principal(policy::Principal& out) {
    unsigned seen = 0;
    bool ok = Object([&](std::string_view key) {
      if (key == "id") return Once(seen, 1) && NonEmptyString(out.id);
      if (key == "roles") return Once(seen, 2) && Strings(out.roles);
      return SharedField(key, seen, out.policy_version, out.attr);
    });
    return ok && Complete(seen, out.attr);
  }

  bool Resource(policy::Resource& out) {
    unsigned seen = 0;
    bool ok = Object([&](std::string_view key) {
      if (key == "kind") return Once(seen, 1) && NonEmptyString(out.kind);
      if (key == "id") return Once(seen, 2) && NonEmptyString(out.id);
      return SharedField(key, seen, out.policy_version, out.attr);
    });
    return ok && Complete(seen, out.attr);
  }

  bool Entry(CheckResourcesRequest::Entry& out) {
    unsigned seen = 0;
    bool ok = Object([&](std::string_view key) {
      if (key == "actions") {
        if (!Once(seen, 1) || !Strings(out.actions)) return false;
        RemoveRepeatedActions(out.actions);  // as the general path does
        return true;
      }
      if (key == "resource") return Once(seen, 2) && Resource(out.resource);
      return false;
    });
    return ok && seen == 3;
  }

  const char* at_;
  const char* end_;
  int max_depth_;
  int depth_ = 0;
};

}  // namespace

bool ScanCheckResourcesRequest(std::string_view text, int max_depth, CheckResourcesRequest& out) {
  out = CheckResourcesRequest{};
  return Scanner(text, max_depth).Request(out);
}

}  // namespace warden::policy
