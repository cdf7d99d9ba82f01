#!/usr/bin/env bash
# Installs what the benchmarks compare against and the third-party clients
# some tests use when present (never needed by scripts/test.sh or CI):
# Debian's QEMU (qemu-system-arm, qemu-img) as the anchor of the migration,
# snapshot and QMP start-up benchmarks. Safe to run again.
set -euo pipefail
packages=(qemu-system-arm qemu-utils)
exec "$(dirname "$0")/apt-install-missing.sh" install-bench-deps "${packages[@]}"
