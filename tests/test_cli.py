"""The `pullkey` subcommands: parse, explain, check, kubelet-config."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml
from conftest import PULLKEY, Node, b64auth, run_plugin, write_config

CANARY = "CANARY-pw-91ab"
FIELDS = ["input", "valid", "error", "domain", "path", "tag", "digest", "repository", "normalized", "familiar"]


def test_parse_json_lines_and_exit_status() -> None:
    run = run_plugin(None, args=["parse", "--json", "busybox", "foo//bar", "localhost:5000/x:1"])
    assert run.returncode == 1, "an invalid reference makes the exit status 1"
    lines = [json.loads(line) for line in run.stdout.decode().splitlines()]
    assert [line["input"] for line in lines] == ["busybox", "foo//bar", "localhost:5000/x:1"]
    for line in lines:
        assert all(f in line for f in FIELDS)
    assert lines[0]["valid"] and lines[0]["normalized"] == "docker.io/library/busybox:latest"
    assert lines[0]["repository"] == "docker.io/library/busybox" and lines[0]["familiar"] == "busybox"
    assert not lines[1]["valid"] and "invalid reference format" in lines[1]["error"]
    assert lines[1]["domain"] is None
    assert lines[2]["domain"] == "localhost:5000" and lines[2]["tag"] == "1"
    ok = run_plugin(None, args=["parse", "busybox"])
    assert ok.returncode == 0 and b"docker.io/library/busybox:latest" in ok.stdout


def test_parse_reads_stdin() -> None:
    proc = subprocess.run(
        [str(PULLKEY), "parse", "--json", "-"], input=b"nginx\n\nquay.io/a/b\n", capture_output=True, check=False
    )
    assert proc.returncode == 0
    assert [json.loads(x)["repository"] for x in proc.stdout.splitlines()] == ["docker.io/library/nginx", "quay.io/a/b"]


def _explain_node(node: Node) -> None:
    write_config(
        node.root / "config.json",
        {
            "registry.example:5000/team": {"username": "team", "password": CANARY},
            "https://registry.example:5000/v2/": {"auth": b64auth("all", CANARY)},
            "registry.example": {"username": "noport", "password": CANARY},
            "*.example": {"username": "glob", "password": CANARY},
            "registry.example:5000/other": {"username": "other", "password": CANARY},
        },
    )


def test_explain_json(node: Node) -> None:
    _explain_node(node)
    run = node.run(None, "explain", "--json", "registry.example:5000/team/app")
    assert run.returncode == 0, run.stderr
    assert CANARY.encode() not in run.stdout + run.stderr
    out = json.loads(run.stdout)
    assert out["image"] == "registry.example:5000/team/app"
    assert out["repository"] == "registry.example:5000/team/app"
    creds = [(c["key"], c["username"]) for c in out["credentials"]]
    assert creds == [("registry.example:5000/team", "team"), ("registry.example:5000", "all")]
    assert all(c["source"] == str(node.root / "config.json") for c in out["credentials"])
    rejected = {r["key"]: r["reason"] for r in out["rejected"]}
    assert set(rejected) == {"registry.example", "*.example", "registry.example:5000/other"}
    assert "port" in rejected["registry.example"]
    assert "port" in rejected["*.example"]
    assert "prefix" in rejected["registry.example:5000/other"]


def test_explain_text(node: Node) -> None:
    _explain_node(node)
    run = node.run(None, "explain", "registry.example:5000/team/app")
    assert run.returncode == 0, run.stderr
    text = run.stdout.decode()
    assert CANARY not in text + run.stderr.decode()
    assert "1. registry.example:5000/team" in text and "2. registry.example:5000" in text
    assert "https://registry.example:5000/v2/" in text, "the key as written is shown"


def test_explain_lists_the_nearest_rejected_keys_and_counts_the_rest(node: Node) -> None:
    """Issue #10 defect 6: explain's cost is bounded; the keys left out are counted, never dropped silently."""
    auths = {f"r{i}.example/x": {"username": "u", "password": CANARY} for i in range(100)}
    auths.update({f"app.example:{5000 + i}": {"username": "u", "password": CANARY} for i in range(3)})
    write_config(node.root / "config.json", auths)
    run = node.run(None, "explain", "--json", "app.example/team/x")
    out = json.loads(run.stdout)
    assert out["rejected_total"] == 103
    assert len(out["rejected"]) == 32
    assert {f"app.example:{5000 + i}" for i in range(3)} <= {r["key"] for r in out["rejected"]}, "same host first"
    text = node.run(None, "explain", "app.example/team/x").stdout.decode()
    assert "... and 71 more" in text
    assert text.count("  - ") == 32


def test_explain_rejects_bad_image(node: Node) -> None:
    run = node.run(None, "explain", "foo//bar")
    assert run.returncode == 1 and b"foo//bar" in run.stderr


def test_check_reports_every_error(node: Node, tmp_path: Path) -> None:
    (node.root / "config.json").write_text('{"auths": {"r.example": {"auth": "' + CANARY + '"}}}')
    kcfg = tmp_path / "kubelet.yaml"
    kcfg.write_text(
        "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n"
        "  - name: pullkey\n    matchImages: []\n    apiVersion: credentialprovider.kubelet.k8s.io/v9\n"
    )
    run = node.run(None, "check", "--kubelet-config", str(kcfg))
    assert run.returncode == 1
    out = run.stdout.decode()
    assert CANARY not in out + run.stderr.decode()
    assert str(node.root / "config.json") in out
    assert "matchImages" in out and "apiVersion" in out and "defaultCacheDuration" in out


def test_kubelet_config_round_trip(node: Node, tmp_path: Path) -> None:
    write_config(
        node.root / "config.json",
        {
            "registry.example:5000": {"username": "u", "password": "p"},
            "*.corp.example": {"username": "u", "password": "p"},
        },
    )
    run = node.run(None, "kubelet-config")
    assert run.returncode == 0, run.stderr
    doc = yaml.safe_load(run.stdout)
    assert doc["kind"] == "CredentialProviderConfig" and doc["apiVersion"] == "kubelet.config.k8s.io/v1"
    (provider,) = doc["providers"]
    assert provider["name"] == "pullkey"
    assert "registry.example:5000" in provider["matchImages"] and "*.corp.example" in provider["matchImages"]
    assert isinstance(provider["defaultCacheDuration"], str)
    out = tmp_path / "generated.yaml"
    out.write_bytes(run.stdout)
    check = node.run(None, "check", "--kubelet-config", str(out))
    assert check.returncode == 0, check.stdout


def test_explain_shows_the_docker_hub_fallback(node: Node) -> None:
    write_config(node.root / "config.json", {"https://index.docker.io/v1/": {"username": "hub", "password": CANARY}})
    run = node.run(None, "explain", "--json", "nginx")
    out = json.loads(run.stdout)
    assert out["repository"] == "docker.io/library/nginx"
    assert [(c["key"], c["username"], c["fallback"]) for c in out["credentials"]] == [("index.docker.io", "hub", True)]
    text = node.run(None, "explain", "nginx").stdout.decode()
    assert "fallback" in text and CANARY not in text


def test_check_reads_a_kubelet_config_directory_in_path_order(node: Node, tmp_path: Path) -> None:
    """Recent kubelets take a directory: its .json/.yaml/.yml files, sorted, providers concatenated;
    a provider name seen twice across files is an error (docs/kubelet.md §f.1)."""
    d = tmp_path / "providers.d"
    d.mkdir()
    doc = (
        "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n"
        "  - name: {name}\n    matchImages: ['*.example']\n    defaultCacheDuration: 5m\n"
        "    apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
    )
    (d / "10-pullkey.yaml").write_text(doc.format(name="pullkey"))
    (d / "20-other.yml").write_text(doc.format(name="other"))
    (d / "README.txt").write_text("not a config")
    ok = node.run(None, "check", "--kubelet-config", str(d))
    assert ok.returncode == 0, ok.stdout
    (d / "30-dup.json").write_text(
        json.dumps(
            {
                "apiVersion": "kubelet.config.k8s.io/v1",
                "kind": "CredentialProviderConfig",
                "providers": [
                    {
                        "name": "pullkey",
                        "matchImages": ["x.example"],
                        "defaultCacheDuration": "1m",
                        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                    }
                ],
            }
        )
    )
    dup = node.run(None, "check", "--kubelet-config", str(d))
    assert dup.returncode == 1
    assert "pullkey" in dup.stdout.decode() and "30-dup.json" in dup.stdout.decode()
    empty = tmp_path / "empty.d"
    empty.mkdir()
    none = node.run(None, "check", "--kubelet-config", str(empty))
    assert none.returncode == 1 and b"no .json, .yaml or .yml" in none.stdout
