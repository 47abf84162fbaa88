"""Upstream kubelet plugins as a source (docs/provider-config.md "Upstream plugins"): a plugin written
here answers in each apiVersion with each cacheKeyType; one fails, one hangs past its timeout, one
prints garbage; and the installed pullkey is the upstream plugin of a second pullkey configuration."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import Node, request, write_config
from pullkey import _core
from pullkey.errors import ConfigError

GROUP = "credentialprovider.kubelet.k8s.io"
PLUGIN = """#!{python}
import json, os, sys, time
req = sys.stdin.buffer.read()
open(os.environ["REQ_LOG"], "ab").write(req)
mode = os.environ.get("MODE", "ok")
if mode == "fail":
    sys.stderr.write("boom s3cret-in-stderr\\n"); sys.exit(3)
if mode == "hang":
    time.sleep(30)
if mode == "garbage":
    sys.stdout.write("not json s3cret-in-garbage"); sys.exit(0)
image = json.loads(req)["image"]
print(json.dumps({{
    "kind": "CredentialProviderResponse",
    "apiVersion": os.environ["API"],
    "cacheKeyType": os.environ["CKT"],
    "cacheDuration": "2m",
    "auth": {{image.split("/")[0]: {{"username": "up-user", "password": "up-s3cret"}}}},
}}))
"""


def plugin(tmp_path: Path) -> Path:
    path = tmp_path / "plugin.py"
    path.write_text(PLUGIN.format(python=sys.executable))
    path.chmod(0o755)
    return path


def config(tmp_path: Path, upstreams: list[dict[str, object]]) -> Path:
    cfg = tmp_path / "pullkey.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "pullkey.dev/v1alpha1",
                "kind": "ProviderConfig",
                "cache": {"duration": "10m"},
                "upstreams": upstreams,
            }
        )
    )
    return cfg


def upstream(
    tmp_path: Path, version: str, ckt: str = "Registry", mode: str = "ok", extra: dict[str, object] | None = None
) -> dict[str, object]:
    return {
        "name": f"up-{mode}",
        "command": str(plugin(tmp_path)),
        "apiVersion": f"{GROUP}/{version}",
        "matchImages": ["up.example"],
        "defaultCacheDuration": "5m",
        "env": [
            {"name": "API", "value": f"{GROUP}/{version}"},
            {"name": "CKT", "value": ckt},
            {"name": "MODE", "value": mode},
            {"name": "REQ_LOG", "value": str(tmp_path / "requests.log")},
        ],
        **(extra or {}),
    }


def ordered_users(answer: dict[str, object]) -> list[str]:
    auth: dict[str, dict[str, str]] = answer["auth"]  # type: ignore[assignment]
    return [auth[k]["username"] for k in sorted(auth, reverse=True)]  # docs/kubelet.md §c.1.6


@pytest.mark.parametrize("ckt", ["Image", "Registry", "Global"])
@pytest.mark.parametrize("version", ["v1", "v1beta1", "v1alpha1"])
def test_upstream_answers_join_after_node_files(node: Node, tmp_path: Path, version: str, ckt: str) -> None:
    write_config(node.root / "config.json", {"up.example": {"username": "node-user", "password": "n"}})
    cfg = config(tmp_path, [upstream(tmp_path, version, ckt)])
    r = node.run(request("up.example/team/app"), "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    answer = r.json()
    assert ordered_users(answer) == ["node-user", "up-user"], "node files first, then the upstream"
    assert answer["cacheKeyType"] == "Image" and answer["cacheDuration"] == "2m0s", "never longer than the upstream's"
    sent = (tmp_path / "requests.log").read_bytes()
    assert sent == (
        f'{{"kind":"CredentialProviderRequest","apiVersion":"{GROUP}/{version}","image":"up.example/team/app"}}\n'.encode()
    )
    # An image the upstream does not match never runs it.
    (tmp_path / "requests.log").unlink()
    r = node.run(request("else.example/x"), "--config", str(cfg))
    assert r.returncode == 0 and not (tmp_path / "requests.log").exists()


@pytest.mark.parametrize(
    ("mode", "extra", "message"),
    [
        ("fail", {}, "pullkey: upstream up-fail: exited with status 3"),
        ("hang", {"timeout": "1s"}, "pullkey: upstream up-hang: no answer within 1s, killed"),
        ("garbage", {}, "pullkey: upstream up-garbage: the response is not a valid CredentialProviderResponse"),
    ],
)
def test_a_failing_upstream_fails_only_its_own_images(
    node: Node, tmp_path: Path, mode: str, extra: dict[str, object], message: str
) -> None:
    write_config(
        node.root / "config.json",
        {"up.example": {"username": "node-user", "password": "n"}, "else.example": {"username": "e", "password": "e"}},
    )
    cfg = config(tmp_path, [upstream(tmp_path, "v1", mode=mode, extra=extra)])
    start = time.monotonic()
    r = node.run(request("up.example/team/app"), "--config", str(cfg))
    assert time.monotonic() - start < 15
    assert r.returncode == 0, r.stderr
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert b"s3cret" not in r.stderr
    answer = r.json()
    assert ordered_users(answer) == ["node-user"] and answer["cacheDuration"] == "0s", "not cached"
    r = node.run(request("else.example/x"), "--config", str(cfg))
    assert r.returncode == 0 and r.stderr == b"" and r.json()["cacheDuration"] == "10m0s"


def test_pullkey_is_the_upstream_of_a_second_pullkey(node: Node, tmp_path: Path, pullkey_bin: Path) -> None:
    first_root = tmp_path / "first"
    first_root.mkdir()
    write_config(first_root / "config.json", {"reg.example": {"username": "first", "password": "f"}})
    first = tmp_path / "first.yaml"
    first.write_text(
        yaml.safe_dump({"apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig", "rootDir": str(first_root)})
    )
    cfg = config(
        tmp_path,
        [
            {
                "name": "first",
                "command": str(pullkey_bin),
                "args": ["--config", str(first)],
                # The upstream inherits pullkey's environment (docs/kubelet.md §e.3); configured env wins.
                "env": [{"name": "PULLKEY_ROOT_DIR", "value": str(first_root)}],
                "apiVersion": f"{GROUP}/v1",
                "matchImages": ["reg.example"],
                "defaultCacheDuration": "1m",
            }
        ],
    )
    r = node.run(request("reg.example/a/b"), "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    answer = r.json()
    assert ordered_users(answer) == ["first"]
    assert answer["cacheKeyType"] == "Image" and answer["cacheDuration"] == "5m0s"  # the first pullkey's default
    gen = node.run(None, "--config", str(cfg), "kubelet-config")
    assert gen.returncode == 0


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        (
            {"command": "/x", "apiVersion": f"{GROUP}/v1", "matchImages": ["a"], "defaultCacheDuration": "1m"},
            "upstreams[0].name",
        ),
        (
            {
                "name": "a",
                "command": "x",
                "apiVersion": f"{GROUP}/v1",
                "matchImages": ["a"],
                "defaultCacheDuration": "1m",
            },
            "upstreams[0].command",
        ),
        (
            {"name": "a", "command": "/x", "apiVersion": "v1", "matchImages": ["a"], "defaultCacheDuration": "1m"},
            "upstreams[0].apiVersion",
        ),
        (
            {"name": "a", "command": "/x", "apiVersion": f"{GROUP}/v1", "defaultCacheDuration": "1m"},
            "upstreams[0].matchImages",
        ),
        (
            {"name": "a", "command": "/x", "apiVersion": f"{GROUP}/v1", "matchImages": ["a"]},
            "upstreams[0].defaultCacheDuration",
        ),
        (
            {
                "name": "a",
                "command": "/x",
                "apiVersion": f"{GROUP}/v1",
                "matchImages": ["a"],
                "defaultCacheDuration": "1m",
                "timeout": "2m",
            },
            "upstreams[0].timeout",
        ),
        (
            {
                "name": "a",
                "command": "/x",
                "apiVersion": f"{GROUP}/v1",
                "matchImages": ["a"],
                "defaultCacheDuration": "1m",
                "env": [{"value": "x"}],
            },
            "upstreams[0].env[0].name",
        ),
        (
            {
                "name": "a",
                "command": "/x",
                "apiVersion": f"{GROUP}/v1",
                "matchImages": ["a"],
                "defaultCacheDuration": "1m",
                "cmd": 1,
            },
            "upstreams[0].cmd",
        ),
    ],
)
def test_upstreams_config_is_strict(entry: dict[str, object], path: str) -> None:
    text = json.dumps({"apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig", "upstreams": [entry]})
    with pytest.raises(ConfigError) as e:
        _core.load_provider_config(text.encode(), "c.json")
    assert e.value.path == path


def test_readme_upstream_example_loads() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("## Another provider's plugin as a source") :]
    start = section.index("```yaml\n") + 8
    body = section[start : section.index("```\n", start)]
    cfg = _core.load_provider_config(body.encode(), "README.md")
    assert [u[0] for u in cfg.upstreams] == ["ecr"] and cfg.upstreams[0][6] == 12 * 3600


@pytest.mark.parametrize("ckt", ["Image", "Registry", "Global"])
@pytest.mark.parametrize("cache_policy", ["auto", "Image", "Registry", "Global"])
def test_kubelet_sees_what_it_would_with_the_upstream_configured_itself(
    node: Node, tmp_path: Path, ckt: str, cache_policy: str
) -> None:
    import random

    from test_kubelet_equivalence import Clock, plugin_keyring

    from oracles.kubelet_sim import ExecPluginKeyring, ProviderConfig, kubelet_credentials, make_docker_keyring
    from oracles.kubelet_sim import node_keyring_first_wins as node_files

    write_config(
        node.root / "config.json",
        {
            "up.example": {"username": "node-up", "password": "n1"},
            "other.example": {"username": "node-o", "password": "n2"},
        },
    )
    up = upstream(tmp_path, "v1", ckt)
    up["matchImages"] = ["up.example", "up2.example"]
    cfg = tmp_path / "pullkey.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "pullkey.dev/v1alpha1",
                "kind": "ProviderConfig",
                "cache": {"policy": cache_policy, "duration": "10m"},
                "upstreams": [up],
            }
        )
    )
    clock = Clock()
    via_pullkey = plugin_keyring(node, ["--config", str(cfg)], clock)

    # The kubelet with the same upstream plugin configured next to its own node files.
    import os
    import subprocess

    env = {**os.environ, **{e["name"]: e["value"] for e in up["env"]}}  # type: ignore[attr-defined]

    def run(req: bytes) -> tuple[int, bytes, bytes]:
        p = subprocess.run([str(up["command"])], input=req, capture_output=True, env=env, check=False)
        return p.returncode, p.stdout, p.stderr

    direct = ExecPluginKeyring.from_configs(
        [
            (
                ProviderConfig(
                    name="up",
                    match_images=("up.example", "up2.example"),
                    default_cache_duration="5m",
                    api_version=f"{GROUP}/v1",
                    args=(),
                ),
                run,
            )
        ],
        clock,
    )
    files = node_files(str(node.root), str(node.cwd), str(node.home), fs_root=str(tmp_path))
    images = ["up.example/a", "up.example/b", "up2.example/c", "other.example/x", "docker.io/library/nginx"] * 3
    random.Random(f"{ckt}-{cache_policy}").shuffle(images)
    for image in images:
        clock.now += 7_000_000_000
        expected = kubelet_credentials(image, node_keyring=make_docker_keyring([], files), plugin_keyring=direct)
        got = kubelet_credentials(image, plugin_keyring=via_pullkey)
        if ckt == "Global":
            # A known difference (docs/provider-config.md "Upstream plugins"): the kubelet reuses a Global
            # answer for every image, even where its keys match nothing; pullkey, without memory between
            # exec runs, asks the upstream for the image, so it may find more, never other or fewer.
            assert got[: len(expected)] == expected, image
        else:
            assert got == expected, image


@pytest.mark.parametrize(
    ("ckt", "runs", "up2_users"),
    [("Image", 3, ["up-user"]), ("Registry", 2, ["up-user"]), ("Global", 1, [])],
)
def test_the_grpc_service_caches_upstream_answers_like_the_kubelet(
    node: Node, tmp_path: Path, ckt: str, runs: int, up2_users: list[str]
) -> None:
    """docs/kubelet.md §e.5 in pullkey's own cache: an answer is reused under its cacheKeyType's base
    (a Global answer even where its keys match nothing, as the kubelet does), for its duration."""
    from pullkey.options import Options
    from pullkey.service import Resolver

    up = upstream(tmp_path, "v1", ckt)
    up["matchImages"] = ["up.example", "up2.example"]
    cfg = tmp_path / "pullkey.yaml"
    cfg.write_text(yaml.safe_dump({"apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig", "upstreams": [up]}))
    resolver = Resolver(Options(config=str(cfg), root_dir=str(node.root)))
    resolver.load()
    log = tmp_path / "requests.log"
    assert not resolver.helpers_ready(["up.example/a"]), "an upstream would run"
    a = resolver.get_credentials("up.example/a")
    assert [c.username for c in a.credentials] == ["up-user"] and a.cache_key_type == "Image"
    assert 0 < a.cache_duration <= 120
    assert resolver.helpers_ready(["up.example/a"])
    resolver.get_credentials("up.example/a:1.0")
    resolver.get_credentials("up.example/b")
    c = resolver.get_credentials("up2.example/c")
    assert [x.username for x in c.credentials] == up2_users
    assert len(log.read_bytes().splitlines()) == runs
    resolver.get_credentials("else.example/x")  # matched by no upstream: never runs one
    assert len(log.read_bytes().splitlines()) == runs
