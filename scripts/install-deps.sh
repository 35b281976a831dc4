#!/usr/bin/env bash
# Installs the Debian 12 packages Stox needs to build and test, only those
# that are missing. Safe to run again; does nothing (and needs no network or
# root) when everything is present.
#
#   g++ cmake ninja-build make       the Release build (`make run`, `make test`)
#   libgtest-dev libgmock-dev        the tests
#   clang libclang-rt-14-dev         `make test-asan` (clang 14 + ASan/UBSan runtimes)
#   clang-tidy                       `make tidy` (brings run-clang-tidy and python3)
#   libssl-dev                       the journal's SHA-256 hash chain, API key hashes (OpenSSL)
#   libboost1.81-dev                 the server's HTTP/WebSocket (Beast, Asio; 1.81, not 1.74)
#   libsimdjson-dev                  JSON request parsing
#   libtomlplusplus-dev libcli11-dev the server's config file and flags
#   prometheus                       `promtool check metrics` in the tests
set -euo pipefail

packages=(
  g++ cmake ninja-build make
  libgtest-dev libgmock-dev
  clang libclang-rt-14-dev clang-tidy
  libssl-dev
  libboost1.81-dev libsimdjson-dev libtomlplusplus-dev libcli11-dev
  prometheus
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "install-deps: not root and no sudo; as root run: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo env DEBIAN_FRONTEND=noninteractive)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
