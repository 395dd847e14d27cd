#!/usr/bin/env bash
# Installs the GCS emulator the GCS storage tests run against (idempotent; a re-run with nothing
# to do takes well under a second): fake-gcs-server, built from its Go module into .tools/bin,
# with the Go module cache in .cache/go (all git-ignored). Cold: about 10 minutes on 2 cores
# (a large dependency tree), ~700 MB of module downloads; cache .tools/bin in CI.
#
# Why fake-gcs-server: it serves the GCS JSON API (media, multipart and resumable uploads,
# ranged reads, generation preconditions -> 412, listing with delimiter and page tokens) over
# a directory, which is what the official client speaks to.
# Env: IMSYNC_GCS_FORCE=1 rebuilds even when the stamp matches.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
version="v1.56.1"
module="github.com/fsouza/fake-gcs-server"
bin_dir="$root/.tools/bin"
bin="$bin_dir/fake-gcs-server"
stamp="$bin_dir/.fake-gcs-server-version"

say() { echo "setup-gcs: $*" >&2; }
die() {
  echo "setup-gcs: ERROR: $*" >&2
  exit 1
}

if [ "${IMSYNC_GCS_FORCE:-0}" != 1 ] && [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  say "fake-gcs-server $version up to date (.tools/bin)"
  exit 0
fi
command -v go >/dev/null 2>&1 || die "go not found; it is needed once to build fake-gcs-server $version (https://go.dev/dl, or apt-get install golang-go)"
say "building fake-gcs-server $version from the Go module proxy into .tools/bin (about 10 minutes, once)"
mkdir -p "$bin_dir" "$root/.cache/go"
start=$SECONDS
GOBIN="$bin_dir" GOMODCACHE="$root/.cache/go/mod" GOCACHE="$root/.cache/go/build-gcs" GOFLAGS="-modcacherw" \
  go install -trimpath -ldflags "-s -w" "$module@$version" ||
  die "go install $module@$version failed"
[ -x "$bin" ] || die "go install did not produce $bin"
echo "$version" >"$stamp"
# The build cache serves no later run; the module cache stays for a version bump.
GOCACHE="$root/.cache/go/build-gcs" go clean -cache 2>/dev/null || true
say "built fake-gcs-server $version in $((SECONDS - start)) s"
