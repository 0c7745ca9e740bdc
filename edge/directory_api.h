// The directory at the edge, in the spirit of Topaz's directory v3 REST API:
//   POST /api/v3/directory/check                               relation or permission check (+ trace)
//   GET  /api/v3/directory/object/{object_type}/{object_id}    one object (?with_relations=true)
//   GET  /api/v3/directory/objects?object_type=&page_size=&cursor=
//   GET  /api/v3/directory/relations?object_type=&object_id=&relation=&subject_type=&subject_id=&subject_relation=&page_size=&cursor=
//   POST /api/v3/directory/lookup                              {"lookup":"resources"|"subjects", ...}
//   POST /api/v3/directory/expand                              the userset tree of a permission
//   POST /api/v3/directory/identity                            {"identity"} -> {"user"}
// Bodies and answers are common/directory/json_api.h's; every answer carries Warden-Revision.
#pragma once

#include "common/http/router.h"
#include "edge/edge_context.h"

namespace warden::edge {

void AddDirectoryRoutes(http::Router& router, EdgeContext& context);

}  // namespace warden::edge
