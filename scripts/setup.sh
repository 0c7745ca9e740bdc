#!/usr/bin/env bash
# Installs every Debian package Warden's build, tests, demo and benchmarks need.
# Idempotent: when everything is present it prints nothing and touches nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates
  libboost1.81-all-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libssl-dev
  libspdlog-dev libfmt-dev doctest-dev libyaml-cpp-dev libre2-dev libbenchmark-dev
  zlib1g-dev python3 wrk valgrind clang libclang-rt-14-dev procps openssl
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
# Node.js (for the @cerbos/http and ws client tests) may come from outside Debian; take Debian's only when absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
