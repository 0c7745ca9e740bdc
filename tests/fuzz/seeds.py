#!/usr/bin/env python3
"""Writes seed inputs for one fuzz target, drawn from the repository's corpora and examples.

    tests/fuzz/seeds.py TARGET OUTDIR

The hand-written seeds in tests/fuzz/seeds/TARGET/ are read by the fuzzer directly; this adds
the larger sets that live elsewhere in the tree (conformance corpora, examples) so that each
long run starts from every real input we have. A target without a generator here gets none.
"""
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "conformance" / "corpus"


def cel():
    """Every expression of the cel-spec corpus, alone (no bindings)."""
    for path in sorted((CORPUS / "cel").glob("*.json")):
        for section in json.loads(path.read_text())["sections"]:
            for test in section["tests"]:
                if "expr" in test:
                    yield test["expr"].encode()


def edge_api():
    """AuthZEN and Cerbos conformance requests, each aimed at its endpoint and the edge whose data
    it was written for (edge_api_fuzz.cpp's route byte: low 6 bits the route, top 2 the edge)."""
    def seed(route, edge, body):
        return bytes([route | edge << 6, 0]) + json.dumps(body).encode()
    routes = {"search-subject": 2, "search-resource": 3, "search-action": 4}
    for path in sorted((CORPUS / "authzen").glob("*.json")):
        route = routes.get(path.stem, 0)
        edge = 3 if path.stem in routes else 0  # the search corpus is authzen-search's data
        cases = json.loads(path.read_text())
        for case in cases.get("evaluation", []):
            yield seed(route, edge, case["request"])
        for case in cases.get("evaluations", []):
            yield seed(1, edge, case["request"])
    for name, route in (("checks", 5), ("plans", 6)):
        for line in (CORPUS / "cerbos" / f"{name}.jsonl").read_text().splitlines():
            if line.strip():
                yield seed(route, 1, json.loads(line)["request"])
    # examples/drive's relations as directory checks, expansions and object reads (edge 2).
    for line in (ROOT / "examples" / "drive" / "data" / "drive.jsonl").read_text().splitlines():
        item = json.loads(line)
        if "relation" in item:
            yield seed(7, 2, dict(item, trace=True))
            yield seed(9, 2, {"object_type": item["object_type"], "object_id": item["object_id"],
                              "permission": item["relation"]})
        elif "type" in item:
            yield bytes([11 | 2 << 6, 0]) + f"{item['type']}/{item['id']}?with_relations=true".encode()


def policy_folders():
    """Every folder of Cerbos policies in the tree: the examples' and the conformance corpora's."""
    folders = sorted((ROOT / "examples").glob("*/policies"))
    return folders + [CORPUS / "cerbos" / "policies", CORPUS / "cerbos2" / "policies"]


def policy():
    """Each policy file alone, and each with what it may need to compile (the folder's derived
    roles and exports, and the policies of its parent scopes, named as prefixes of its own name):
    files NUL-separated, then a NUL and request choices (policy_fuzz.cpp picks names by index, so
    a few byte patterns reach different kinds, roles and actions). Whole folders would make slow
    inputs; test suites and their testdata are not policies."""
    shared_marks = (b"derivedRoles:", b"exportVariables:", b"exportConstants:")
    for folder in policy_folders():
        files = {path.stem: path.read_bytes() for path in sorted(folder.glob("*"))
                 if path.suffix in (".yaml", ".yml", ".json") and not path.stem.endswith("_test")}
        shared = [text for text in files.values() if any(mark in text for mark in shared_marks)]
        for stem, text in files.items():
            yield text
            if text in shared:
                continue
            parents = [files[other] for other in files if other != stem and stem.startswith(other + "_")]
            for pattern in (b"", b"\x00" * 24, b"\x01" * 24, b"\x02\x01" * 12, b"\x03\x02\x01" * 8):
                yield b"\0".join(shared + parents + [text]) + b"\0" + pattern


def doc_blocks(path, language):
    """The fenced ```language blocks of a Markdown file."""
    blocks, current = [], None
    for line in path.read_text().splitlines(keepends=True):
        if current is None and line.strip() == "```" + language:
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append("".join(current).encode())
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def manifest():
    """Every manifest.yaml in the tree (examples, the SpiceDB conformance manifest) and the YAML
    examples of docs/manifest.md."""
    paths = sorted((ROOT / "examples").glob("*/manifest.yaml")) + [ROOT / "tests" / "conformance" / "spicedb" / "manifest.yaml"]
    yield from (path.read_bytes() for path in paths)
    yield from doc_blocks(ROOT / "docs" / "manifest.md", "yaml")


def schema_zed():
    """The SpiceDB conformance schema and the schema examples of docs/manifest.md."""
    yield (CORPUS / "spicedb" / "schema.zed").read_bytes()
    yield from doc_blocks(ROOT / "docs" / "manifest.md", "zed")


def _folder_ops(folder):
    """A standalone folder's content as the sync protocol's .set ops, in snapshot order."""
    def sha(text):
        return hashlib.sha256(text.encode()).hexdigest()
    ops = []
    for path in sorted((folder / "policies").glob("*.yaml")) if (folder / "policies").is_dir() else []:
        if path.stem.endswith("_test"):
            continue
        text = path.read_text()
        ops.append({"op": "policy.set", "policy": {"path": path.name, "text": text, "sha256": sha(text)}})
    if (folder / "manifest.yaml").exists():
        text = (folder / "manifest.yaml").read_text()
        ops.append({"op": "manifest.set", "manifest": {"format": "yaml", "name": "manifest.yaml", "text": text,
                                                       "sha256": sha(text)}})
    objects, relations = [], []
    for path in sorted((folder / "data").glob("*")) if (folder / "data").is_dir() else []:
        if path.suffix == ".json":
            content = json.loads(path.read_text())
            objects += content.get("objects", [])
            relations += content.get("relations", [])
        elif path.suffix == ".jsonl":
            for line in path.read_text().splitlines():
                if line.strip():
                    item = json.loads(line)
                    (relations if "relation" in item else objects).append(item)
    ops += [{"op": "object.set", "object": o} for o in objects]
    ops += [{"op": "relation.set", "relation": r} for r in relations]
    return ops


def sync_edge():
    """Hub conversations (sync_edge_fuzz.cpp: a flags byte, then one message per line) that bootstrap
    an edge from each example folder by snapshot, then stream its relations back as deltas, a
    revision in parts, deletions, and the messages around them."""
    def seed(flags, messages):
        return bytes([flags]) + "\n".join(json.dumps(m, separators=(",", ":")) for m in messages).encode()
    for folder in sorted((ROOT / "examples").iterdir()):
        ops = _folder_ops(folder)
        if not ops:
            continue
        lines = [json.dumps(op, separators=(",", ":")) + "\n" for op in ops]
        body = "".join(lines)
        chunks = ["".join(lines[i:i + 8]) for i in range(0, len(lines), 8)]
        welcome = {"type": "welcome", "protocol_version": 1, "store_id": "s1", "revision": 9, "heartbeat_ms": 10000,
                   "session_id": "ab", "resume": "snapshot"}
        snapshot = [{"type": "snapshot_begin", "format": "warden-snapshot-1", "store_id": "s1", "revision": 3,
                     "chunks": len(chunks)}]
        snapshot += [{"type": "snapshot_chunk", "index": i, "data": c} for i, c in enumerate(chunks)]
        rels = [op for op in ops if op["op"] == "relation.set"]
        deletes = [dict(op, op="relation.delete") for op in rels[:3]]
        after = [{"type": "delta", "revision": 4, "ops": deletes},
                 {"type": "rev_begin", "revision": 5, "parts": 2},
                 {"type": "rev_part", "revision": 5, "index": 0, "ops": rels[:2]},
                 {"type": "rev_part", "revision": 5, "index": 1, "ops": rels[2:3]},
                 {"type": "rev_commit", "revision": 5},
                 {"type": "heartbeat", "revision": 9},
                 {"type": "decision_logs_ack", "batch": 1},
                 {"type": "delta", "revision": 7, "ops": []}]
        yield seed(0, [welcome] + snapshot + [{"type": "snapshot_end", "revision": 3,
                                                "sha256": hashlib.sha256(body.encode()).hexdigest()}] + after)
        yield seed(0, [welcome] + snapshot + [{"type": "snapshot_end", "revision": 3, "sha256": "fuzz"}] + after)
        # The same relations as deltas on top of authzen-todo's revision 5 (flag 1).
        yield seed(1, [welcome, {"type": "delta", "revision": 6, "ops": ops[:20]},
                       {"type": "delta", "revision": 7, "ops": deletes}])
        # The same arriving together (flag 2), one revision per relation, applied as batches.
        yield seed(3, [welcome] + [{"type": "delta", "revision": 6 + i, "ops": [op]} for i, op in enumerate(ops[:70])])


def directory_data():
    """Every data file of the examples as it is (JSON lines, or {"objects", "relations"}
    documents); authzen-todo's data (the manifest directory_data_fuzz.cpp validates against) as
    JSON lines; a few runs of the SpiceDB conformance relationships, in Warden's field names."""
    for path in sorted((ROOT / "examples").glob("*/data/*")):
        yield path.read_bytes()
    todo = json.loads((ROOT / "examples" / "authzen-todo" / "data" / "citadel.json").read_text())
    items = todo.get("objects", []) + todo.get("relations", [])
    for start in range(0, len(items), 8):
        yield "".join(json.dumps(item) + "\n" for item in items[start:start + 8]).encode()
    with open(CORPUS / "spicedb" / "relationships.jsonl") as lines:
        relations = [json.loads(line) for _, line in zip(range(100), lines)]
    for start in range(0, len(relations), 25):
        yield "".join(json.dumps({"object_type": r["resource_type"], "object_id": r["resource_id"],
                                  **{k: v for k, v in r.items() if not k.startswith("resource_")}}) + "\n"
                      for r in relations[start:start + 25]).encode()


def _snapshot_line(op, kind, value, hashed):
    """One line as OpToJson(...).dump() writes it (keys sorted, no spaces); a text's sha256 is
    "fuzz" (snapshot_format_fuzz.cpp puts the real hash in) unless `hashed`."""
    if "text" in value:
        value = dict(value, sha256=hashlib.sha256(value["text"].encode()).hexdigest() if hashed else "fuzz")
    return json.dumps({"op": op, kind: value}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _example_data(folder):
    """The objects and relations of an example folder's data/."""
    objects, relations = [], []
    for path in sorted((folder / "data").glob("*")):
        if path.suffix == ".json":
            document = json.loads(path.read_text())
            items = document.get("objects", []) + document.get("relations", [])
        else:
            items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        for item in items:
            (relations if "relation" in item else objects).append(item)
    return objects, relations


def snapshot_format():
    """Each example folder as a snapshot body in the format's order (policies, manifest, objects,
    relations), with real hashes and with "fuzz" ones, each under a few flags bytes (lines per
    piece, which snapshot the ops apply to); then ops that change authzen-todo's snapshot."""
    for folder in sorted((ROOT / "examples").glob("*")):
        objects, relations = _example_data(folder)
        for hashed in (True, False):
            lines = [_snapshot_line("policy.set", "policy", {"path": "policies/" + path.name, "text": path.read_text()}, hashed)
                     for path in sorted((folder / "policies").glob("*.yaml")) if not path.stem.endswith("_test")]
            if (folder / "manifest.yaml").exists():
                lines.append(_snapshot_line("manifest.set", "manifest", {"format": "yaml", "name": "manifest.yaml",
                                                                         "text": (folder / "manifest.yaml").read_text()}, hashed))
            lines += [_snapshot_line("object.set", "object", {"display_name": "", "properties": {}, **o}, hashed) for o in objects]
            lines += [_snapshot_line("relation.set", "relation", r, hashed) for r in relations]
            body = "".join(line + "\n" for line in lines).encode()
            for flags in (0, 3, 7) if hashed else (1,):
                yield bytes([flags]) + body
    todo = ROOT / "examples" / "authzen-todo"
    ops = [
        _snapshot_line("relation.set", "relation", {"object_type": "group", "object_id": "g1", "relation": "member",
                                                    "subject_type": "user", "subject_id": "morty@the-citadel.com"}, False),
        _snapshot_line("relation.delete", "relation", {"object_type": "identity", "object_id": "morty@the-citadel.com",
                                                       "relation": "identifier", "subject_type": "user",
                                                       "subject_id": "morty@the-citadel.com"}, False),
        _snapshot_line("object.delete", "object", {"type": "user", "id": "rick@the-citadel.com"}, False),
        _snapshot_line("object.set", "object", {"type": "user", "id": "summer", "properties": {"roles": ["viewer"]}}, False),
        _snapshot_line("policy.delete", "policy", {"path": "policies/route.yaml"}, False),
        _snapshot_line("policy.set", "policy", {"path": "policies/todo.yaml",
                                                "text": (todo / "policies" / "todo.yaml").read_text()}, False),
        _snapshot_line("manifest.set", "manifest", {"format": "yaml", "name": "manifest.yaml",
                                                    "text": (todo / "manifest.yaml").read_text()}, False),
        _snapshot_line("manifest.set", "manifest", {"format": "zed", "name": "schema.zed",
                                                    "text": (CORPUS / "spicedb" / "schema.zed").read_text()}, False),
    ]
    for flags in (0, 0x10, 0x18):  # without the last op: authzen-todo's data does not fit the SpiceDB schema
        yield bytes([flags]) + b"\0" + "".join(op + "\n" for op in ops[:-1]).encode()
    for op in ops:
        yield b"\0\0" + op.encode() + b"\n"


def http_request():
    """The AuthZEN conformance requests as the bodies of POSTs to http_request_fuzz.cpp's echo
    route, framed by Content-Length, chunked, and pipelined behind a GET with a query string."""
    for path in sorted((CORPUS / "authzen").glob("*.json")):
        cases = json.loads(path.read_text())
        for case in (cases.get("evaluation", []) + cases.get("evaluations", []))[:4]:
            body = json.dumps(case["request"]).encode()
            head = b"POST /v1/echo HTTP/1.1\r\nHost: warden\r\nContent-Type: application/json\r\n"
            yield head + b"Content-Length: %d\r\n\r\n" % len(body) + body
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 64]), body[i:i + 64]) for i in range(0, len(body), 64))
            yield (b"GET /v1/items/" + path.stem.encode() + b"?q=" + path.stem.encode() + b" HTTP/1.1\r\nHost: warden\r\n\r\n"
                   + head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")


def sync_hub():
    """Edge conversations (sync_hub_fuzz.cpp: one message per line): hellos resuming at each
    revision of the fuzzer's store, and decision-log batches made of the AuthZEN corpus's requests."""
    def line(message):
        return json.dumps(message, separators=(",", ":"))
    instance = "0f3c2a1e-aaaa-4bbb-8ccc-000000000002"
    def hello(revision, store):
        return line({"type": "hello", "protocol_versions": [1], "build": "seeds", "feature_level": 1,
                     "instance_id": instance, "store_id": store, "revision": revision})
    for revision in range(0, 9):
        acks = [line({"type": "ack", "revision": r}) for r in range(revision + 1, 9)]
        yield "\n".join([hello(revision, "current")] + acks + ["tick"]).encode()
    for path in sorted((CORPUS / "authzen").glob("*.json")):
        cases = json.loads(path.read_text()).get("evaluation", [])
        entries = []
        for sequence, case in enumerate(cases[:20], start=1):
            request = case["request"]
            entries.append({"instance_id": instance, "sequence": sequence, "time": "2026-11-29T10:00:00.000000001Z",
                            "revision": 3, "api": "authzen", "subject": request.get("subject", {}),
                            "action": request.get("action", {}).get("name", ""),
                            "resource": request.get("resource", {}),
                            "decision": "allow" if case.get("expected") is True else "deny", "latency_us": 7})
        batch = {"type": "decision_logs", "batch": 1, "instance_id": instance, "dropped": 0, "entries": entries}
        yield "\n".join([hello(0, ""), line({"type": "ack", "revision": 7}), line(batch),
                         line(dict(batch, batch=2))]).encode()


GENERATORS = {
    "sync_hub": sync_hub,
    "http_request": http_request,
    "snapshot_format": snapshot_format,
    "directory_data": directory_data,
    "manifest": manifest,
    "schema_zed": schema_zed,
    "sync_edge": sync_edge,
    "policy": policy,
    "edge_api": edge_api,
    "cel": cel,
}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: seeds.py TARGET OUTDIR")
    target, outdir = sys.argv[1], pathlib.Path(sys.argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    count = 0
    for data in GENERATORS.get(target, lambda: [])():
        (outdir / hashlib.sha1(data).hexdigest()).write_bytes(data)
        count += 1
    print(f"{target}: {count} seeds")


if __name__ == "__main__":
    main()
