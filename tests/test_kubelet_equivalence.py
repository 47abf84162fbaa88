"""The kubelet simulator (oracles/kubelet_sim.py, written from docs/kubelet.md) drives sequences of
pulls through the real `pullkey` executable as its exec plugin, with its strict response decoding,
its response cache keyed by cacheKeyType, and keyring matching of the returned keys. The
credentials it ends up trying must equal what the kubelet would try reading the same files itself.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from conftest import Node, b64auth, write_config

from oracles.kubelet_sim import (
    BasicDockerKeyring,
    ExecPluginKeyring,
    ProviderConfig,
    decode_docker_config,
    kubelet_credentials,
    make_docker_keyring,
    node_keyring_first_wins,
)

IMAGES = [
    "reg.example:5000/team/app",
    "reg.example:5000/team/other",
    "reg.example:5000/teamster/x",
    "reg.example:5000/else/x",
    "reg.example:5000/v2/thing",
    "reg.example/team/app",
    "a.corp.example/x",
    "b.corp.example/y/z",
    "corp.example/x",
    "docker.io/library/nginx",
    "docker.io/user/app",
    "localhost/foo",
    "localhost:5000/foo",
    "quay.io/nobody/x",
    "a.corp.example/y",
    "docker.io/library/redis",
    "localhost:5000/bar",
    "quay.io/other/y",
]

ROOT_AUTHS = {
    "reg.example:5000": {"auth": b64auth("root-host", "p1")},
    "https://reg.example:5000/v2/team": {"username": "root-team", "password": "p2"},
    "reg.example:5000/team/app": {"username": "root-app", "password": "p3:with:colons"},
    "*.corp.example": {"username": "root-glob", "password": "p4"},
    "reg.example": {"username": "root-noport", "password": "p5"},
    "https://index.docker.io/v1/": {"username": "root-hub", "password": "p6"},
    "localhost:5000": {"username": "root-local", "password": "p7"},
}
HOME_AUTHS = {
    "reg.example:5000": {"username": "home-host", "password": "h1"},
    "a.corp.example": {"username": "home-a", "password": "h2"},
    "docker.io": {"username": "home-hub", "password": "h3"},
}
SECRET_AUTHS = {
    "reg.example:5000/team": {"username": "secret-team", "password": "s1"},
    "quay.io": {"username": "secret-quay", "password": "s2"},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


def secret_manifest(name: str, auths: dict[str, dict[str, str]]) -> dict[str, object]:
    import base64

    payload = base64.b64encode(json.dumps({"auths": auths}).encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": payload},
    }


def lay_out(node: Node, tmp_path: Path, *, duplicate_keys: bool) -> tuple[Path, dict[str, object]]:
    root = dict(ROOT_AUTHS)
    text = json.dumps({"auths": root})
    if duplicate_keys:
        # Two raw keys that normalise to one key: the kubelet keeps both credentials under it.
        text = text[:-2] + ', "https://reg.example:5000/": {"username": "root-dup", "password": "p8"}}}'
    (node.root / "config.json").write_text(text)
    write_config(node.home / ".docker" / "config.json", HOME_AUTHS)
    secret = secret_manifest("team-pull", SECRET_AUTHS)
    secret_file = tmp_path / "secret.yaml"
    secret_file.write_text(yaml.safe_dump(secret))
    return secret_file, secret


def plugin_keyring(node: Node, args: list[str], clock: Clock) -> ExecPluginKeyring:
    generated = node.run(None, "kubelet-config", *args)
    assert generated.returncode == 0, generated.stderr
    (provider,) = yaml.safe_load(generated.stdout)["providers"]
    config = ProviderConfig(
        name="pullkey",
        match_images=tuple(provider["matchImages"]),
        default_cache_duration=provider["defaultCacheDuration"],
        api_version=provider["apiVersion"],
        args=tuple(args),
    )

    def run(request: bytes) -> tuple[int, bytes, bytes]:
        r = node.run(request, *args)
        return r.returncode, r.stdout, r.stderr

    return ExecPluginKeyring.from_configs([(config, run)], clock)


def merged_node_keyring(node: Node) -> BasicDockerKeyring:
    """pullkey's `merge` policy, defined in kubelet terms: every file found, in search order, added
    to one keyring (config.json files before .dockercfg files)."""
    keyring = BasicDockerKeyring()
    for path in (node.root / "config.json", node.home / ".docker" / "config.json"):
        keyring.add(decode_docker_config(path.read_bytes(), legacy=False), str(path))
    return keyring


@pytest.mark.parametrize("cache_policy", ["auto", "Image", "Registry", "Global"])
@pytest.mark.parametrize("search_policy", ["first", "merge"])
@pytest.mark.parametrize("duplicate_keys", [False, True], ids=["unique-keys", "duplicate-keys"])
def test_kubelet_tries_the_same_credentials(
    node: Node, tmp_path: Path, cache_policy: str, search_policy: str, duplicate_keys: bool
) -> None:
    secret_file, secret = lay_out(node, tmp_path, duplicate_keys=duplicate_keys)
    cfg = tmp_path / "pullkey.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "pullkey.dev/v1alpha1",
                "kind": "ProviderConfig",
                "searchPolicy": search_policy,
                "sources": [{"type": "PullSecret", "path": str(secret_file)}, {"type": "SearchPaths"}],
                "cache": {"policy": cache_policy, "duration": "10m"},
            }
        )
    )
    clock = Clock()
    plugin = plugin_keyring(node, ["--config", str(cfg)], clock)
    if search_policy == "first":
        files = node_keyring_first_wins(str(node.root), str(node.cwd), str(node.home), fs_root=str(tmp_path))
    else:
        files = merged_node_keyring(node)
    kubelet_itself = make_docker_keyring([secret], files)

    rng = random.Random(f"{cache_policy}-{search_policy}-{duplicate_keys}")
    sequence = IMAGES * 3
    rng.shuffle(sequence)
    for image in sequence:
        clock.now += 7_000_000_000  # 7 s between pulls: well inside the 10 minute cache lifetime
        via_pullkey = kubelet_credentials(image, plugin_keyring=plugin)
        expected = kubelet_credentials(image, node_keyring=kubelet_itself)
        assert via_pullkey == expected, image
    assert plugin.exec_count <= len(IMAGES), "cached answers are reused"
    if cache_policy in ("auto", "Registry"):
        # reg.example:5000 has keys in both the pull-secret group and the node group, so its images
        # are answered per image; every other host's answer is keyed by registry and reused.
        assert plugin.exec_count <= len(IMAGES) - 5, "Registry-keyed answers serve every image of a host"


def test_a_rotated_password_is_seen_after_the_cache_expires(node: Node, tmp_path: Path) -> None:
    write_config(node.root / "config.json", {"reg.example:5000": {"username": "u", "password": "old"}})
    clock = Clock()
    plugin = plugin_keyring(node, [], clock)
    assert kubelet_credentials("reg.example:5000/a", plugin_keyring=plugin) == [("u", "old")]
    write_config(node.root / "config.json", {"reg.example:5000": {"username": "u", "password": "new"}})
    clock.now += 60 * 1_000_000_000
    assert kubelet_credentials("reg.example:5000/b", plugin_keyring=plugin) == [("u", "old")], "still cached"
    clock.now += 10 * 60 * 1_000_000_000
    assert kubelet_credentials("reg.example:5000/a", plugin_keyring=plugin) == [("u", "new")]
