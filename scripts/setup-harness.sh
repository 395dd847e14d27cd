#!/usr/bin/env bash
# Installs the interop harness's tooling (idempotent; a re-run with nothing to do takes ~1 s):
#   - a Python venv in .tools/py with harness/requirements.txt (pip's cache: .cache/pip)
#   - the jars of harness/jars.txt from Maven Central into .cache/jars (via `mvn dependency:copy`)
# Needs: python3 >= 3.10 with venv, java >= 17, mvn. Spark itself comes from the pyspark wheel.
# Env: IMSYNC_HARNESS_FORCE=1 reinstalls the Python packages even when the stamp matches.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
venv="$root/.tools/py"
jars_dir="$root/.cache/jars"
pip_cache="$root/.cache/pip"
req="$root/harness/requirements.txt"
jar_list="$root/harness/jars.txt"

say() { echo "setup-harness: $*" >&2; }
die() {
  echo "setup-harness: ERROR: $*" >&2
  exit 1
}

command -v python3 >/dev/null 2>&1 || die "python3 not found (need Python >= 3.10 with the venv module)"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
  die "python3 is $(python3 -V 2>&1); need >= 3.10"
command -v java >/dev/null 2>&1 || die "java not found (need a JDK/JRE >= 17 for Spark 4)"
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1)"
[ -n "$java_major" ] && [ "${java_major%%.*}" -ge 17 ] 2>/dev/null ||
  die "java is version '${java_major:-unknown}'; Spark 4 needs >= 17 (set JAVA_HOME / PATH)"

# --- Python venv -----------------------------------------------------------
if [ ! -x "$venv/bin/python" ]; then
  say "creating venv in .tools/py"
  mkdir -p "$root/.tools"
  python3 -m venv "$venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
fi
stamp="$venv/.harness-requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ "${IMSYNC_HARNESS_FORCE:-0}" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing harness/requirements.txt into .tools/py (pip cache: .cache/pip)"
  mkdir -p "$pip_cache"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    --cache-dir "$pip_cache" -r "$req" || die "pip install -r harness/requirements.txt failed"
  echo "$want" >"$stamp"
else
  say "python packages up to date (.tools/py)"
fi

# --- Jars ------------------------------------------------------------------
mkdir -p "$jars_dir"
fetched=0
while read -r coord; do
  coord="${coord%%#*}"
  coord="$(echo "$coord" | tr -d '[:space:]')"
  [ -z "$coord" ] && continue
  IFS=: read -r g a v <<<"$coord"
  [ -n "$g" ] && [ -n "$a" ] && [ -n "$v" ] || die "bad line in harness/jars.txt: '$coord'"
  if [ -s "$jars_dir/$a-$v.jar" ]; then
    continue
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found; it is needed once to fetch $coord from Maven Central"
  say "fetching $coord from Maven Central"
  # Run outside the repository so that no pom.xml is picked up.
  # (pipefail is on: mvn's status survives the filter that strips its colour codes)
  (cd "${TMPDIR:-/tmp}" && mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$coord" -Dtransitive=false \
    -DoutputDirectory="$jars_dir" 2>&1) | sed 's/\x1b\[[0-9;]*m//g' >&2 ||
    die "mvn dependency:copy -Dartifact=$coord failed"
  [ -s "$jars_dir/$a-$v.jar" ] || die "mvn did not produce $jars_dir/$a-$v.jar"
  fetched=$((fetched + 1))
done <"$jar_list"
if [ "$fetched" = 0 ]; then
  say "jars up to date (.cache/jars)"
fi

# --- Smoke check (no JVM start: imports, jars, DuckDB's offline extensions) --
"$venv/bin/python" "$root/harness/run.py" check >&2 || die "harness self-check failed (see above)"
say "ready: .tools/py/bin/python harness/run.py {generate <out-dir> | read <spec.json>}"
