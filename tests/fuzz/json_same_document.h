// SameDocument: equality of two nlohmann documents that also requires equal number types, which
// nlohmann's operator== does not (it finds 1, 1u and 1.0 equal).
#pragma once

#include <cmath>

#include <nlohmann/json.hpp>

namespace warden::fuzz {

inline bool SameDocument(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case nlohmann::json::value_t::object: {
      if (a.size() != b.size()) return false;
      for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
        if (ia.key() != ib.key() || !SameDocument(*ia, *ib)) return false;
      }
      return true;
    }
    case nlohmann::json::value_t::array: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!SameDocument(a[i], b[i])) return false;
      }
      return true;
    }
    case nlohmann::json::value_t::number_float: {
      double x = a.get<double>(), y = b.get<double>();
      return x == y && std::signbit(x) == std::signbit(y);
    }
    default: return a == b;
  }
}

}  // namespace warden::fuzz
