"""Docker credential helpers, both ways, against the end-to-end registries (issue 12; docs/helpers.md).

Real parts nobody here wrote: Debian's ``docker-credential-pass`` (golang-docker-credential-helpers)
over ``pass`` and a throwaway GPG key made by the test (batch mode, no passphrase, an isolated
GNUPGHOME and PASSWORD_STORE_DIR); skopeo as a client of ``docker-credential-pullkey``; the
distribution registry. Tools come from scripts/install-e2e-deps.sh; a missing one FAILS the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import Registries
from .harness import (
    AUTH_REFUSED,
    IMAGE_TAG,
    INSTALL_HINT,
    ExecProvider,
    Skopeo,
    docker_config,
    exec_plugin,
    kubelet_pull,
    pulled_layer_digests,
)

BIN = Path(sys.executable).parent
COPY = ("copy", "--retry-times=0", "--src-tls-verify=false")
KEY_SPEC = ("default", "default", "never")  # algorithm, usage, expiry of the throwaway key


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"tools missing: {', '.join(missing)}; {INSTALL_HINT}", pytrace=False)


@dataclass
class PassStore:
    """``pass`` initialised with a fresh passphrase-less GPG key, both under ``root``."""

    root: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.root / "home"),
            "GNUPGHOME": str(self.root / "gnupg"),
            "PASSWORD_STORE_DIR": str(self.root / "store"),
        }

    def run(self, args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, input=stdin, capture_output=True, env=self.env, timeout=60, check=False)

    def setup(self) -> None:
        (self.root / "home").mkdir(parents=True)
        (self.root / "gnupg").mkdir(mode=0o700)
        made = self.run(
            ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "pullkey-e2e <e2e@pullkey.invalid>", *KEY_SPEC]
        )
        assert made.returncode == 0, made.stderr.decode()
        listed = self.run(["gpg", "--batch", "--with-colons", "--list-secret-keys"]).stdout.decode()
        fingerprint = next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr:"))
        init = self.run(["pass", "init", fingerprint])
        assert init.returncode == 0, init.stderr.decode()

    def store(self, server_url: str, username: str, secret: str) -> None:
        payload = json.dumps({"ServerURL": server_url, "Username": username, "Secret": secret}).encode()
        stored = self.run(["docker-credential-pass", "store"], payload)
        assert stored.returncode == 0, stored.stdout.decode() + stored.stderr.decode()

    def close(self) -> None:
        self.run(["gpgconf", "--kill", "gpg-agent"])


@pytest.fixture
def pass_store(tmp_path: Path) -> Iterator[PassStore]:
    need("docker-credential-pass", "pass", "gpg", "gpgconf")
    store = PassStore(tmp_path / "pass")
    store.setup()
    try:
        yield store
    finally:
        store.close()


def test_a_credential_in_docker_credential_pass_opens_the_registry(
    registries: Registries, skopeo: Skopeo, pass_store: PassStore, tmp_path: Path
) -> None:
    """docker login's layout: ``credsStore: pass`` in the node's config.json, no password in any file."""
    reg, other = registries.pair("a")
    pass_store.store(reg.host, reg.user, reg.password)
    # The helper answers for its registry on its own (the real program, the real store).
    direct = pass_store.run(["docker-credential-pass", "get"], reg.host.encode())
    assert direct.returncode == 0 and json.loads(direct.stdout)["Username"] == reg.user

    home, cwd, root = tmp_path / "kubelet-home", tmp_path / "cwd", tmp_path / "root"
    for d in (home / ".docker", cwd, root):
        d.mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"auths": {reg.host: {}}, "credsStore": "pass"}))
    config = tmp_path / "pullkey.yaml"
    config.write_text(
        "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n"
        f"rootDir: {root}\n"
        "helpers:\n  enabled: true\n  allow: [pass]\n  env: [HOME, GNUPGHOME, PASSWORD_STORE_DIR]\n"
    )
    assert reg.password not in config.read_text() + (root / "config.json").read_text()
    provider = ExecProvider(
        args=["--config", str(config)],
        env={k: v for k, v in pass_store.env.items() if k in ("GNUPGHOME", "PASSWORD_STORE_DIR")},
    )
    result = exec_plugin(provider, reg.repo, kubelet_home=home, kubelet_cwd=cwd)
    assert result.credentials[0].username == reg.user
    outcome = kubelet_pull(skopeo, reg, result.credentials, tmp_path / "pulls")
    assert outcome.opened_with == 0 and outcome.layout is not None
    assert registries.images[reg.name].layer_digest in pulled_layer_digests(outcome.layout)

    # The other registry: the store has nothing for it; the file's empty entry is all the kubelet gets.
    result_other = exec_plugin(provider, other.repo, kubelet_home=home, kubelet_cwd=cwd)
    assert all(c.password != reg.password for c in result_other.credentials)
    assert kubelet_pull(skopeo, other, result_other.credentials, tmp_path / "pulls-other").opened_with is None

    # explain names the helper, its outcome and duration, never the secret.
    explained = subprocess.run(
        [str(BIN / "pullkey"), "explain", "--config", str(config), reg.repo],
        capture_output=True,
        text=True,
        env={**pass_store.env, "HOME": str(home)},
        check=True,
    ).stdout
    assert f"docker-credential-pass for {reg.host}" in explained and "found" in explained
    assert reg.password not in explained


def test_skopeo_pulls_through_docker_credential_pullkey(registries: Registries, tmp_path: Path) -> None:
    """skopeo's auth file holds only ``credHelpers`` naming pullkey: it opens the registry pullkey has a
    credential for and is refused by the other one."""
    need("skopeo")
    reg, other = registries.pair("a")
    node_config = tmp_path / "node-config.json"
    node_config.write_text(docker_config({reg.host: reg.cred}))
    config = tmp_path / "pullkey.yaml"
    config.write_text(
        "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n"
        f"sources:\n  - type: DockerConfig\n    path: {node_config}\n"
    )
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"credHelpers": {reg.host: "pullkey", other.host: "pullkey"}}))
    env = {
        "PATH": f"{BIN}{os.pathsep}/usr/bin:/bin",  # docker-credential-pullkey is found on PATH
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / ".config"),
        "PULLKEY_CONFIG": str(config),
    }

    def pull(repo: str, dest: Path, conf: str | None = None) -> subprocess.CompletedProcess[str]:
        """skopeo copy with the auth file, or (``conf``) with that registries.conf and no auth file."""
        options = ["--authfile", str(auth_file)] if conf is None else []
        global_options = [] if conf is None else [f"--registries-conf={conf}"]
        source, target = f"docker://{repo}:{IMAGE_TAG}", f"oci:{dest}:{IMAGE_TAG}"
        return subprocess.run(
            ["skopeo", "--insecure-policy", *global_options, *COPY, *options, source, target],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    ok = pull(reg.repo, tmp_path / "ok")
    assert ok.returncode == 0, ok.stderr
    assert registries.images[reg.name].layer_digest in pulled_layer_digests(tmp_path / "ok")
    refused = pull(other.repo, tmp_path / "refused")
    assert refused.returncode != 0 and AUTH_REFUSED.search(refused.stderr), refused.stderr
    assert reg.password not in ok.stderr + refused.stderr
    # skopeo's own question, answered directly: the same helper protocol.
    inspect = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--authfile", str(auth_file), f"docker://{reg.repo}:{IMAGE_TAG}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert inspect.returncode == 0, inspect.stderr

    # The same through registries.conf `credential-helpers` (containers-registries.conf(5)), with no
    # auth file at all (an explicit --authfile would be the only source consulted).
    registries_conf = tmp_path / "registries.conf"
    registries_conf.write_text('credential-helpers = [ "pullkey" ]\n')
    conf = str(registries_conf)
    via_conf = pull(reg.repo, tmp_path / "via-conf", conf)
    assert via_conf.returncode == 0, via_conf.stderr
    refused = pull(other.repo, tmp_path / "refused-conf", conf)
    assert refused.returncode != 0 and AUTH_REFUSED.search(refused.stderr), refused.stderr
    empty_conf = tmp_path / "empty.conf"
    empty_conf.write_text("credential-helpers = [ ]\n")
    without = pull(reg.repo, tmp_path / "without", str(empty_conf))
    assert without.returncode != 0  # no helper, no auth file: no credential, refused
