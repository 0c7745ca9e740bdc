// Reading the commonest CheckResources body straight into a CheckResourcesRequest, without
// building a JSON document first.
//
// The edge reads every Cerbos check with this: building the nlohmann document, reading it into the
// request and freeing it again cost about half of what a whole check cost. The reader takes only
// what it can be sure of and answers false for anything else: a key it does not expect (auxData
// among them) or one given twice, a null where a field is expected, a non-empty scope, a string
// with an escape or a byte outside printable ASCII, a missing or empty required field, nesting
// deeper than `max_depth` (or 64), malformed JSON. The caller then takes the general path
// (http::ParseJsonBody, then ParseCheckResourcesRequest), which also words any error. Whatever this
// reader accepts, the general path reads the same (unit test; fuzz target cerbos_request_scan).
#pragma once

#include <string_view>

#include "common/policy/cerbos_api.h"

namespace warden::policy {

// On true, `out` holds the request; on false it is unspecified.
bool ScanCheckResourcesRequest(std::string_view text, int max_depth, CheckResourcesRequest& out);

}  // namespace warden::policy
