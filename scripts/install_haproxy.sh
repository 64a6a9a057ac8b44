#!/usr/bin/env bash
# The production layout (make run-prod) balances its Rasa replicas with haproxy, Debian's
# package: well kept, with health checks, and no code of ours in the path of every message.
#
# What this does: nothing when haproxy is on the PATH. Otherwise, on a Debian or Ubuntu
# machine, `apt-get update` and `apt-get install -y --no-install-recommends haproxy` (as
# root, or through sudo when that needs no password). Anywhere else it says what to install
# and fails.
set -euo pipefail

if command -v haproxy >/dev/null 2>&1; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "The production layout needs haproxy; install your system's haproxy package." >&2
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "The production layout needs haproxy. Run, as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends haproxy" >&2
  exit 1
fi

echo "==> installing Debian's haproxy package to balance the Rasa replicas (apt-get, once)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends haproxy
command -v haproxy >/dev/null 2>&1 || { echo "haproxy installed, but not on the PATH" >&2; exit 1; }
