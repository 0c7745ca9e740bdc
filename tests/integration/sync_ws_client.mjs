// A second, independent client of the sync protocol, written from docs/sync-protocol.md alone
// (installed and driven by test_sync_node_client.py). It follows a hub over the WebSocket the way
// an edge would: hello, welcome, a hash-checked snapshot, then deltas (and rev_begin/part/commit)
// in order, acking each revision and answering heartbeats, and holds the content in memory.
//
// usage: node sync_ws_client.mjs HUB_URL EDGE_KEY [--stop-at N] [--instance-id UUID] [--timeout-ms MS] [--mute]
//   --mute: send no heartbeats (to see the hub end a silent session with heartbeat_timeout).
//   HUB_URL is http://host:port (or ws://host:port); the client connects to ws://host:port/v1/sync.
//   stdin lines: "stop-at N" (exit 0 once revision N is applied and acked), "stop" (exit 0 now).
//
// stdout: one JSON object per line, each with "event": hello, welcome, snapshot_begin, snapshot,
//   delta, ack, heartbeat, done, refused, error. Exit codes: 0 stopped as told; 1 a protocol
//   violation or a hub error (the last line says why); 3 the upgrade was refused (HTTP status);
//   4 the socket closed or failed unexpectedly; 5 the timeout passed.
import WebSocket from "ws";
import { createHash, randomUUID } from "node:crypto";
import { createInterface } from "node:readline";

const PROTOCOL_VERSION = 1;
const FEATURE_LEVEL = 1;
const SNAPSHOT_FORMAT = "warden-snapshot-1";

function usage(message) {
  process.stderr.write(`${message}\nusage: node sync_ws_client.mjs HUB_URL EDGE_KEY [--stop-at N] [--instance-id UUID] [--timeout-ms MS] [--mute]\n`);
  process.exit(2);
}

const positional = [];
const options = { stopAt: null, instanceId: randomUUID(), timeoutMs: 120000, mute: false };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--stop-at") options.stopAt = Number(argv[++i]);
    else if (arg === "--instance-id") options.instanceId = argv[++i];
    else if (arg === "--timeout-ms") options.timeoutMs = Number(argv[++i]);
    else if (arg === "--mute") options.mute = true;
    else if (arg.startsWith("--")) usage(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length !== 2) usage("expected HUB_URL and EDGE_KEY");
  if (options.stopAt !== null && !Number.isSafeInteger(options.stopAt)) usage("--stop-at takes a revision");
}
const [hubUrl, edgeKey] = positional;

function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

let finished = false;
let ws = null;
function finish(code, event, fields) {
  if (finished) return;
  finished = true;
  if (event) emit(event, fields);
  const exit = () => process.exit(code);
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.close(code === 0 ? 1000 : 4400, code === 0 ? "done" : "bad_message");
    setTimeout(exit, 500).unref();
    ws.once("close", exit);
  } else {
    // Let stdout drain before leaving.
    setImmediate(exit);
  }
}

class ProtocolError extends Error {}
function violation(message) {
  throw new ProtocolError(message);
}
function require_(condition, message) {
  if (!condition) violation(message);
}
const isInt = (v) => Number.isSafeInteger(v);
const isStr = (v) => typeof v === "string";
const sha256 = (text) => createHash("sha256").update(text, "utf8").digest("hex");

// ---- the in-memory model (section 1 and 2) ---------------------------------------------------

function emptyModel() {
  return { policies: new Map(), manifest: null, objects: new Map(), relations: new Set() };
}

function relationKey(r) {
  return JSON.stringify([r.object_type, r.object_id, r.relation, r.subject_type, r.subject_id, r.subject_relation ?? ""]);
}
function objectKey(o) {
  return JSON.stringify([o.type, o.id]);
}

function checkRelationBody(r, where) {
  require_(r && typeof r === "object", `${where}: "relation" missing`);
  for (const f of ["object_type", "object_id", "relation", "subject_type", "subject_id"]) {
    require_(isStr(r[f]) && r[f] !== "", `${where}: relation.${f} missing or not a string`);
  }
  require_(r.subject_relation === undefined || isStr(r.subject_relation), `${where}: relation.subject_relation not a string`);
}

// Applies one op to the model; throws a ProtocolError for a malformed op.
function applyOp(model, op, where) {
  require_(op && typeof op === "object" && isStr(op.op), `${where}: an op without "op"`);
  switch (op.op) {
    case "object.set": {
      const o = op.object;
      require_(o && isStr(o.type) && isStr(o.id), `${where}: object.set without object.type/id`);
      model.objects.set(objectKey(o), o);
      return;
    }
    case "object.delete": {
      const o = op.object;
      require_(o && isStr(o.type) && isStr(o.id), `${where}: object.delete without object.type/id`);
      model.objects.delete(objectKey(o));
      return;
    }
    case "relation.set":
      checkRelationBody(op.relation, where);
      model.relations.add(relationKey(op.relation));
      return;
    case "relation.delete":
      checkRelationBody(op.relation, where);
      model.relations.delete(relationKey(op.relation));
      return;
    case "manifest.set": {
      const m = op.manifest;
      require_(m && (m.format === "yaml" || m.format === "zed"), `${where}: manifest.format is ${JSON.stringify(m && m.format)}`);
      require_(isStr(m.name) && isStr(m.text) && isStr(m.sha256), `${where}: manifest.set without name/text/sha256`);
      require_(sha256(m.text) === m.sha256, `${where}: manifest.sha256 ${m.sha256} is not the SHA-256 of its text (${sha256(m.text)})`);
      model.manifest = m;
      return;
    }
    case "policy.set": {
      const p = op.policy;
      require_(p && isStr(p.path) && isStr(p.text) && isStr(p.sha256), `${where}: policy.set without path/text/sha256`);
      require_(sha256(p.text) === p.sha256, `${where}: policy ${p.path}: sha256 ${p.sha256} is not the SHA-256 of its text (${sha256(p.text)})`);
      model.policies.set(p.path, p);
      return;
    }
    case "policy.delete": {
      const p = op.policy;
      require_(p && isStr(p.path), `${where}: policy.delete without policy.path`);
      model.policies.delete(p.path);
      return;
    }
    default:
      violation(`${where}: unknown op ${JSON.stringify(op.op)}`);
  }
}

function cloneModel(m) {
  return { policies: new Map(m.policies), manifest: m.manifest, objects: new Map(m.objects), relations: new Set(m.relations) };
}

function compareTuples(a, b) {
  for (let i = 0; i < a.length; i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}

// Parses a snapshot body (section 2) into a new model, checking the order of its sections.
function parseSnapshot(body) {
  const model = emptyModel();
  const counts = { policies: 0, manifest: 0, objects: 0, relations: 0, bytes: Buffer.byteLength(body, "utf8") };
  const order = { "policy.set": 0, "manifest.set": 1, "object.set": 2, "relation.set": 3 };
  require_(body === "" || body.endsWith("\n"), "snapshot body does not end in a newline");
  const lines = body === "" ? [] : body.slice(0, -1).split("\n");
  let section = -1;
  let lastKey = null;
  const orderWarnings = [];
  lines.forEach((line, i) => {
    const where = `snapshot line ${i + 1}`;
    let op;
    try {
      op = JSON.parse(line);
    } catch (e) {
      violation(`${where}: not JSON: ${e.message}`);
    }
    require_(op && op.op in order, `${where}: ${JSON.stringify(op && op.op)} is not one of the snapshot's .set ops`);
    const s = order[op.op];
    require_(s >= section, `${where}: ${op.op} after a later section (policies, manifest, objects, relations)`);
    if (s !== section) lastKey = null;
    section = s;
    applyOp(model, op, where);
    let key = null;
    if (op.op === "policy.set") { counts.policies++; key = [op.policy.path]; }
    else if (op.op === "manifest.set") { counts.manifest++; require_(counts.manifest <= 1, `${where}: a second manifest.set`); }
    else if (op.op === "object.set") { counts.objects++; key = [op.object.type, op.object.id]; }
    else {
      counts.relations++;
      const r = op.relation;
      key = [r.object_type, r.object_id, r.relation, r.subject_type, r.subject_id, r.subject_relation ?? ""];
    }
    if (key && lastKey && compareTuples(lastKey, key) >= 0) {
      orderWarnings.push(`${where}: ${op.op} ${JSON.stringify(key)} not after ${JSON.stringify(lastKey)}`);
    }
    if (key) lastKey = key;
  });
  return { model, counts, orderWarnings };
}

// ---- the session (sections 3 to 6) -----------------------------------------------------------

let state = "AWAIT_UPGRADE";
let model = emptyModel();
let held = 0; // the revision the model holds
let storeId = "";
let heartbeatMs = 10000;
let snapshot = null; // {revision, chunks, data: [], counts, store_id} while a snapshot streams
let pending = null; // {revision, parts, ops: [], next} while a rev_begin.. streams
let heartbeatTimer = null;
let silenceTimer = null;
let lastAcked = 0;

function send(message) {
  ws.send(JSON.stringify(message));
}

function ack(revision) {
  send({ type: "ack", revision });
  lastAcked = Math.max(lastAcked, revision);
  emit("ack", { revision });
  maybeStop();
}

function maybeStop() {
  if (options.stopAt !== null && lastAcked >= options.stopAt && held >= options.stopAt) {
    finish(0, "done", { revision: held, relations: model.relations.size, objects: model.objects.size,
      policies: model.policies.size, manifest: model.manifest ? 1 : 0 });
  }
}

function resetSilence() {
  if (silenceTimer) clearTimeout(silenceTimer);
  silenceTimer = setTimeout(() => {
    finish(1, "error", { message: `no message from the hub for 3 heartbeat intervals (${3 * heartbeatMs} ms)` });
  }, 3 * heartbeatMs);
  silenceTimer.unref();
}

function applyRevision(revision, ops, extra) {
  require_(Array.isArray(ops), `revision ${revision}: "ops" is not an array`);
  if (revision <= held) {
    // Already held: ignore it, but ack it (section 6).
    emit("delta", { revision, ops: ops.length, ignored: true, ...extra });
    ack(revision);
    return;
  }
  if (revision !== held + 1) {
    send({ type: "nack", revision, code: "gap", message: `holding ${held}, got ${revision}` });
    violation(`gap: holding revision ${held}, the hub sent revision ${revision}`);
  }
  const next = cloneModel(model);
  ops.forEach((op, i) => applyOp(next, op, `revision ${revision} op ${i}`));
  model = next;
  held = revision;
  emit("delta", { revision, ops: ops.length, relations: model.relations.size, objects: model.objects.size,
    policies: model.policies.size, ...extra });
  ack(revision);
}

function onMessage(data, isBinary) {
  resetSilence();
  require_(!isBinary, "the hub sent a binary frame; every message is one text frame");
  let msg;
  try {
    msg = JSON.parse(data.toString("utf8"));
  } catch (e) {
    violation(`a message that is not JSON: ${e.message}`);
  }
  require_(msg && typeof msg === "object" && !Array.isArray(msg) && isStr(msg.type), 'a message without a "type"');
  if (msg.type === "error") {
    finish(1, "error", { message: `the hub sent error ${msg.code}: ${msg.message}`, code: msg.code, hub_message: msg.message });
    return;
  }
  if (state === "HELLO_SENT") {
    require_(msg.type === "welcome", `expected welcome, got ${msg.type}`);
    require_(msg.protocol_version === PROTOCOL_VERSION, `welcome.protocol_version is ${JSON.stringify(msg.protocol_version)}, not 1`);
    require_(isStr(msg.store_id) && msg.store_id !== "", `welcome.store_id is ${JSON.stringify(msg.store_id)}`);
    require_(isInt(msg.revision) && msg.revision >= 0, `welcome.revision is ${JSON.stringify(msg.revision)}`);
    require_(isInt(msg.heartbeat_ms) && msg.heartbeat_ms > 0, `welcome.heartbeat_ms is ${JSON.stringify(msg.heartbeat_ms)}`);
    require_(isStr(msg.session_id) && msg.session_id !== "", `welcome.session_id is ${JSON.stringify(msg.session_id)}`);
    require_(msg.resume === "snapshot", `welcome.resume is ${JSON.stringify(msg.resume)}; a hello with revision 0 must get "snapshot"`);
    storeId = msg.store_id;
    heartbeatMs = msg.heartbeat_ms;
    emit("welcome", { protocol_version: msg.protocol_version, store_id: msg.store_id, revision: msg.revision,
      heartbeat_ms: msg.heartbeat_ms, session_id: msg.session_id, resume: msg.resume, extensions: ws.extensions });
    state = "AWAIT_SNAPSHOT";
    resetSilence();
    if (!options.mute) {
      heartbeatTimer = setInterval(() => send({ type: "heartbeat", revision: held }), heartbeatMs);
      heartbeatTimer.unref();
    }
    return;
  }
  switch (msg.type) {
    case "heartbeat":
      require_(isInt(msg.revision), `heartbeat.revision is ${JSON.stringify(msg.revision)}`);
      // Any message counts as a sign of life; answer with our own heartbeat.
      if (!options.mute) send({ type: "heartbeat", revision: held });
      emit("heartbeat", { hub_revision: msg.revision, revision: held });
      return;
    case "snapshot_begin":
      require_(state === "AWAIT_SNAPSHOT" || state === "FOLLOWING", `snapshot_begin in state ${state}`);
      require_(!snapshot && !pending, "snapshot_begin inside another snapshot or revision");
      require_(msg.format === SNAPSHOT_FORMAT, `snapshot_begin.format is ${JSON.stringify(msg.format)}`);
      require_(msg.store_id === storeId, `snapshot_begin.store_id ${JSON.stringify(msg.store_id)} differs from welcome's ${storeId}`);
      require_(isInt(msg.revision) && msg.revision >= 0, `snapshot_begin.revision is ${JSON.stringify(msg.revision)}`);
      require_(isInt(msg.chunks) && msg.chunks >= 0, `snapshot_begin.chunks is ${JSON.stringify(msg.chunks)}`);
      require_(msg.counts && typeof msg.counts === "object", "snapshot_begin without counts");
      for (const f of ["policies", "manifest", "objects", "relations", "bytes"]) {
        require_(isInt(msg.counts[f]), `snapshot_begin.counts.${f} is ${JSON.stringify(msg.counts[f])}`);
      }
      snapshot = { revision: msg.revision, chunks: msg.chunks, counts: msg.counts, data: [] };
      emit("snapshot_begin", { revision: msg.revision, chunks: msg.chunks, counts: msg.counts });
      return;
    case "snapshot_chunk":
      require_(snapshot, "snapshot_chunk outside a snapshot");
      require_(msg.index === snapshot.data.length, `snapshot_chunk.index ${msg.index}, expected ${snapshot.data.length}`);
      require_(msg.index < snapshot.chunks, `snapshot_chunk.index ${msg.index} beyond chunks ${snapshot.chunks}`);
      require_(isStr(msg.data), "snapshot_chunk.data is not a string");
      require_(msg.data === "" || msg.data.endsWith("\n"), `snapshot_chunk ${msg.index} does not hold whole lines`);
      snapshot.data.push(msg.data);
      return;
    case "snapshot_end": {
      require_(snapshot, "snapshot_end outside a snapshot");
      require_(snapshot.data.length === snapshot.chunks, `snapshot_end after ${snapshot.data.length} of ${snapshot.chunks} chunks`);
      require_(msg.revision === snapshot.revision, `snapshot_end.revision ${msg.revision} differs from snapshot_begin's ${snapshot.revision}`);
      require_(isStr(msg.sha256), "snapshot_end.sha256 is not a string");
      const body = snapshot.data.join("");
      const actual = sha256(body);
      const sha256Ok = actual === msg.sha256;
      if (!sha256Ok) {
        send({ type: "nack", revision: snapshot.revision, code: "hash_mismatch", message: `got ${actual}` });
        violation(`snapshot ${snapshot.revision}: trailer sha256 ${msg.sha256}, the chunks hash to ${actual}`);
      }
      const { model: parsed, counts, orderWarnings } = parseSnapshot(body);
      for (const f of ["policies", "manifest", "objects", "relations", "bytes"]) {
        require_(counts[f] === snapshot.counts[f], `snapshot_begin.counts.${f} is ${snapshot.counts[f]}, the body holds ${counts[f]}`);
      }
      model = parsed;
      held = snapshot.revision;
      const revision = snapshot.revision;
      snapshot = null;
      state = "FOLLOWING";
      emit("snapshot", { revision, sha256: actual, sha256_ok: sha256Ok, policies: counts.policies, manifest: counts.manifest,
        objects: counts.objects, relations: counts.relations, bytes: counts.bytes, order_warnings: orderWarnings.slice(0, 5) });
      ack(revision);
      return;
    }
    case "delta":
      require_(state === "FOLLOWING", `delta in state ${state} (before the snapshot completed)`);
      require_(!snapshot && !pending, "delta inside a snapshot or a rev_begin");
      require_(isInt(msg.revision) && msg.revision > 0, `delta.revision is ${JSON.stringify(msg.revision)}`);
      require_(isStr(msg.author), `delta.author is ${JSON.stringify(msg.author)}`);
      require_(isStr(msg.time) && !Number.isNaN(Date.parse(msg.time)), `delta.time is ${JSON.stringify(msg.time)}`);
      applyRevision(msg.revision, msg.ops, { author: msg.author, time: msg.time });
      return;
    case "rev_begin":
      require_(state === "FOLLOWING", `rev_begin in state ${state}`);
      require_(!snapshot && !pending, "rev_begin inside a snapshot or another rev_begin");
      require_(isInt(msg.revision) && msg.revision > 0, `rev_begin.revision is ${JSON.stringify(msg.revision)}`);
      require_(isInt(msg.parts) && msg.parts > 0, `rev_begin.parts is ${JSON.stringify(msg.parts)}`);
      require_(isStr(msg.author) && isStr(msg.time), "rev_begin without author/time");
      pending = { revision: msg.revision, parts: msg.parts, ops: [], next: 0, author: msg.author, time: msg.time };
      return;
    case "rev_part":
      require_(pending, "rev_part outside rev_begin/rev_commit");
      require_(msg.revision === pending.revision, `rev_part.revision ${msg.revision} inside revision ${pending.revision}`);
      require_(msg.index === pending.next, `rev_part.index ${msg.index}, expected ${pending.next}`);
      require_(msg.index < pending.parts, `rev_part.index ${msg.index} beyond parts ${pending.parts}`);
      require_(Array.isArray(msg.ops), "rev_part.ops is not an array");
      for (const op of msg.ops) pending.ops.push(op);
      pending.next++;
      return;
    case "rev_commit": {
      require_(pending, "rev_commit outside rev_begin");
      require_(msg.revision === pending.revision, `rev_commit.revision ${msg.revision} for revision ${pending.revision}`);
      require_(pending.next === pending.parts, `rev_commit after ${pending.next} of ${pending.parts} parts`);
      const p = pending;
      pending = null;
      applyRevision(p.revision, p.ops, { author: p.author, time: p.time, parts: p.parts });
      return;
    }
    case "welcome":
      violation("a second welcome");
      return;
    default:
      violation(`unknown message type ${JSON.stringify(msg.type)}`);
  }
}

// ---- stdin control and start -----------------------------------------------------------------

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const words = line.trim().split(/\s+/);
  if (words[0] === "stop") {
    finish(0, "done", { revision: held, relations: model.relations.size, objects: model.objects.size,
      policies: model.policies.size, manifest: model.manifest ? 1 : 0 });
  } else if (words[0] === "stop-at" && Number.isSafeInteger(Number(words[1]))) {
    options.stopAt = Number(words[1]);
    if (state === "FOLLOWING") maybeStop();
  } else if (words[0] !== "") {
    process.stderr.write(`ignored stdin line: ${line}\n`);
  }
});

setTimeout(() => finish(5, "error", { message: `timed out after ${options.timeoutMs} ms at revision ${held}` }),
  options.timeoutMs).unref();
// Keep the process alive while the socket is open even though the timers are unref'd.
const keepAlive = setInterval(() => {}, 1 << 30);

const url = new URL("/v1/sync", hubUrl);
url.protocol = url.protocol === "https:" || url.protocol === "wss:" ? "wss:" : "ws:";
ws = new WebSocket(url.toString(), {
  headers: { Authorization: `Bearer ${edgeKey}` },
  perMessageDeflate: true,
  maxPayload: 64 * 1024 * 1024,
});

ws.on("unexpected-response", (req, res) => {
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (d) => { body += d; });
  res.on("end", () => {
    let parsed = null;
    try { parsed = JSON.parse(body); } catch { /* not JSON */ }
    finish(3, "refused", { status: res.statusCode, error: parsed && parsed.error !== undefined ? parsed.error : null, body });
  });
});

ws.on("open", () => {
  const hello = {
    type: "hello", protocol_versions: [PROTOCOL_VERSION], build: "node-test", feature_level: FEATURE_LEVEL,
    instance_id: options.instanceId, store_id: "", revision: 0,
  };
  send(hello);
  state = "HELLO_SENT";
  emit("hello", { instance_id: options.instanceId, url: url.toString() });
  resetSilence();
});

ws.on("message", (data, isBinary) => {
  if (finished) return;
  try {
    onMessage(data, isBinary);
  } catch (e) {
    if (e instanceof ProtocolError) finish(1, "error", { message: `protocol violation: ${e.message}`, state });
    else finish(1, "error", { message: `client failure: ${e.stack || e}`, state });
  }
});

ws.on("close", (code, reason) => {
  clearInterval(keepAlive);
  if (heartbeatTimer) clearInterval(heartbeatTimer);
  finish(4, "error", { message: `the socket closed: ${code} ${reason.toString()}`, close_code: code, close_reason: reason.toString(), revision: held });
});

ws.on("error", (e) => {
  // An upgrade refusal is reported by "unexpected-response"; ws may also raise an error for it.
  setTimeout(() => finish(4, "error", { message: `socket error: ${e.message}` }), 200);
});
