"""Issue #10, the loader and the command line: more regression tests next to tests/test_hardening_exec.py.

Every source is read without blocking, only when it is a regular file, once, and within the limits of
one load (pullkey._sources: MAX_SOURCE_BYTES, MAX_LOAD_BYTES, MAX_LOAD_FILES, MAX_DIR_ENTRIES, stated in
SECURITY.md); every message quotes the paths it names; every failure is one line on stderr.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from conftest import PULLKEY, Node, Run, request, run_plugin, write_config
from pullkey import _sources
from pullkey._sources import MAX_DIR_ENTRIES, MAX_LOAD_BYTES, MAX_LOAD_FILES, MAX_SOURCE_BYTES, quote

CANARY = "CANARY-l0ad3r-5c1f"


def one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert text.count("\n") == 1 and text.endswith("\n"), f"expected exactly one stderr line, got {text[:2000]!r}"
    assert "Traceback" not in text
    return text


def usernames(run: Run) -> list[str]:
    auth = run.json()["auth"]
    assert isinstance(auth, dict)
    return sorted(v["username"] for v in auth.values())


def provider_config(path: Path, sources: list[dict[str, str]]) -> Path:
    doc = {"apiVersion": "pullkey.dev/v1alpha1", "kind": "ProviderConfig", "sources": sources}
    path.write_text(json.dumps(doc))
    return path


def padded_config(path: Path, user: str, size: int) -> Path:
    """A valid docker config of exactly ``size`` bytes (trailing whitespace: cheap to parse)."""
    text = json.dumps({"auths": {f"{user}.example": {"username": user, "password": CANARY}}})
    path.write_bytes(text.encode() + b" " * (size - len(text)))
    return path


# --- 3. only regular files are read, and opening one never blocks -----------------------------------


@pytest.mark.parametrize(("target", "kind"), [("dir", "a directory"), ("/dev/zero", "a character device")])
def test_non_regular_docker_config_is_skipped(node: Node, tmp_path: Path, target: str, kind: str) -> None:
    path = tmp_path if target == "dir" else Path(target)
    cfg = provider_config(tmp_path / "pullkey.json", [{"type": "DockerConfig", "path": str(path)}])
    run = node.run(request("r.example/app"), "--config", str(cfg), "--v=1")
    assert run.returncode == 0, run.stderr
    assert f"{path}: not read: not a regular file ({kind})" in run.stderr.decode()
    strict = node.run(request("r.example/app"), "--config", str(cfg), "--strict")
    assert strict.returncode == 1
    assert "not a regular file" in one_line(strict.stderr)


def test_socket_in_a_secret_volume_is_skipped(node: Node, tmp_path: Path) -> None:
    volume = tmp_path / "vol"  # a mounted secret volume whose key is a socket (short path: sun_path limit)
    volume.mkdir()
    write_config(node.root / "config.json", {"r.example": {"username": "node", "password": CANARY}})
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(volume / ".dockercfg"))
        (volume / ".dockerconfigjson").write_text(json.dumps({"auths": {"r.example": {"username": "vol"}}}))
        cfg = provider_config(
            tmp_path / "pullkey.json", [{"type": "PullSecretDir", "path": str(volume)}, {"type": "SearchPaths"}]
        )
        run = node.run(request("r.example/app"), "--config", str(cfg), "--v=1")
    assert run.returncode == 0, run.stderr
    assert usernames(run) == ["node", "vol"]
    assert "not a regular file (a socket)" in run.stderr.decode()


def test_fifo_as_kubelet_config_does_not_block(node: Node, tmp_path: Path) -> None:
    fifo = tmp_path / "credential-providers.yaml"
    os.mkfifo(fifo)
    run = node.run(None, "check", "--kubelet-config", str(fifo))
    assert run.returncode == 1
    assert "not a regular file (a FIFO)" in run.stdout.decode()


def test_a_symlink_to_a_regular_file_is_followed(node: Node, tmp_path: Path) -> None:
    """As the kubelet does (secret volumes are symlinks into ..data): only the target's type counts."""
    target = write_config(tmp_path / "real.json", {"r.example": {"username": "linked", "password": CANARY}})
    (node.root / "config.json").symlink_to(target)
    run = node.run(request("r.example/app"), "--v=1")
    assert (run.returncode, run.stderr) == (0, b"")
    assert usernames(run) == ["linked"]


# --- 9. a source over the per-file limit is skipped, never truncated --------------------------------


def test_source_over_the_file_limit_is_skipped(node: Node, tmp_path: Path) -> None:
    big = padded_config(tmp_path / "big.json", "big", MAX_SOURCE_BYTES + 1)
    write_config(node.root / "config.json", {"r.example": {"username": "node", "password": CANARY}})
    cfg = provider_config(
        tmp_path / "pullkey.json", [{"type": "DockerConfig", "path": str(big)}, {"type": "SearchPaths"}]
    )
    run = node.run(request("big.example/app"), "--config", str(cfg), "--v=1")
    assert run.returncode == 0, run.stderr
    assert run.json()["auth"] == {}
    assert f"{big}: not read: larger than 16 MiB, the limit for one file" in run.stderr.decode()
    strict = node.run(request("big.example/app"), "--config", str(cfg), "--strict")
    assert strict.returncode == 1
    assert "larger than 16 MiB" in one_line(strict.stderr)
    padded_config(big, "big", MAX_SOURCE_BYTES)  # at the limit: read
    assert usernames(node.run(request("big.example/app"), "--config", str(cfg))) == ["big"]


# --- 13. limits of one load: total bytes, files, directory entries --------------------------------


def test_total_bytes_of_one_load_are_capped(node: Node, tmp_path: Path) -> None:
    per_file = 15 << 20
    fit = MAX_LOAD_BYTES // per_file  # these files fit; the next one does not, nor any later one
    paths = [padded_config(tmp_path / f"c{i}.json", f"u{i}", per_file) for i in range(fit + 1)]
    paths.append(write_config(tmp_path / "late.json", {"late.example": {"username": "late", "password": CANARY}}))
    cfg = provider_config(tmp_path / "pullkey.json", [{"type": "DockerConfig", "path": str(p)} for p in paths])
    run = node.run(request("u0.example/app"), "--config", str(cfg), "--v=1")
    assert run.returncode == 0, run.stderr
    assert usernames(run) == ["u0"]
    assert f"{paths[fit]}: not read: the sources of one load are more than 64 MiB, the limit;" in one_line(run.stderr)
    explained = node.run(None, "explain", "--json", "late.example/app", "--config", str(cfg))
    result = json.loads(explained.stdout)
    assert (result["sources"], result["credentials"]) == ([str(p) for p in paths[:fit]], [])
    strict = node.run(request("u0.example/app"), "--config", str(cfg), "--strict")
    assert strict.returncode == 1
    assert "64 MiB" in one_line(strict.stderr)


def manifest(name: str) -> str:
    payload = json.dumps({"auths": {f"{name}.example": {"username": name, "password": CANARY}}})
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": "ns"},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": payload},
        }
    )


def test_files_of_one_load_are_capped(node: Node, tmp_path: Path) -> None:
    half = MAX_LOAD_FILES // 2
    dirs = [tmp_path / "a", tmp_path / "b"]
    for d in dirs:
        d.mkdir()
        for i in range(half):
            (d / f"{i:05}.yaml").touch()  # empty manifest files: zero Secrets, cheap
    (dirs[0] / "00000.yaml").write_text(manifest("first"))
    (dirs[1] / "zzzzz.yaml").write_text(manifest("last"))  # file MAX_LOAD_FILES + 1
    cfg = provider_config(tmp_path / "pullkey.json", [{"type": "PullSecretDir", "path": str(d)} for d in dirs])
    run = node.run(request("first.example/app"), "--config", str(cfg), "--v=1")
    assert run.returncode == 0, run.stderr
    assert usernames(run) == ["first"]
    assert f"{dirs[1]}/zzzzz.yaml: not read: the sources of one load are more than {MAX_LOAD_FILES} files" in (
        run.stderr.decode()
    )
    assert node.run(request("last.example/app"), "--config", str(cfg)).json()["auth"] == {}


def test_a_directory_over_the_entry_limit_is_skipped_whole(node: Node, tmp_path: Path) -> None:
    d = tmp_path / "secrets"
    d.mkdir()
    (d / "0.yaml").write_text(manifest("inside"))
    for i in range(MAX_DIR_ENTRIES):
        (d / f"x{i}").touch()
    cfg = provider_config(tmp_path / "pullkey.json", [{"type": "PullSecretDir", "path": str(d)}])
    run = node.run(request("inside.example/app"), "--config", str(cfg), "--v=1")
    assert run.returncode == 0, run.stderr
    assert run.json()["auth"] == {}
    assert f"{d}: not read: more than {MAX_DIR_ENTRIES} entries, the limit for one directory" in run.stderr.decode()
    (d / "x0").unlink()  # at the limit: read
    assert usernames(node.run(request("inside.example/app"), "--config", str(cfg))) == ["inside"]


# --- 16. paths are quoted in every message ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("/var/lib/kubelet/config.json", "/var/lib/kubelet/config.json"),
        ("/a b/c", "/a b/c"),
        ("/d/evil\nFORGED: x", '"/d/evil\\nFORGED: x"'),
        ("/d/\x1b[31mred\t", '"/d/\\x1b[31mred\\t"'),
        ('/d/"q"\\x\r', '"/d/\\"q\\"\\\\x\\r"'),
        ('"/starts/with/a/quote', '"\\"/starts/with/a/quote"'),
        ("/d/\u2028\u202e\x85", '"/d/\\u2028\\u202e\\x85"'),
        (os.fsdecode(b"/d/\xff\xfe.json"), '"/d/\\xff\\xfe.json"'),
        ("/d/caf\u00e9/\U0001f600", "/d/caf\u00e9/\U0001f600"),
    ],
)
def test_quote(text: str, quoted: str) -> None:
    assert quote(text) == quoted
    assert _sources.one_line(f"x: {quote(text)}").isprintable()


def test_control_characters_in_a_manifest_name_cannot_forge_lines(node: Node, tmp_path: Path) -> None:
    """What the core writes about a file (its name) is quoted too; the sink escapes anything else."""
    d = tmp_path / "secrets"
    d.mkdir()
    (d / "ok\rFORGED\x1b[2K.yaml").write_text("kind: [")
    cfg = provider_config(tmp_path / "pullkey.json", [{"type": "PullSecretDir", "path": str(d)}])
    run = node.run(request("r.example/app"), "--config", str(cfg), "--v=1")
    err = one_line(run.stderr)
    assert err[:-1].isprintable(), err
    assert '\\rFORGED\\x1b[2K.yaml"' in err


# --- 17. each file once, in the kubelet's search order --------------------------------------------------


def test_home_equal_to_cwd_reads_the_dockercfg_once(node: Node) -> None:
    """``<cwd>/.dockercfg`` and ``$HOME/.dockercfg`` are one file when HOME is the working directory."""
    (node.cwd / ".dockercfg").write_text(json.dumps({"r.example": {"username": "u", "password": CANARY}}))
    run = run_plugin(request("r.example/app"), env={**node.env, "HOME": str(node.cwd)}, cwd=node.cwd)
    assert run.returncode == 0, run.stderr
    resp = run.json()
    auth = resp["auth"]
    assert isinstance(auth, dict)
    assert (list(auth), resp["cacheKeyType"]) == (["r.example"], "Registry")


def test_the_first_occurrence_keeps_its_place(node: Node) -> None:
    """A later search path naming an earlier file does not move it: with the ``first`` policy the
    kubelet's winner stays the winner (docs/kubelet.md §b.2)."""
    write_config(node.root / "config.json", {"r.example": {"username": "root", "password": CANARY}})
    write_config(node.home / ".docker" / "config.json", {"r.example": {"username": "home", "password": CANARY}})
    os.symlink(node.root / "config.json", node.cwd / "config.json")
    merged = node.run(request("r.example/app"), "--cache-policy", "Image")
    auth = merged.json()["auth"]
    assert isinstance(auth, dict)
    assert [auth[k]["username"] for k in sorted(auth, reverse=True)] == ["root", "home"]
    first = node.run(request("r.example/app"), "--search-policy", "first")
    assert usernames(first) == ["root"]


# --- 12 and 15. the command line: one precise line ----------------------------------------------------


def cli(*args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [os.fsencode(PULLKEY), *(os.fsencode(a) for a in args)],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["kubelet-config", "--match-image", "r.example", "--root", "/x"], "--root is not --root-dir"),
        (["get-credentials", "--cache-duration", "1m", "--root", "x"], "--root is not --root-dir"),
        (["explain", "--jso", "img"], "--jso is not --json"),
        (["--cache-duration", "soon"], "--cache-duration"),
        (["explain", b"\xffimg"], '"\\xffimg": not valid UTF-8'),
        (["parse", "-"], '"\\xfe": not valid UTF-8'),
    ],
)
def test_cli_errors_are_one_precise_line(args: list[str | bytes], expected: str) -> None:
    proc = cli(*args, stdin=b"ok\n\xfe\n")
    assert proc.returncode in (1, 2)
    assert proc.stdout == b""
    assert expected in one_line(proc.stderr)


@pytest.mark.parametrize("args", [["parse", "a", "b"], ["version"], ["--help"], ["explain", "r.example/app"]])
def test_cli_output_to_a_full_device_is_one_line(node: Node, args: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [str(PULLKEY), *args],
            stdout=full,
            stderr=subprocess.PIPE,
            env={**os.environ, **node.env},
            timeout=60,
            check=False,
        )
    assert proc.returncode == 1
    assert "No space left on device" in one_line(proc.stderr)


def test_cli_output_to_a_closed_pipe_is_one_line() -> None:
    """A reader that stops early (``| head -1``) gets one line, not an "Exception ignored" traceback."""
    refs = b"".join(b"r.example/app%d\n" % i for i in range(20_000))
    with subprocess.Popen(
        [str(PULLKEY), "parse", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stdin.write(refs)
        proc.stdin.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 1
    assert "Broken pipe" in one_line(err)


def test_a_closed_stdout_fails_before_reading_any_source(node: Node) -> None:
    fifo = node.root / "config.json"
    os.mkfifo(fifo)  # would be warned about if it were read
    proc = subprocess.run(
        [str(PULLKEY), "--v=1"],
        input=json.dumps(request("r.example/app")).encode(),
        stderr=subprocess.PIPE,
        env={**os.environ, **node.env},
        timeout=60,
        check=False,
        preexec_fn=lambda: os.close(1),
    )
    assert proc.returncode == 1
    assert "stdout is closed" in one_line(proc.stderr)
