#!/bin/sh
# Install what tests/e2e needs: Debian's distribution registry server, skopeo, and htpasswd (bcrypt).
# Idempotent: does nothing when every tool is already on PATH. Needs root (or sudo) to install.
# The tests FAIL (never skip) without these tools and point here.
set -eu

PACKAGES="docker-registry skopeo apache2-utils"

missing=""
for tool in docker-registry skopeo htpasswd; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -z "$missing" ]; then
    echo "install-e2e-deps: docker-registry, skopeo and htpasswd are already installed"
    exit 0
fi
echo "install-e2e-deps: missing:$missing; installing $PACKAGES"

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-e2e-deps: need root or sudo to install $PACKAGES" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Try with the current package lists first; refresh them only if that fails.
# shellcheck disable=SC2086  # word splitting of $PACKAGES / $SUDO is intended
if ! $SUDO apt-get install -y --no-install-recommends $PACKAGES; then
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends $PACKAGES
fi

for tool in docker-registry skopeo htpasswd; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "install-e2e-deps: $tool still missing after installing $PACKAGES" >&2
        exit 1
    fi
done
echo "install-e2e-deps: ok"
