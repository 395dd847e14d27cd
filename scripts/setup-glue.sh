#!/usr/bin/env bash
# Makes sure the AWS Glue emulator the Glue catalog tests run against can start (idempotent; well
# under a second when there is nothing to do): moto's server (moto[server]), from the harness venv
# (.tools/py, which scripts/setup-harness.sh fills) when it has it, else from a venv of its own in
# .cache/glue-emulator (git-ignored), pinned below. scripts/glue-emulator.py is the launcher (it
# makes moto enforce UpdateTable's VersionId); scripts/start-glue.sh starts it.
# Cold (own venv): about 2 to 3 minutes, ~320 MB. Env: IMSYNC_GLUE_FORCE=1 rebuilds the own venv.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
moto_version="5.2.5"
own="$root/.cache/glue-emulator"
stamp="$own/.moto-version"

say() { echo "setup-glue: $*" >&2; }
die() {
  echo "setup-glue: ERROR: $*" >&2
  exit 1
}
# The server needs moto's Glue backend and its HTTP server (flask, from the [server] extra).
has_moto() { "$1" -c 'import moto.glue, moto.server, flask' >/dev/null 2>&1; }

if [ -x "$root/.tools/py/bin/python" ] && has_moto "$root/.tools/py/bin/python"; then
  say "moto $("$root/.tools/py/bin/python" -c 'import moto; print(moto.__version__)') found in the harness venv (.tools/py)"
  exit 0
fi
if [ "${IMSYNC_GLUE_FORCE:-0}" != 1 ] && [ -x "$own/venv/bin/python" ] &&
  [ "$(cat "$stamp" 2>/dev/null)" = "$moto_version" ] && has_moto "$own/venv/bin/python"; then
  say "moto $moto_version up to date (.cache/glue-emulator)"
  exit 0
fi
command -v python3 >/dev/null 2>&1 || die "python3 not found; it is needed for the Glue emulator (moto)"
say "installing moto[server]==$moto_version into .cache/glue-emulator/venv (a few minutes, once)"
rm -rf "$own/venv"
mkdir -p "$own"
start=$SECONDS
python3 -m venv "$own/venv" || die "python3 -m venv failed (apt-get install python3-venv?)"
"$own/venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$moto_version" ||
  die "pip install moto[server]==$moto_version failed"
has_moto "$own/venv/bin/python" || die "moto installed but its server does not import"
echo "$moto_version" >"$stamp"
say "installed moto $moto_version in $((SECONDS - start)) s"
