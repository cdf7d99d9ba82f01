#!/usr/bin/env bash
# Command 1 of the README: install dependencies, build, and boot the default
# firmware on the virt board with its console on this terminal (Ctrl-A x quits).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
exec build/cr16-system -M virt -nographic "$@"
