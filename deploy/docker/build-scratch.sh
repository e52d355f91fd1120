#!/usr/bin/env bash
# Builds the hookproof image FROM scratch with buildah, from a static binary
# built here: no registry is contacted. Usage:
#   deploy/docker/build-scratch.sh [TAG] [VERSION]
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-localhost/hookproof:dev}
version=${2:-}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w ${version:+-X github.com/hookproof/hookproof/harness.Version=$version}" \
  -o "$ctx/hookproof" ./cmd/hookproof
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin\n' >"$ctx/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$ctx/group"
mkdir -m 1777 "$ctx/tmp"
buildah ${BUILDAH_FLAGS:-} build --isolation "${BUILDAH_ISOLATION:-chroot}" -f deploy/docker/Containerfile.scratch -t "$tag" "$ctx"
