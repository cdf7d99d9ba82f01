#!/usr/bin/env bash
# Configures and builds one configuration: scripts/build.sh [release|asan] [extra cmake args...]
#   release -> build/        (RelWithDebInfo, gcc)
#   asan    -> build-asan/   (clang, -fsanitize=address,undefined, libFuzzer targets)
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-release}"; shift || true
case "$config" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=build-asan
        # Line tables are all a sanitizer report needs, and far cheaper to
        # build than full debug information.
        args=(-DCMAKE_BUILD_TYPE=Debug -DCR16_SANITIZE=ON -DCR16_FUZZ=ON
              -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
              -DCMAKE_C_FLAGS_DEBUG=-gline-tables-only -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only) ;;
  *) echo "build.sh: unknown configuration '$config' (release|asan)" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${args[@]}" "$@" >/dev/null
cmake --build "$dir"
