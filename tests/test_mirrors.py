"""Mirrors (docs/mirrors.md): the exec answer carries the mirrors' credentials first, then the image's
own, under keys the kubelet matches for the image; the kubelet simulator (oracles/kubelet_sim.py)
proves the answer cache-exact for sequences mixing mirrored and non-mirrored images."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from conftest import Node, request, write_config
from pullkey import _core
from pullkey.errors import ConfigError
from test_kubelet_equivalence import (
    IMAGES,
    Clock,
    lay_out,
    merged_node_keyring,
    plugin_keyring,
)

from oracles.kubelet_sim import kubelet_credentials, make_docker_keyring, node_keyring_first_wins

MIRRORS = [
    {"registry": "docker.io", "endpoints": ["mirror.corp:5000/hub", "mirror2.corp"]},
    {"registry": "*.corp.example", "endpoints": ["cache.example:5443"]},
    {"registry": "quay.io", "endpoints": ["nocreds.example/quay"]},
]
MIRROR_AUTHS = {
    "mirror.corp:5000/hub": {"username": "mirror-hub", "password": "m1"},
    "mirror2.corp": {"username": "mirror2", "password": "m2"},
    "cache.example:5443": {"username": "cache", "password": "m3"},
}
MORE_IMAGES = ["mirror.corp:5000/hub/library/nginx", "cache.example:5443/x", "docker.io/library/busybox"]


def mirror_names(image: str) -> list[str]:
    """docs/mirrors.md §2 step 1, written from the document: the first rule whose registry matches."""
    host, _, path = image.partition("/")
    for rule in MIRRORS:
        pattern = str(rule["registry"])
        if pattern == host or (
            pattern.startswith("*.") and host.endswith(pattern[1:]) and host.count(".") == pattern.count(".")
        ):
            return [f"{e}/{path}" for e in rule["endpoints"]]
    return []


def config(tmp_path: Path, secret_file: Path, cache_policy: str, search_policy: str) -> Path:
    cfg = tmp_path / "pullkey.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "pullkey.dev/v1alpha1",
                "kind": "ProviderConfig",
                "searchPolicy": search_policy,
                "sources": [{"type": "PullSecret", "path": str(secret_file)}, {"type": "SearchPaths"}],
                "cache": {"policy": cache_policy, "duration": "10m"},
                "mirrors": MIRRORS,
            }
        )
    )
    return cfg


@pytest.mark.parametrize("cache_policy", ["auto", "Image", "Registry", "Global"])
@pytest.mark.parametrize("search_policy", ["first", "merge"])
def test_kubelet_tries_mirror_credentials_first(
    node: Node, tmp_path: Path, cache_policy: str, search_policy: str
) -> None:
    secret_file, secret = lay_out(node, tmp_path, duplicate_keys=False)
    root = json.loads((node.root / "config.json").read_text())["auths"]
    write_config(node.root / "config.json", {**root, **MIRROR_AUTHS})
    cfg = config(tmp_path, secret_file, cache_policy, search_policy)
    clock = Clock()
    plugin = plugin_keyring(node, ["--config", str(cfg)], clock)
    if search_policy == "first":
        files = node_keyring_first_wins(str(node.root), str(node.cwd), str(node.home), fs_root=str(tmp_path))
    else:
        files = merged_node_keyring(node)
    kubelet_itself = make_docker_keyring([secret], files)

    rng = random.Random(f"mirrors-{cache_policy}-{search_policy}")
    sequence = (IMAGES + MORE_IMAGES) * 3
    rng.shuffle(sequence)
    mirrored = 0
    for image in sequence:
        clock.now += 7_000_000_000
        expected: list[tuple[str, str]] = []
        names = mirror_names(image)
        mirrored += bool(names)
        for name in [*names, image]:
            for cred in kubelet_credentials(name, node_keyring=kubelet_itself):
                if cred not in expected:
                    expected.append(cred)
        assert kubelet_credentials(image, plugin_keyring=plugin) == expected, image
    assert mirrored > 0
    assert plugin.exec_count <= len(IMAGES + MORE_IMAGES), "cached answers are reused"


def test_docker_hub_mirror_order(node: Node, tmp_path: Path) -> None:
    write_config(node.root / "config.json", {"docker.io": {"username": "hub", "password": "h"}, **MIRROR_AUTHS})
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig", "mirrors": MIRRORS}))
    r = node.run(request("nginx"), "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    answer = r.json()
    assert answer["cacheKeyType"] == "Image"
    auth: dict[str, dict[str, str]] = answer["auth"]  # type: ignore[assignment]
    ordered = [auth[k]["username"] for k in sorted(auth, reverse=True)]  # docs/kubelet.md §c.1.6
    assert ordered == ["mirror-hub", "mirror2", "hub"]
    # explain shows the rule, the mirror names and the order; never a password.
    r = node.run(None, "--config", str(cfg), "explain", "nginx")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "rule docker.io -> mirror.corp:5000/hub, mirror2.corp" in out
    assert "mirror image: mirror.corp:5000/hub/library/nginx" in out
    lines = [line for line in out.splitlines() if "found for" in line]
    assert [line.split("username=")[1].split()[0] for line in lines] == ["'mirror-hub'", "'mirror2'", "'hub'"]
    assert "m1" not in out and "m2" not in out
    r = node.run(None, "--config", str(cfg), "explain", "--json", "quay.io/x/y")
    plan = json.loads(r.stdout)["mirrors"]
    assert plan["images"] == ["nocreds.example/quay/x/y"] and plan["order"] == []
    r = node.run(None, "--config", str(cfg), "explain", "--json", "ghcr.io/x/y")
    assert json.loads(r.stdout)["mirrors"] is None


@pytest.mark.parametrize(
    ("mirrors", "path"),
    [
        ([{"registry": "docker.io"}], "mirrors[0].endpoints"),
        ([{"endpoints": ["m.example"]}], "mirrors[0].registry"),
        ([{"registry": "https://docker.io", "endpoints": ["m"]}], "mirrors[0].registry"),
        ([{"registry": "docker.io", "endpoints": ["m.example/"]}], "mirrors[0].endpoints[0]"),
        (
            [{"registry": "a", "endpoints": ["m"]}, {"registry": "b", "endpoints": ["ok", "http://x"]}],
            "mirrors[1].endpoints[1]",
        ),
        ([{"registry": "a", "endpoints": ["m"], "extra": 1}], "mirrors[0].extra"),
        ([{"registry": "a:x", "endpoints": ["m"]}], "mirrors[0].registry"),
    ],
)
def test_mirrors_config_is_strict(mirrors: object, path: str) -> None:
    text = json.dumps({"apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig", "mirrors": mirrors})
    with pytest.raises(ConfigError) as e:
        _core.load_provider_config(text.encode(), "c.json")
    assert f"c.json: {path}" in str(e.value) or path in str(e.value), str(e.value)
    assert e.value.path == path


def test_mirrors_config_round_trip() -> None:
    text = json.dumps({"apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig", "mirrors": MIRRORS})
    cfg = _core.load_provider_config(text.encode(), "c.json")
    assert cfg.mirrors == [(m["registry"], m["endpoints"]) for m in MIRRORS]
    assert _core.ProviderConfig().mirrors == []


def test_runtime_config_containerd_and_crio(node: Node, tmp_path: Path) -> None:
    import tomllib

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig", "mirrors": MIRRORS}))
    out = tmp_path / "certs.d"
    r = node.run(None, "--config", str(cfg), "runtime-config", "containerd", "--output", str(out))
    assert r.returncode == 0, r.stderr
    assert b"*.corp.example: containerd has no host globs" in r.stderr
    hub = tomllib.loads((out / "docker.io" / "hosts.toml").read_text())
    assert hub["server"] == "https://registry-1.docker.io"
    assert list(hub["host"]) == ["https://mirror.corp:5000/v2/hub", "https://mirror2.corp"], "rule order"
    assert hub["host"]["https://mirror.corp:5000/v2/hub"]["override_path"] is True
    assert "override_path" not in hub["host"]["https://mirror2.corp"]
    quay = tomllib.loads((out / "quay.io" / "hosts.toml").read_text())
    assert quay["server"] == "https://quay.io" and list(quay["host"]) == ["https://nocreds.example/v2/quay"]
    assert not (out / "*.corp.example").exists()

    r = node.run(None, "--config", str(cfg), "runtime-config", "crio")
    assert r.returncode == 0, r.stderr
    conf = tomllib.loads(r.stdout.decode())
    assert conf["credential-helpers"] == ["containers-auth.json", "pullkey"]
    registries = {reg["prefix"]: reg for reg in conf["registry"]}
    assert [m["location"] for m in registries["docker.io"]["mirror"]] == ["mirror.corp:5000/hub", "mirror2.corp"]
    assert registries["docker.io"]["location"] == "docker.io"
    assert "location" not in registries["*.corp.example"]

    bare = tmp_path / "bare.yaml"
    bare.write_text(yaml.safe_dump({"apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig"}))
    r = node.run(None, "--config", str(bare), "runtime-config", "crio")
    assert r.returncode == 1 and b"no mirrors block" in r.stderr


def test_readme_mirror_example_loads() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("## Mirrors and pull-through caches") :]
    body = section[section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml\n") + 8)]
    cfg = _core.load_provider_config(body.encode(), "README.md")
    assert cfg.mirrors == [("docker.io", ["mirror.corp.example:5000/dockerhub"])]
