"""The installed `pullkey` executable run as the kubelet runs it (docs/kubelet.md §e.3, §e.4)."""

from __future__ import annotations

import json
import os
import pty
import re
from pathlib import Path

import pytest
from conftest import API, Node, Run, b64auth, request, run_plugin, write_config

CANARY = "CANARY-s3cr3t-7f1d"
GO_DURATION = re.compile(r"^(\d+h)?(\d+m)?\d+s$")


def assert_failure(run: Run, *needles: str) -> str:
    assert run.returncode == 1, run
    assert run.stdout == b"", "nothing may reach stdout on failure"
    err = run.stderr.decode()
    assert err.count("\n") == 1 and err.endswith("\n"), f"exactly one line on stderr, got {err!r}"
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.mark.parametrize("version", ["v1", "v1beta1", "v1alpha1"])
def test_answers_in_the_request_api_version(node: Node, version: str) -> None:
    write_config(node.root / "config.json", {"registry.example:5000": {"auth": b64auth("robot", "pw")}})
    run = node.run(request("registry.example:5000/team/app", version))
    assert run.returncode == 0, run.stderr
    assert run.stderr == b""
    assert run.stdout.endswith(b"\n") and run.stdout.count(b"\n") == 1
    resp = run.json()
    assert resp["kind"] == "CredentialProviderResponse"
    assert resp["apiVersion"] == f"{API}/{version}"
    assert resp["cacheKeyType"] in ("Image", "Registry", "Global")
    assert isinstance(resp["cacheDuration"], str) and GO_DURATION.match(resp["cacheDuration"])
    auth = resp["auth"]
    assert isinstance(auth, dict)
    assert [(v["username"], v["password"]) for v in auth.values()] == [("robot", "pw")]


def test_no_credentials_is_an_empty_answer(node: Node) -> None:
    run = node.run(request("quay.io/nobody/app"))
    assert run.returncode == 0, run.stderr
    resp = run.json()
    assert resp.get("auth", {}) == {}
    assert resp["cacheKeyType"] in ("Image", "Registry", "Global")


def test_kubelet_env_and_args(node: Node, tmp_path: Path) -> None:
    """`env` entries of the CredentialProviderConfig override the kubelet's environment; `args` are
    passed verbatim, including klog verbosity flags written for other plugins."""
    other_root = tmp_path / "other-root"
    write_config(other_root / "config.json", {"r.example": {"username": "u2", "password": "p2"}})
    for args in ([], ["--v=3"], ["-v", "2"], ["--v", "4", "get-credentials"]):
        run = run_plugin(
            request("r.example/x"), args=args, env={"PULLKEY_ROOT_DIR": str(other_root), "HOME": "/nonexistent"}
        )
        assert run.returncode == 0, (args, run.stderr)
        assert [v["username"] for v in run.json()["auth"].values()] == ["u2"]  # type: ignore[attr-defined]


def test_root_dir_flag_beats_environment(node: Node, tmp_path: Path) -> None:
    flag_root = tmp_path / "flag-root"
    write_config(flag_root / "config.json", {"r.example": {"username": "from-flag", "password": "x"}})
    write_config(node.root / "config.json", {"r.example": {"username": "from-env", "password": "x"}})
    run = node.run(request("r.example/x"), "--root-dir", str(flag_root))
    assert [v["username"] for v in run.json()["auth"].values()] == ["from-flag"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("payload", "needles"),
    [
        (b"", ["empty"]),
        (b"   \n", ["empty"]),
        (b"not json at all", ["not JSON"]),
        (
            b"kind: CredentialProviderRequest\napiVersion: credentialprovider.kubelet.k8s.io/v1\nimage: x\n",
            ["not JSON"],
        ),
        (json.dumps({"kind": "Pod", "apiVersion": f"{API}/v1", "image": "x"}).encode(), ["kind"]),
        (
            json.dumps({"kind": "CredentialProviderRequest", "apiVersion": f"{API}/v2", "image": "x"}).encode(),
            ["apiVersion"],
        ),
        (json.dumps({"kind": "CredentialProviderRequest", "apiVersion": f"{API}/v1"}).encode(), ["image"]),
        (json.dumps({"kind": "CredentialProviderRequest", "apiVersion": f"{API}/v1", "image": ""}).encode(), ["image"]),
        (json.dumps({"kind": "CredentialProviderRequest", "apiVersion": f"{API}/v1", "image": 7}).encode(), ["image"]),
        (json.dumps(request("foo//bar")).encode(), ["foo//bar"]),
        (json.dumps(request("Registry.example/Team/App")).encode(), ["lowercase"]),
        (json.dumps(request("x")).encode() + b" trailing", ["not JSON"]),
    ],
    ids=[
        "empty",
        "blank",
        "garbage",
        "yaml",
        "kind",
        "apiversion",
        "no-image",
        "empty-image",
        "image-type",
        "bad-image",
        "uppercase-path",
        "trailing",
    ],
)
def test_bad_requests_fail_with_one_line(node: Node, payload: bytes, needles: list[str]) -> None:
    assert_failure(node.run(payload), *needles)


def test_oversized_request(node: Node) -> None:
    big = json.dumps(request("r.example/x", padding="x" * (1 << 20))).encode()
    assert_failure(node.run(big), "1 MiB")


def test_token_is_never_echoed_in_errors(node: Node) -> None:
    bad = json.dumps({"kind": "Nope", "apiVersion": f"{API}/v1", "image": "x", "serviceAccountToken": CANARY})
    err = assert_failure(node.run(bad))
    assert CANARY not in err
    err = assert_failure(node.run('{"serviceAccountToken": "' + CANARY + '", '))
    assert CANARY not in err


def test_broken_source_is_skipped_or_fatal_in_strict_mode(node: Node) -> None:
    (node.root / "config.json").write_text(json.dumps({"auths": {"r.example": {"auth": CANARY + "!!"}}}))
    write_config(node.home / ".docker" / "config.json", {"r.example": {"username": "home", "password": "pw"}})
    run = node.run(request("r.example/x"), "--v=5")
    assert run.returncode == 0, run.stderr
    assert [v["username"] for v in run.json()["auth"].values()] == ["home"]  # type: ignore[attr-defined]
    assert str(node.root / "config.json") in run.stderr.decode(), "the skipped file is named at --v>=1"
    assert CANARY.encode() not in run.stderr
    err = assert_failure(node.run(request("r.example/x"), "--strict"), str(node.root / "config.json"))
    assert CANARY not in err


def test_strict_mode_from_config_file(node: Node, tmp_path: Path) -> None:
    (node.root / "config.json").write_text("{not json " + CANARY)
    cfg = tmp_path / "pullkey.yaml"
    cfg.write_text(f"apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\nrootDir: {node.root}\nstrict: true\n")
    err = assert_failure(node.run(request("r.example/x"), "--config", str(cfg)), "config.json")
    assert CANARY not in err


def test_config_errors_name_the_field(node: Node, tmp_path: Path) -> None:
    cfg = tmp_path / "pullkey.yaml"
    cfg.write_text(
        "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\nsources:\n"
        "  - type: SearchPaths\n  - type: DockerConfig\n    path: /x\n  - type: PullSecret\n    paht: /y\n"
    )
    assert_failure(node.run(request("r.example/x"), "--config", str(cfg)), "sources[2]", "paht")
    run = node.run(request("r.example/x"), env={"PULLKEY_CONFIG": str(tmp_path / "missing.yaml")})
    assert_failure(run, "missing.yaml")


def test_first_and_merge_search_policies(node: Node) -> None:
    write_config(node.root / "config.json", {"other.example": {"username": "root", "password": "a"}})
    write_config(node.home / ".docker" / "config.json", {"r.example": {"username": "home", "password": "b"}})
    merged = node.run(request("r.example/x"))
    assert [v["username"] for v in merged.json()["auth"].values()] == ["home"]  # type: ignore[attr-defined]
    # The kubelet reads only the first config.json that parses: the root dir's, which has no key for r.example.
    first = node.run(request("r.example/x"), "--search-policy", "first")
    assert first.json().get("auth", {}) == {}


def test_tty_without_input_prints_usage(node: Node) -> None:
    leader, follower = pty.openpty()
    try:
        run = node.run(None, stdin=follower)
    finally:
        os.close(leader)
        os.close(follower)
    assert run.returncode == 2
    assert run.stdout == b""
    assert b"usage: pullkey" in run.stderr


def test_version_and_help(pullkey_bin: Path) -> None:
    run = run_plugin(None, args=["--version"])
    assert run.returncode == 0 and run.stdout.startswith(b"pullkey ")
    run = run_plugin(None, args=["version"])
    assert run.returncode == 0 and run.stdout.startswith(b"pullkey ")


def test_an_unexpected_failure_is_one_line_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    from pullkey import _launch, _sources

    def boom(settings: object) -> object:
        raise RuntimeError(f"exploded near {CANARY}")

    monkeypatch.setattr(_sources, "build", boom)
    fake_stdin = io.TextIOWrapper(io.BytesIO(json.dumps(request("r.example/x")).encode()))
    monkeypatch.setattr(sys, "stdin", fake_stdin)
    assert _launch.main(["--root-dir", "/nonexistent"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "pullkey: internal error (RuntimeError); please report it\n"
