// Differential fuzzing of the CheckResources request scanner (common/policy/cerbos_request_scan.h)
// against the general path (nlohmann's parser, then ParseCheckResourcesRequest).
// Input: any bytes, as a request body.
// Property: whatever the scanner accepts, the general path accepts too and reads the same request.
// Bodies the scanner leaves alone are the general path's to answer, so only acceptance is checked.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/policy/cerbos_request_scan.h"
#include "tests/fuzz/cerbos_same_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  warden::policy::CheckResourcesRequest scanned;
  if (!warden::policy::ScanCheckResourcesRequest(text, 64, scanned)) return 0;
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) std::abort();
  auto general = warden::policy::ParseCheckResourcesRequest(body);
  if (!general.ok() || !warden::fuzz::SameRequest(scanned, *general)) std::abort();
  return 0;
}
