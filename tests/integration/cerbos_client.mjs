// Drives a Warden edge with the official @cerbos/http client (installed by test_cerbos_api.py).
// usage: node cerbos_client.mjs URL CASES.json  -> prints one JSON document of results on stdout
import { HTTP } from "@cerbos/http";
import { readFileSync } from "node:fs";

const [url, casesFile] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesFile, "utf8"));
const cerbos = new HTTP(url);
const out = { checks: [], allowed: [], plans: [] };

for (const c of cases.checks) {
  const result = await cerbos.checkResource({
    principal: c.principal, resource: c.resource, actions: c.actions, includeMetadata: true,
  });
  const effects = {};
  for (const action of c.actions) effects[action] = result.isAllowed(action);
  out.checks.push(effects);
}
for (const c of cases.allowed) {
  out.allowed.push(await cerbos.isAllowed({ principal: c.principal, resource: c.resource, action: c.action }));
}
for (const c of cases.plans) {
  const plan = await cerbos.planResources({ principal: c.principal, resource: c.resource, action: c.action });
  out.plans.push({ kind: plan.kind, condition: plan.condition ?? null });
}
console.log(JSON.stringify(out));
