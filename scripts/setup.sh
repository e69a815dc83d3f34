#!/usr/bin/env bash
# Installs the Debian 12 packages that nanum's build, tests and tools need.
# Idempotent: packages already present are not fetched again.  Run as root (or
# with sudo available) on a fresh machine.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config clang
  libsodium-dev liblmdb-dev libuv1-dev libmsgpack-dev libcurl4-openssl-dev
  libjansson-dev libhttp-parser-dev libinih-dev libcmocka-dev libssl-dev
  lmdb-utils python3 curl
  prometheus  # promtool: tests/operate checks /metrics with `promtool check metrics` (~96 MB)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
