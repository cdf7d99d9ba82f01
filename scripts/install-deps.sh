#!/usr/bin/env bash
# Installs the Debian 12 packages cr16-system needs to build and test.
# Safe to run again: it installs only what is missing.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config git python3 iproute2 procps
          libsdl2-dev libssl-dev openssl liburing-dev libcapstone-dev
          libgtest-dev googletest clang clang-format libclang-rt-14-dev xz-utils
          zlib1g-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
