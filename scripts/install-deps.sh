#!/usr/bin/env bash
# Installs the Debian 12 packages cr16-system needs to build and test.
# Safe to run again: it installs only what is missing.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config git python3 iproute2 procps
          libsdl2-dev libssl-dev openssl liburing-dev libcapstone-dev libxbyak-dev
          libgtest-dev googletest clang clang-format libclang-rt-14-dev xz-utils
          zlib1g-dev libpng-dev)
exec "$(dirname "$0")/apt-install-missing.sh" install-deps "${packages[@]}"
