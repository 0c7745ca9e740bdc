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
    """Each policy file alone, and each folder as one set: its files NUL-separated, then a NUL and
    request choices (policy_fuzz.cpp picks names by index, so a few different byte patterns reach
    different kinds, roles and actions). Test suites and their testdata are not policies."""
    for folder in policy_folders():
        texts = [path.read_bytes() for path in sorted(folder.glob("*"))
                 if path.suffix in (".yaml", ".yml", ".json") and not path.stem.endswith("_test")]
        yield from texts
        for pattern in (b"", b"\x00" * 24, b"\x01" * 24, b"\x02\x01" * 12, b"\x03\x02\x01" * 8):
            yield b"\0".join(texts) + b"\0" + pattern


GENERATORS = {
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
