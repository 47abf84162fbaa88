"""Shared fixtures: the installed `pullkey` executable, run the way the kubelet runs it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

PULLKEY = Path(sys.executable).parent / "pullkey"
FIXTURES = Path(__file__).parent / "fixtures"
API = "credentialprovider.kubelet.k8s.io"


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes

    def json(self) -> dict[str, object]:
        obj = json.loads(self.stdout)
        assert isinstance(obj, dict)
        return obj


def run_plugin(
    request: bytes | str | Mapping[str, object] | None,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    stdin: int | None = None,
) -> Run:
    """Runs the installed `pullkey` as the kubelet does (docs/kubelet.md §e.3): argv = args from the
    CredentialProviderConfig, the kubelet's environment followed by the configured `env` entries,
    the request on stdin, stdout and stderr captured separately, killed after one minute."""
    if isinstance(request, Mapping):
        data: bytes | None = json.dumps(request).encode() + b"\n"
    elif isinstance(request, str):
        data = request.encode()
    else:
        data = request
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PULLKEY_")}
    full_env.update(env or {})
    proc = subprocess.run(
        [str(PULLKEY), *args],
        input=data,
        stdin=stdin,
        capture_output=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def request(image: str, version: str = "v1", **extra: object) -> dict[str, object]:
    return {"kind": "CredentialProviderRequest", "apiVersion": f"{API}/{version}", "image": image, **extra}


def b64auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def write_config(path: Path, auths: Mapping[str, Mapping[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": auths}))
    return path


@dataclass
class Node:
    """A hermetic node: a kubelet root dir, a HOME and a working directory under tmp_path."""

    root: Path
    home: Path
    cwd: Path

    @property
    def env(self) -> dict[str, str]:
        return {"PULLKEY_ROOT_DIR": str(self.root), "HOME": str(self.home)}

    def run(self, req: bytes | str | Mapping[str, object] | None, *args: str, **kw: object) -> Run:
        env = dict(self.env)
        env.update(kw.pop("env", {}) or {})  # type: ignore[call-overload]
        return run_plugin(req, args=args, env=env, cwd=self.cwd, **kw)  # type: ignore[arg-type]


@pytest.fixture
def node(tmp_path: Path) -> Node:
    n = Node(tmp_path / "kubelet", tmp_path / "home", tmp_path / "cwd")
    for d in (n.root, n.home, n.cwd):
        d.mkdir()
    return n


@pytest.fixture
def pullkey_bin() -> Path:
    assert PULLKEY.exists(), f"{PULLKEY} is not installed: run `make build-dev`"
    return PULLKEY


Runner = Callable[..., Run]


def pytest_configure(config: pytest.Config) -> None:
    """`soak`: the short soak of the real daemon (tests/test_soak.py, ~15 s); in the full suite."""
    config.addinivalue_line("markers", "soak: the short soak of the real daemon (about 15 s)")
