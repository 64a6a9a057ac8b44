#!/usr/bin/env bash
# The browser test (tests/e2e/test_console_browser.py) drives a real headless Chromium through
# Playwright. Playwright's own browser download is not used: it fetches a build from outside
# the package registries. Debian's `chromium` package is used instead, at /usr/bin/chromium.
#
# What this does: nothing when /usr/bin/chromium exists. Otherwise, on a Debian or Ubuntu
# machine, it runs `apt-get update` and `apt-get install -y --no-install-recommends chromium`
# (as root, or through sudo when that needs no password), non-interactively. Anywhere else it
# says what to install and fails.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "The browser test needs Chromium at $CHROMIUM; install your system's chromium package." >&2
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "The browser test needs Chromium at $CHROMIUM. Run, as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends chromium" >&2
  exit 1
fi

echo "==> installing Debian's chromium package for the console's browser test (apt-get, once)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium
test -x "$CHROMIUM" || { echo "chromium installed, but $CHROMIUM is missing" >&2; exit 1; }
