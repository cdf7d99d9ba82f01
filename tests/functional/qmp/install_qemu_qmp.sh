#!/usr/bin/env bash
# Installs the npm package qemu-qmp 0.5.0 (a QMP client written for QEMU)
# into DIR/node_modules for the third-party client test. Never committed:
# DIR is in the build tree. Exit status 77 when npm is not installed; npm's
# own status when it fails (offline registry...). Usage: install_qemu_qmp.sh DIR
set -euo pipefail
dir="${1:?usage: install_qemu_qmp.sh DIR}"
if ! command -v npm >/dev/null 2>&1; then
  echo "install_qemu_qmp.sh: npm is not installed" >&2
  exit 77
fi
if [ -f "$dir/node_modules/qemu-qmp/package.json" ]; then
  exit 0
fi
mkdir -p "$dir"
# A lock, so parallel tests do not install twice into one directory.
exec 9>"$dir/.install.lock"
flock 9
if [ ! -f "$dir/node_modules/qemu-qmp/package.json" ]; then
  npm install --prefix "$dir" --no-audit --no-fund --no-save --no-package-lock \
    --loglevel=error qemu-qmp@0.5.0 >&2
fi
