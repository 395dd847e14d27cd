#!/usr/bin/env bash
# Installs the S3-compatible server the S3 storage tests run against (idempotent; a re-run with
# nothing to do takes well under a second): Versity's versitygw, built from its Go module into
# .tools/bin, with the Go module cache in .cache/go (all git-ignored). Cold: 2 to 6 minutes on
# 2 cores (about 6 measured on 2 busy ones), ~340 MB of module downloads.
#
# Why versitygw: it is a real S3 gateway over a POSIX directory (not a mock): it checks SigV4
# signatures (so bad credentials give a real 403), pages ListObjectsV2 at 1000 keys, does ranged
# GETs, multipart uploads and conditional writes (If-None-Match: *), and it builds from the Go
# module proxy in a few minutes. MinIO is as faithful but a much larger build; moto is a mock
# that accepts any credentials.
# Needs: go >= 1.25 (the module's go directive; an older go fetches that toolchain from the Go
# module proxy by itself). Env: IMSYNC_S3_FORCE=1 rebuilds even when the stamp matches.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
version="v1.8.0"
module="github.com/versity/versitygw"
bin_dir="$root/.tools/bin"
bin="$bin_dir/versitygw"
stamp="$bin_dir/.versitygw-version"

say() { echo "setup-s3: $*" >&2; }
die() {
  echo "setup-s3: ERROR: $*" >&2
  exit 1
}

if [ "${IMSYNC_S3_FORCE:-0}" != 1 ] && [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  say "versitygw $version up to date (.tools/bin)"
  exit 0
fi
command -v go >/dev/null 2>&1 || die "go not found; it is needed once to build versitygw $version (https://go.dev/dl, or apt-get install golang-go)"
say "building versitygw $version from the Go module proxy into .tools/bin (a few minutes, once)"
mkdir -p "$bin_dir" "$root/.cache/go"
# -modcacherw: the module cache stays deletable with a plain rm -rf .cache.
start=$SECONDS
GOBIN="$bin_dir" GOMODCACHE="$root/.cache/go/mod" GOCACHE="$root/.cache/go/build" GOFLAGS="-modcacherw" \
  go install -trimpath -ldflags "-s -w" "$module/cmd/versitygw@$version" ||
  die "go install $module/cmd/versitygw@$version failed"
[ -x "$bin" ] || die "go install did not produce $bin"
echo "$version" >"$stamp"
# The build cache (~400 MB) serves no later run; the module cache stays for a version bump.
GOCACHE="$root/.cache/go/build" go clean -cache 2>/dev/null || true
say "built versitygw $version in $((SECONDS - start)) s"
