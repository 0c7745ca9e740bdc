// Differential fuzzing of the fast JSON parser (common/http/json_fast_parse.h) against nlohmann's.
// Input: any bytes, parsed as one JSON text by both.
// Properties: whatever the fast parser accepts, nlohmann accepts too, and the two documents are
// the same value by value and type by type (an unsigned 1 is not a signed 1 or a 1.0). Texts the
// fast parser leaves alone are nlohmann's to explain, so only acceptance is checked.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/http/json_fast_parse.h"
#include "tests/fuzz/json_same_document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json fast;
  if (!warden::http::FastParseJson(text, 64, fast)) return 0;
  nlohmann::json reference = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (reference.is_discarded() || !warden::fuzz::SameDocument(fast, reference)) std::abort();
  return 0;
}
