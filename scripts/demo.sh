#!/usr/bin/env bash
# The main job, end to end on this machine: installs what is needed, builds Release, starts a
# control plane and an edge on 127.0.0.1, shows what they answer, and stops them cleanly.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build=${WARDEN_BUILD_DIR:-$root/build}
echo "== building (Release) in $build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"${WARDEN_JOBS:-2}" --target warden-edge warden-control-plane wardenctl >/dev/null
exec python3 "$root/scripts/demo.py" "$build"
