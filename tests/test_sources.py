"""Where credentials come from: the kubelet search paths and their precedence (docs/kubelet.md
§b.2), pull secrets before node files (§d), and canary secrets planted in every kind of source that
must never appear in anything pullkey prints other than the exec response itself."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from conftest import Node, request, write_config

CANARY = "CANARY-9d2e-never-print"


def usernames(run: object) -> list[str]:
    resp = json.loads(run.stdout)  # type: ignore[attr-defined]
    auth = resp.get("auth", {})
    # Keys of the Image ladder sort in the kubelet's order when sorted descending.
    return [auth[k]["username"] for k in sorted(auth, reverse=True)]


def lay_out_search_paths(node: Node) -> None:
    write_config(node.root / "config.json", {"r.example": {"username": "root-json", "password": "x"}})
    write_config(node.cwd / "config.json", {"r.example": {"username": "cwd-json", "password": "x"}})
    write_config(node.home / ".docker" / "config.json", {"r.example": {"username": "home-json", "password": "x"}})
    (node.root / ".dockercfg").write_text(json.dumps({"r.example": {"username": "root-cfg", "password": "x"}}))
    (node.home / ".dockercfg").write_text(json.dumps({"r.example": {"username": "home-cfg", "password": "x"}}))


def test_merge_keeps_every_file_in_search_order(node: Node) -> None:
    lay_out_search_paths(node)
    run = node.run(request("r.example/app"), "--cache-policy", "Image")
    assert run.returncode == 0, run.stderr
    assert usernames(run) == ["root-json", "cwd-json", "home-json", "root-cfg", "home-cfg"]


@pytest.mark.parametrize(
    ("remove", "winner"),
    [
        ([], "root-json"),
        (["root/config.json"], "cwd-json"),
        (["root/config.json", "cwd/config.json"], "home-json"),
        (["root/config.json", "cwd/config.json", "home/.docker/config.json"], "root-cfg"),
        (["root/config.json", "cwd/config.json", "home/.docker/config.json", "root/.dockercfg"], "home-cfg"),
    ],
)
def test_first_policy_is_the_kubelets_first_parseable_file(node: Node, remove: list[str], winner: str) -> None:
    lay_out_search_paths(node)
    base = {"root": node.root, "cwd": node.cwd, "home": node.home}
    for rel in remove:
        top, _, rest = rel.partition("/")
        (base[top] / rest).unlink()
    run = node.run(request("r.example/app"), "--search-policy", "first")
    assert usernames(run) == [winner]


def test_first_policy_skips_unparseable_files_and_an_empty_config_still_wins(node: Node) -> None:
    lay_out_search_paths(node)
    (node.root / "config.json").write_text("{broken")
    run = node.run(request("r.example/app"), "--search-policy", "first")
    assert usernames(run) == ["cwd-json"]
    (node.cwd / "config.json").write_text("{}")
    run = node.run(request("r.example/app"), "--search-policy", "first")
    assert usernames(run) == [], "a valid empty config.json wins and hides every later file (kubelet)"


def secret_manifest(name: str, auths: dict[str, dict[str, str]], namespace: str = "team") -> dict[str, object]:
    payload = base64.b64encode(json.dumps({"auths": auths}).encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": payload},
    }


def test_pull_secrets_come_before_node_files(node: Node, tmp_path: Path) -> None:
    write_config(node.root / "config.json", {"r.example/app": {"username": "node-specific", "password": "x"}})
    manifests = tmp_path / "secrets.json"
    manifests.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    secret_manifest("a", {"r.example": {"username": "secret-a", "password": "x"}}),
                    secret_manifest("b", {"r.example": {"username": "secret-b", "password": "x"}}),
                ],
            }
        )
    )
    mounted = tmp_path / "secrets.d" / "mounted"
    mounted.mkdir(parents=True)
    (mounted / ".dockerconfigjson").write_text(
        json.dumps({"auths": {"r.example": {"username": "mounted", "password": "x"}}})
    )
    cfg = tmp_path / "pullkey.json"
    cfg.write_text(
        json.dumps(
            {
                "apiVersion": "pullkey.dev/v1alpha1",
                "kind": "ProviderConfig",
                "sources": [
                    {"type": "PullSecret", "path": str(manifests)},
                    {"type": "PullSecretDir", "path": str(tmp_path / "secrets.d")},
                    {"type": "SearchPaths"},
                ],
            }
        )
    )
    run = node.run(request("r.example/app"), "--config", str(cfg))
    assert run.returncode == 0, run.stderr
    # One keyring for every secret, then the node keyring: a more specific node key still comes last.
    assert usernames(run) == ["secret-a", "secret-b", "mounted", "node-specific"]
    out = json.loads(node.run(None, "explain", "--json", "--config", str(cfg), "r.example/app").stdout)
    assert [c["source"] for c in out["credentials"]][:2] == [
        f"{manifests} (secret team/a)",
        f"{manifests} (secret team/b)",
    ]


def test_canaries_in_every_source_never_leak(node: Node, tmp_path: Path) -> None:
    auth = base64.b64encode(f"canary-user:{CANARY}".encode()).decode()
    write_config(
        node.root / "config.json",
        {"r.example": {"auth": auth}, "https://u:" + CANARY + "@x.example": {"password": CANARY}},
    )
    write_config(
        node.home / ".docker" / "config.json",
        {"r.example": {"username": "h", "password": CANARY, "identitytoken": CANARY}},
    )
    (node.root / ".dockercfg").write_text('{"r.example": {"auth": "' + CANARY + '"}}')  # broken: not base64
    (node.cwd / "config.json").write_text(
        '{"auths": {"r.example": {"username": ' + json.dumps(CANARY) + ", }}}"
    )  # bad JSON
    manifests = tmp_path / "secret.yaml"
    manifests.write_text(json.dumps(secret_manifest("s", {"r.example": {"username": "s", "password": CANARY}})))
    broken_secret = tmp_path / "broken.yaml"
    broken_secret.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: bad}\ntype: kubernetes.io/dockerconfigjson\n"
        f"data:\n  .dockerconfigjson: {CANARY}\n"
    )
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"r.example": {"password": CANARY, "auth": ""}}))
    cfg = tmp_path / "pullkey.json"
    cfg.write_text(
        json.dumps(
            {
                "apiVersion": "pullkey.dev/v1alpha1",
                "kind": "ProviderConfig",
                "sources": [
                    {"type": "PullSecret", "path": str(manifests)},
                    {"type": "PullSecret", "path": str(broken_secret)},
                    {"type": "SearchPaths"},
                    {"type": "DockerConfig", "path": str(extra), "format": "dockercfg"},
                ],
            }
        )
    )
    printed = b""
    run = node.run(request("r.example/app"), "--config", str(cfg), "--v=9")
    assert run.returncode == 0
    assert CANARY.encode() in run.stdout, "the response itself carries the passwords"
    printed += run.stderr
    for args in (
        ["--strict"],
        ["--search-policy", "first", "--strict"],
    ):
        failed = node.run(request("r.example/app"), "--config", str(cfg), *args)
        assert failed.returncode == 1
        printed += failed.stdout + failed.stderr
    for args in (["explain", "r.example/app"], ["explain", "--json", "r.example/app"], ["check"], ["kubelet-config"]):
        out = node.run(None, *args, "--config", str(cfg))
        printed += out.stdout + out.stderr
    assert b"r.example" in printed
    assert CANARY.encode() not in printed


def test_a_configured_file_that_is_missing_is_a_warning_or_a_strict_error(node: Node, tmp_path: Path) -> None:
    write_config(node.root / "config.json", {"r.example": {"username": "root", "password": "x"}})
    cfg = tmp_path / "pullkey.json"
    missing = tmp_path / "gone.json"
    cfg.write_text(
        json.dumps(
            {
                "apiVersion": "pullkey.dev/v1alpha1",
                "kind": "ProviderConfig",
                "sources": [{"type": "SearchPaths"}, {"type": "DockerConfig", "path": str(missing)}],
            }
        )
    )
    run = node.run(request("r.example/app"), "--config", str(cfg), "--v=1")
    assert run.returncode == 0 and usernames(run) == ["root"]
    assert f"{missing}: docker config file does not exist" in run.stderr.decode()
    strict = node.run(request("r.example/app"), "--config", str(cfg), "--strict")
    assert strict.returncode == 1 and strict.stdout == b""
    assert f"{missing}: docker config file does not exist" in strict.stderr.decode()
