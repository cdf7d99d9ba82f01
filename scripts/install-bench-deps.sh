#!/usr/bin/env bash
# Installs what the benchmarks compare against and the third-party clients
# some tests use when present (never needed by scripts/test.sh or CI):
# Debian's QEMU (qemu-system-arm, qemu-img) as the anchor of the migration,
# snapshot and QMP start-up benchmarks. Safe to run again.
set -euo pipefail
packages=(qemu-system-arm qemu-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-bench-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
