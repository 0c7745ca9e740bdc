-- AuthZEN evaluations over examples/drive, decided by the manifest's permissions alone (ReBAC):
-- every user against every document and permission, 120 requests in rotation. Answers walk the
-- folder tree and nested teams: driver-model is four parent hops below company, whose viewers are
-- everyone#member, so most denials and many grants take five or more hops.
local users = {"ada", "brian", "grace", "linus", "margaret", "eve"}
local documents = {"driver-model", "cobol-notes", "roadmap", "handbook", "press-release"}
local permissions = {"can_view", "can_edit", "can_comment", "can_delete"}
local bodies = {}
for _, user in ipairs(users) do
  for _, document in ipairs(documents) do
    for _, permission in ipairs(permissions) do
      bodies[#bodies + 1] = string.format(
        '{"subject": {"type": "user", "id": "%s"}, "action": {"name": "%s"}, "resource": {"type": "document", "id": "%s"}}',
        user, permission, document)
    end
  end
end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/access/v1/evaluation", {["Content-Type"]="application/json"}, bodies[i])
end
