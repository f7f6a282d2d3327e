#!/usr/bin/env bash
# Test scaffolding, not the product: a stand-in for the official python:3.11-slim-bookworm
# base image, made from Debian packages, because no container registry is reachable here.
# docker/Dockerfile keeps `FROM python:3.11-slim-bookworm` for real builds; podman finds
# this image under the same name (localhost/...) and builds the Dockerfile unchanged.
#
# The stand-in has what the official image gives a Dockerfile: `python` and `pip` first
# on PATH (a venv made with Debian's python3.11), /usr/sbin on PATH (useradd), CA
# certificates (the host's bundle, so pip in the build reaches the index the host's pip
# reaches), and no compiler. Idempotent: does nothing when the image exists.
set -euo pipefail

image="localhost/python:3.11-slim-bookworm"
if podman image exists "$image"; then
    echo "make_base: $image present"
    exit 0
fi

mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
mirror="${mirror:-http://deb.debian.org/debian}"
root="$(mktemp -d /var/tmp/mlflow-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,passwd \
    bookworm "$root" "$mirror" >/dev/null
chroot "$root" python3 -m venv /usr/local/python
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

tar -C "$root" -c . | podman import \
    --change 'ENV PATH=/usr/local/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$image" >/dev/null
echo "make_base: built $image"
