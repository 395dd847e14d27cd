#!/usr/bin/env bash
# Installs the operations validators the ops tests run (idempotent; instant when all are present):
# promtool (Debian's `prometheus` package) for `promtool check metrics`, headless Chromium for the
# status page render, and systemd for `systemd-analyze verify` of the units under deploy/.
# These are system packages (apt, as root); without apt or root the script says so and exits 0,
# and the tests that need a missing tool skip visibly (fatal in CI).
# Env: IMSYNC_OPS_SKIP_APT=1 never calls apt.
set -euo pipefail

say() { echo "setup-ops: $*" >&2; }

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)

if [ "${#missing[@]}" -eq 0 ]; then
  say "promtool, chromium and systemd-analyze present"
  exit 0
fi
if [ "${IMSYNC_OPS_SKIP_APT:-0}" = 1 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "apt-get unavailable (or IMSYNC_OPS_SKIP_APT=1); missing: ${missing[*]} (their tests will skip)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    say "not root and no passwordless sudo; missing: ${missing[*]} (their tests will skip)"
    exit 0
  fi
else
  as_root=()
fi
say "installing ${missing[*]} with apt-get (a few minutes, once)"
start=$SECONDS
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh image: one update, then the install.
"${as_root[@]}" apt-get update -qq || say "apt-get update failed; trying the install with the lists present"
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
say "installed ${missing[*]} in $((SECONDS - start)) s"
