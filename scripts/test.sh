#!/usr/bin/env bash
# Command 2 of the README: install dependencies (and the real clients the
# display tests drive), check formatting, build both
# configurations (release, and clang with ASan+UBSan and the fuzz targets) and
# run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-test-deps.sh  # Xvfb, vncsnapshot, chromium + noVNC: the display tests' clients
jobs=$(nproc)
status=0
echo "=== format ==="
scripts/check-format.sh || status=1
for config in release asan; do
  dir=build; [ "$config" = asan ] && dir=build-asan
  echo "=== $config: build ==="
  # The test build of the release configuration skips debug information
  # (most of its compile and link time); the flags stay in build/'s cache,
  # so reconfigure build/ without them for a debuggable binary.
  extra=()
  [ "$config" = release ] && extra=(-DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG"
                                    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG")
  scripts/build.sh "$config" "${extra[@]}"
  echo "=== $config: test ==="
  # Under sanitizers the CPU suite's second run under the JIT (its lock-step
  # tests and fuzz-jit cover the JIT there) and the heaviest process tests
  # (migration, browser, SDL: their code paths run under the sanitizers in
  # the unit tests) stay in the release run: the whole CI fits 20 minutes.
  skip=()
  [ "$config" = asan ] && skip=(-E '^jit\.|^functional\.(migration|browser|sdl)\.')
  (cd "$dir" && ctest --output-on-failure -j "$jobs" -LE slow "${skip[@]}") || status=1
done
exit $status
