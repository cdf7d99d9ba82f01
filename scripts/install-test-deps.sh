#!/usr/bin/env bash
# Installs the Debian 12 packages only the display tests use: an X server
# (Xvfb) and xwd for the SDL window test, and real clients we did not write
# (vncsnapshot, with Pillow to decode its JPEG; chromium with Debian's
# noVNC page). Tests that need a
# missing one skip with a reason, so a failure here is not fatal.
set -uo pipefail
"$(dirname "$0")/apt-install-missing.sh" install-test-deps \
  xvfb xauth x11-apps vncsnapshot python3-pil chromium novnc ||
  echo "install-test-deps: could not install every package; the tests that need one will skip" >&2
