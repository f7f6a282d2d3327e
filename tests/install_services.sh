#!/usr/bin/env bash
# Idempotently install the real services the image's end-to-end tests drive:
# PostgreSQL (server binaries), MariaDB (server binaries), Azurite (npm), an
# unprivileged `pgtest` user (PostgreSQL and MariaDB refuse to run as root), and
# podman + runc with a stand-in base image for the container tests (tests/container/).
# moto and the GCS emulator come from the Python venv (pyproject [test] extra).
# Target: a fresh Debian 12 machine, run as root (CI=true). Safe to re-run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

need_apt=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    need_apt+=(postgresql)
fi
if ! command -v mariadbd >/dev/null 2>&1 && ! [ -x /usr/sbin/mariadbd ]; then
    need_apt+=(mariadb-server)
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    need_apt+=(nodejs npm)
fi
if ! command -v runuser >/dev/null 2>&1; then
    need_apt+=(util-linux)
fi
for tool in podman runc debootstrap; do
    if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ]; then
        need_apt+=("$tool")
    fi
done
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "install_services: apt-get install ${need_apt[*]}"
    apt-get update -q
    # --no-install-recommends keeps it small; policy-rc.d stops the package
    # scripts from starting system services (the tests start their own).
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -q --no-install-recommends "${need_apt[@]}"
    rm -f /usr/sbin/policy-rc.d
fi

# An unprivileged user that owns the test databases' data directories.
if ! id pgtest >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin pgtest
fi

# Azurite (Azure Blob emulator), pinned in tests/image/node/package.json (+ lock file).
# 3.35.0 runs on Debian 12's nodejs 18; azurite 3.36+ needs node >= 21.
azurite_pin="$(sed -n 's/.*"azurite": *"\([^"]*\)".*/\1/p' "$here/image/node/package.json")"
azurite_bin="$here/image/node/node_modules/.bin/azurite-blob"
if ! [ -x "$azurite_bin" ] || [ "$("$azurite_bin" --version 2>/dev/null)" != "$azurite_pin" ]; then
    # npm ci installs exactly the committed package-lock.json.
    (cd "$here/image/node" && npm ci --no-audit --no-fund --loglevel=error)
fi

# podman on these machines: crun (podman's default runtime) fails on this kernel's hybrid
# cgroups ("cgroups in hybrid mode not supported"), and the container start is denied the
# setrlimit of podman's default ulimits and the pids limit. A drop-in, not containers.conf
# itself, so a machine's own settings stay as they are.
mkdir -p /etc/containers/containers.conf.d
cat > /etc/containers/containers.conf.d/90-mlflow-tests.conf <<'CONF'
# Written by tests/install_services.sh for the container tests (tests/container/).
[containers]
default_ulimits = []
pids_limit = 0

[engine]
runtime = "runc"
CONF
# The stand-in for python:3.11-slim-bookworm (no registry is reachable here).
bash "$here/container/make_base.sh"

echo "install_services: ok"
ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null || command -v initdb
command -v mariadbd || ls /usr/sbin/mariadbd
"$here/image/node/node_modules/.bin/azurite-blob" --version
podman --version
