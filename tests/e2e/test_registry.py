"""pullkey's credentials open a real registry, and only the right one.

Real parts only: Debian's docker-registry (distribution v2.8) with bcrypt htpasswd auth, skopeo as
the puller, the installed ``pullkey`` executed the way the kubelet executes a credential plugin, and
``pullkey serve`` over a Unix socket. See tests/e2e/README.md.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import Registries
from .harness import (
    AUTH_REFUSED,
    IMAGE_PATH,
    Cred,
    ExecProvider,
    Registry,
    Skopeo,
    docker_config,
    exec_plugin,
    kubelet_pull,
    provider_config_yaml,
    pull_secret_yaml,
    pulled_layer_digests,
    pullkey_executable,
    write_atomically,
)

LAYOUTS = ["root-dir", "home", "cwd", "pull-secret"]


def assert_refused(proc: subprocess.CompletedProcess[str], what: str) -> None:
    assert proc.returncode != 0, f"{what}: the pull succeeded but should have been refused"
    assert AUTH_REFUSED.search(proc.stderr), f"{what}: refused, but not for authentication:\n{proc.stderr}"


def assert_pulled(registries: Registries, registry: Registry, layout: Path) -> None:
    """The pulled layout holds the layer that was pushed into *this* registry (content differs per registry)."""
    assert registries.images[registry.name].layer_digest in pulled_layer_digests(layout)


# --------------------------------------------------------------------------------------------------
# The fixture on its own: hand-written credentials, no pullkey involved.


@pytest.mark.parametrize("name", ["a", "b"])
def test_registry_fixture_opens_only_with_its_own_credentials(
    registries: Registries, skopeo: Skopeo, pulls: Path, name: str
) -> None:
    reg, other = registries.pair(name)
    assert reg.port != other.port

    ok = skopeo.pull(reg, pulls / "ok", reg.cred)
    assert ok.returncode == 0, ok.stderr
    assert_pulled(registries, reg, pulls / "ok")
    assert registries.images[other.name].layer_digest not in pulled_layer_digests(pulls / "ok")

    assert_refused(skopeo.pull(reg, pulls / "none", None), f"registry {name} without credentials")
    assert_refused(
        skopeo.pull(reg, pulls / "other", other.cred),
        f"registry {name} with registry {other.name}'s credentials",
    )
    assert_refused(
        skopeo.pull(reg, pulls / "wrong", Cred(reg.user, reg.password + "x")), f"registry {name} with a wrong password"
    )


# --------------------------------------------------------------------------------------------------
# Node credentials laid out the way the seed page describes (the kubelet search paths + a pull secret)


@dataclass(frozen=True)
class Node:
    """A node's credential files and how the kubelet would run pullkey on it."""

    provider: ExecProvider
    home: Path  # the kubelet's $HOME
    cwd: Path  # the kubelet's working directory
    right_key: str
    right: Cred
    wrong: Cred  # a matching decoy with a wrong password (its key sorts before the right key)
    write_right: Callable[[Cred], None]  # (re)write the file that holds the right credential, atomically
    secret_first: bool = False  # the right credential comes from a pull secret, tried before node files

    def order(self, right: Cred) -> list[Cred]:
        """The credentials the kubelet should end up trying, in order, when *right* is the good one.

        Node files alone: by key, the longer matching key first (docs/kubelet.md §c.3), so the decoy
        and then the right key. A pull secret: its credentials before every node-file credential
        (spec §d), which pullkey reproduces through its source precedence.
        """
        return [right, self.wrong] if self.secret_first else [self.wrong, right]


def lay_out_node(tmp: Path, layout: str, target: Registry, other: Registry) -> Node:
    """Write credential files for *target* in one layout, with decoys around them.

    Decoys: a matching path-scoped key with a wrong password (it sorts before the right key,
    docs/kubelet.md §c.3, so from node files it is tried first and refused), a key for the other
    registry's port, a key whose path does not match, and a key without a port (never matches a host
    with a port, §c.2.2).
    """
    root, home, cwd = tmp / "root", tmp / "home", tmp / "cwd"
    for d in (root, home, cwd, home / ".docker"):
        d.mkdir(parents=True, exist_ok=True)
    wrong = Cred(target.user, "wrong-" + secrets.token_hex(6))
    decoys = {
        f"{target.host}/{IMAGE_PATH}": wrong,
        other.host: Cred("mallory", "wrong-" + secrets.token_hex(6)),
        f"{target.host}/elsewhere": Cred("eve", "wrong-" + secrets.token_hex(6)),
        "127.0.0.1": Cred("trent", "wrong-" + secrets.token_hex(6)),
    }
    if layout == "root-dir":
        # <root-dir>/config.json, path-scoped key; root dir passed as the kubelet-config args would.
        right_key = f"{target.host}/team"
        path, auth_field = root / "config.json", False
        provider = ExecProvider(args=["--root-dir", str(root)], env={})
    elif layout == "home":
        # $HOME/.docker/config.json, glob key: every dotted label is globbed, the port is exact (§c.2).
        right_key = f"127.0.0.*:{target.port}"
        path, auth_field = home / ".docker" / "config.json", True
        provider = ExecProvider(args=[], env={"PULLKEY_ROOT_DIR": str(root)})
    elif layout == "cwd":
        # <cwd of kubelet>/config.json, key written with a scheme and the /v2/ prefix (§c.1.3).
        right_key = f"http://{target.host}/v2/team/"
        path, auth_field = cwd / "config.json", False
        provider = ExecProvider(args=["--v=2", "--root-dir", str(root)], env={})
    elif layout == "pull-secret":
        # A pull-secret manifest (port-specific key) plus the search paths (decoys in <root>/config.json).
        right_key = target.host
        path, auth_field = tmp / "pull-secret.yaml", False
        write_atomically(root / "config.json", docker_config(decoys))
        decoys = {}
        cfg = tmp / "pullkey.yaml"
        cfg.write_text(provider_config_yaml([{"type": "PullSecret", "path": str(path)}, {"type": "SearchPaths"}]))
        provider = ExecProvider(args=["--config", str(cfg)], env={"PULLKEY_ROOT_DIR": str(root)})
    else:
        raise AssertionError(layout)

    def write_right(cred: Cred) -> None:
        text = docker_config({**decoys, right_key: cred}, use_auth_field=auth_field)
        write_atomically(path, pull_secret_yaml("regcred", text) if layout == "pull-secret" else text)

    write_right(target.cred)
    return Node(provider, home, cwd, right_key, target.cred, wrong, write_right, layout == "pull-secret")


@pytest.mark.parametrize("name", ["a", "b"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_exec_plugin_credentials_open_the_registry(
    registries: Registries, skopeo: Skopeo, tmp_path: Path, pulls: Path, name: str, layout: str
) -> None:
    reg, other = registries.pair(name)
    node = lay_out_node(tmp_path / "node", layout, reg, other)

    result = exec_plugin(node.provider, reg.repo, kubelet_home=node.home, kubelet_cwd=node.cwd)

    # The kubelet's keyring over the response: from node files the matching decoy sorts first, then
    # the right key; a pull secret goes first. The other port, the other path and the port-less key
    # never match.
    expected = node.order(node.right)
    assert result.credentials == expected, f"keys in the response: {result.keys}"

    outcome = kubelet_pull(skopeo, reg, result.credentials, pulls)
    assert outcome.opened_with == expected.index(node.right), "the right credential did not open the registry"
    for stderr in outcome.refusals:  # the decoy, when the kubelet tries it before the right one
        assert AUTH_REFUSED.search(stderr), stderr
    assert outcome.layout is not None
    assert_pulled(registries, reg, outcome.layout)

    # The credential that opened this registry does not open the other one.
    assert_refused(skopeo.pull(other, pulls / "cross", node.right), f"registry {other.name} with {name}'s credential")


def test_no_credentials_and_foreign_credentials_are_refused(
    registries: Registries, skopeo: Skopeo, tmp_path: Path, pulls: Path
) -> None:
    """What pullkey returns for one registry does not open the other; nothing opens neither."""
    got = {}
    for name in ("a", "b"):
        reg, other = registries.pair(name)
        node = lay_out_node(tmp_path / name, "root-dir", reg, other)
        got[name] = exec_plugin(node.provider, reg.repo, kubelet_home=node.home, kubelet_cwd=node.cwd).credentials
    for name in ("a", "b"):
        reg, other = registries.pair(name)
        assert_refused(skopeo.pull(reg, pulls / f"{name}-none", None), f"registry {name} without credentials")
        outcome = kubelet_pull(skopeo, reg, got[other.name], pulls / f"{name}-foreign")
        assert outcome.opened_with is None, f"registry {name} opened with registry {other.name}'s credentials"
        assert len(outcome.refusals) == len(got[other.name]) == 2
        for stderr in outcome.refusals:
            assert AUTH_REFUSED.search(stderr), stderr


def test_nothing_matches_an_unknown_path(registries: Registries, tmp_path: Path) -> None:
    """An image outside every key's path gets no credentials from this node (only path-scoped keys exist)."""
    reg, other = registries.pair("a")
    node = lay_out_node(tmp_path / "node", "root-dir", reg, other)
    result = exec_plugin(node.provider, f"{reg.host}/nobody/app", kubelet_home=node.home, kubelet_cwd=node.cwd)
    assert result.credentials == []


# --------------------------------------------------------------------------------------------------
# Rotation


@pytest.mark.parametrize("layout", ["root-dir", "pull-secret"])
def test_rotated_password_is_picked_up(
    registries: Registries, skopeo: Skopeo, tmp_path: Path, pulls: Path, layout: str
) -> None:
    reg, other = registries.pair("a")
    original = reg.cred
    node = lay_out_node(tmp_path / "node", layout, reg, other)
    before = exec_plugin(node.provider, reg.repo, kubelet_home=node.home, kubelet_cwd=node.cwd)
    assert before.credentials == node.order(original)
    assert kubelet_pull(skopeo, reg, before.credentials, pulls / "before").opened_with is not None

    new = Cred(reg.user, secrets.token_urlsafe(18))
    try:
        reg.rotate_password(new.password)
        node.write_right(new)  # the node's file is rewritten atomically, as a config manager would

        after = exec_plugin(node.provider, reg.repo, kubelet_home=node.home, kubelet_cwd=node.cwd)
        assert after.credentials == node.order(new)
        outcome = kubelet_pull(skopeo, reg, after.credentials, pulls / "after")
        assert outcome.opened_with == node.order(new).index(new)
        assert outcome.layout is not None
        assert_pulled(registries, reg, outcome.layout)
        assert_refused(skopeo.pull(reg, pulls / "old", original), "the old password after rotation")
    finally:
        reg.rotate_password(original.password)


# --------------------------------------------------------------------------------------------------
# The same through the gRPC service


def test_grpc_service_credentials_open_the_registry(
    registries: Registries, skopeo: Skopeo, tmp_path: Path, pulls: Path
) -> None:
    import grpc
    from pullkey.v1 import credential_pb2, credential_pb2_grpc

    reg, other = registries.pair("b")
    node = lay_out_node(tmp_path / "node", "pull-secret", reg, other)
    cfg = node.provider.args[node.provider.args.index("--config") + 1]
    sock_dir = tmp_path / "run"
    sock_dir.mkdir(mode=0o700)
    sock = sock_dir / "pullkey.sock"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(node.home), **node.provider.env}
    stderr_path = tmp_path / "serve.stderr"
    with stderr_path.open("wb") as err:
        server = subprocess.Popen(
            [pullkey_executable(), "serve", "--listen", f"unix://{sock}", "--config", cfg],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=node.cwd,
        )
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"pullkey serve did not create {sock}:\n{stderr_path.read_text(errors='replace')}")
            time.sleep(0.05)
        with grpc.insecure_channel(f"unix://{sock}") as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
            stub = credential_pb2_grpc.CredentialServiceStub(channel)

            def get_credentials() -> list[Cred]:
                answer = stub.GetCredentials(credential_pb2.GetCredentialsRequest(image=reg.repo), timeout=10)
                assert answer.repository == reg.repo
                return [Cred(c.username, c.password) for c in answer.credentials]

            # The service answers in kubelet order, like the exec plugin's response through the kubelet keyring.
            creds = get_credentials()
            via_exec = exec_plugin(node.provider, reg.repo, kubelet_home=node.home, kubelet_cwd=node.cwd)
            assert creds == via_exec.credentials == node.order(node.right)
            outcome = kubelet_pull(skopeo, reg, creds, pulls / "first")
            assert outcome.opened_with == node.order(node.right).index(node.right)
            assert outcome.layout is not None
            assert_pulled(registries, reg, outcome.layout)

            # Rotation through a running service: new password in the registry and in the pull secret,
            # then a Reload; the next answer carries the new password and it opens the registry.
            new = Cred(reg.user, secrets.token_urlsafe(18))
            try:
                reg.rotate_password(new.password)
                node.write_right(new)
                reloaded = stub.Reload(credential_pb2.ReloadRequest(), timeout=10)
                assert reloaded.loaded, reloaded.message
                rotated = get_credentials()
                assert rotated == node.order(new)
                outcome = kubelet_pull(skopeo, reg, rotated, pulls / "rotated")
                assert outcome.opened_with == node.order(new).index(new)
                assert_refused(skopeo.pull(reg, pulls / "old", node.right), "the old password after rotation")
            finally:
                reg.rotate_password(node.right.password)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
