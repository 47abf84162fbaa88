#!/bin/sh
# Install what tests/e2e needs: Debian's distribution registry server, skopeo, htpasswd (bcrypt), and
# the docker-credential-helpers test parts: docker-credential-pass with pass and gpg (tests/e2e/test_helpers.py).
# Idempotent: does nothing when every tool is already on PATH. Needs root (or sudo) to install.
# The tests FAIL (never skip) without these tools and point here.
set -eu

PACKAGES="docker-registry skopeo apache2-utils golang-docker-credential-helpers pass gnupg"
TOOLS="docker-registry skopeo htpasswd docker-credential-pass pass gpg"

missing=""
for tool in $TOOLS; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -z "$missing" ]; then
    echo "install-e2e-deps: $TOOLS are already installed"
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

for tool in $TOOLS; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "install-e2e-deps: $tool still missing after installing $PACKAGES" >&2
        exit 1
    fi
done
echo "install-e2e-deps: ok"
