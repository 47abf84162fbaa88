"""Docker credential helpers, both ways (issue 12; docs/helpers.md).

Real parts: every helper here is an executable shell script written by the test into its own
directory, run by pullkey's runner (no shell between them, a clean environment: only the builtins of
``/bin/sh`` and absolute paths work inside), and the installed ``pullkey`` / ``docker-credential-pullkey``
executables run as their callers run them.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import PULLKEY, request
from pullkey import _core
from pullkey.helpers import cache as helper_cache
from pullkey.options import Options
from pullkey.service import Resolver

HELPER_BIN = Path(sys.executable).parent / "docker-credential-pullkey"
SECRET = "Hs3cret-VALUE-42"
HUB = "https://index.docker.io/v1/"


@dataclass
class World:
    tmp: Path
    bin: Path
    home: Path
    config: Path

    @property
    def calls(self) -> Path:
        return self.tmp / "calls"

    def count(self) -> int:
        return len(self.calls.read_text().splitlines()) if self.calls.exists() else 0

    def helper(self, name: str, body: str) -> Path:
        """``docker-credential-<name>``: reads the server URL, records it in ``calls``, then ``body``."""
        path = self.bin / f"docker-credential-{name}"
        path.write_text(f'#!/bin/sh\nread url\necho "{name} $url" >> {self.calls}\n{body}\n')
        path.chmod(0o755)
        return path

    def docker_config(self, **members: object) -> None:
        auths = members.pop("auths", {"r.example": {"username": "fileuser", "password": "filepass"}})
        (self.home / ".docker" / "config.json").write_text(json.dumps({"auths": auths, **members}))

    def provider_config(self, helpers: str = "enabled: true", extra: str = "") -> None:
        self.config.write_text(
            "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n"
            f"rootDir: {self.tmp / 'root'}\n{extra}"
            f"helpers:\n  dirs: [{self.bin}]\n" + "".join(f"  {line}\n" for line in helpers.splitlines())
        )

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULLKEY_")}
        env.update({"HOME": str(self.home), "PULLKEY_CONFIG": str(self.config)})
        return env

    def exec(self, image: str, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(PULLKEY), *args],
            input=json.dumps(request(image)).encode(),
            capture_output=True,
            env=self.env(),
            timeout=60,
            check=False,
        )

    def explain(self, image: str, *args: str) -> dict[str, Any]:
        proc = subprocess.run(
            [str(PULLKEY), "explain", "--json", *args, image], capture_output=True, env=self.env(), check=True
        )
        out: dict[str, Any] = json.loads(proc.stdout)
        return out

    def consulted(self, image: str) -> dict[str, Any]:
        """The one helper ``explain --json`` says it consulted for ``image``."""
        (only,) = self.explain(image)["helpers"]
        assert isinstance(only, dict)
        return only

    def resolver(self) -> Resolver:
        r = Resolver(Options(config=str(self.config), home=str(self.home), environ=self.env()))
        r.load()
        return r


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path, tmp_path / "bin", tmp_path / "home", tmp_path / "pullkey.yaml")
    for d in (w.bin, w.home / ".docker", tmp_path / "root"):
        d.mkdir(parents=True)
    w.provider_config()
    return w


FOUND = f'echo \'{{"ServerURL": "\'$url\'", "Username": "helperuser", "Secret": "{SECRET}"}}\''
NOT_FOUND = "echo 'credentials not found in native keychain'; exit 1"


def auth_of(proc: subprocess.CompletedProcess[bytes]) -> dict[str, dict[str, str]]:
    assert proc.returncode == 0, proc.stderr
    auth: dict[str, dict[str, str]] = json.loads(proc.stdout)["auth"]
    return auth


def test_default_is_kubelet_exact_no_helper_runs(world: World) -> None:
    world.helper("store", FOUND)
    world.docker_config(credsStore="store", credHelpers={"r.example": "store"})
    world.provider_config(helpers="enabled: false")
    proc = world.exec("r.example/team/app")
    assert auth_of(proc) == {"r.example": {"username": "fileuser", "password": "filepass"}}
    assert world.count() == 0
    assert "helpers" not in world.explain("r.example/team/app")


def test_found_answer_stands_before_the_files_auths_and_after_pull_secrets(world: World) -> None:
    world.helper("store", FOUND)
    world.docker_config(credsStore="store")
    secret = world.tmp / "secret.json"
    secret.write_text(json.dumps({"auths": {"r.example": {"username": "secretuser", "password": "sp"}}}))
    world.provider_config(
        extra=f"sources:\n  - type: PullSecretDir\n    path: {world.tmp / 'secrets'}\n  - type: SearchPaths\n"
    )
    (world.tmp / "secrets").mkdir()
    (world.tmp / "secrets" / "s.json").write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s", "namespace": "ns"},
                "type": "kubernetes.io/dockerconfigjson",
                "data": {".dockerconfigjson": _b64(secret.read_bytes())},
            }
        )
    )
    explained = world.explain("r.example/team/app")
    users = [c["username"] for c in explained["credentials"]]
    assert users == ["secretuser", "helperuser", "fileuser"]
    (consulted,) = explained["helpers"]
    assert consulted["outcome"] == "found" and consulted["program"] == "docker-credential-store"
    assert consulted["server_url"] == "r.example" and consulted["duration_ms"] > 0
    assert SECRET not in json.dumps(explained)
    # The exec answer carries all three, in that order for the kubelet.
    auth = auth_of(world.exec("r.example/team/app"))
    assert {a["username"] for a in auth.values()} == {"secretuser", "helperuser", "fileuser"}
    assert SECRET in {a["password"] for a in auth.values()}


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def test_flag_enables_and_docker_semantics_pick_the_helper(world: World) -> None:
    """credHelpers per server URL wins over credsStore; Docker Hub is asked as https://index.docker.io/v1/."""
    world.helper("hostly", FOUND)
    world.helper("default", NOT_FOUND)
    world.docker_config(credsStore="default", credHelpers={"r.example": "hostly", "other.example": "hostly"})
    world.provider_config(helpers="enabled: false")
    assert auth_of(world.exec("r.example/x", "--helpers"))["r.example/x"]["username"] == "helperuser"
    auth_of(world.exec("nginx", "--helpers"))
    auth_of(world.exec("index.docker.io/team/app:1", "--helpers"))
    assert world.calls.read_text().splitlines() == ["hostly r.example", f"default {HUB}", f"default {HUB}"]


def test_not_found_is_no_credential_and_caps_the_cache_duration(world: World) -> None:
    world.helper("store", NOT_FOUND)
    world.docker_config(credsStore="store")
    world.provider_config(helpers="enabled: true\ncacheDuration: 1m")
    proc = world.exec("r.example/a")
    assert proc.stderr == b""
    assert json.loads(proc.stdout)["cacheDuration"] == "1m0s"
    assert [a["username"] for a in auth_of(proc).values()] == ["fileuser"]
    consulted = world.consulted("r.example/a")
    assert consulted["outcome"] == "not found" and consulted["message"] == ""


@pytest.mark.parametrize(
    ("body", "outcome", "says"),
    [
        (None, "error", "docker-credential-store not found in"),
        (f"echo 'password={SECRET} token abc' >&2; exit 3", "error", "exit status 3"),
        ("kill -SEGV $$", "error", "killed by signal 11"),
        ("echo 'not json {'", "error", "not a JSON object"),
        ("exec /usr/bin/yes", "error", "printed more than 4096 bytes, its process group was killed"),
        ("/bin/sleep 30", "timeout", "no answer within 0.5s, its process group was killed"),
    ],
    ids=["not-installed", "crash-with-stderr", "signal", "garbage-json", "huge-output", "slow"],
)
def test_a_failing_helper_fails_only_its_registry(world: World, body: str | None, outcome: str, says: str) -> None:
    if body is not None:
        world.helper("store", body)
    world.helper("fine", FOUND)
    world.docker_config(credsStore="store", credHelpers={"good.example": "fine"})
    world.provider_config(helpers="enabled: true\ntimeout: 500ms\nmaxOutputBytes: 4096")
    start = time.monotonic()
    proc = world.exec("r.example/a")
    assert time.monotonic() - start < 10
    # The file's own credential is still answered; the failure is one line on stderr; not cached.
    assert [a["username"] for a in auth_of(proc).values()] == ["fileuser"]
    assert json.loads(proc.stdout)["cacheDuration"] == "0s"
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and says in lines[0] and SECRET not in lines[0], lines
    # Another registry's helper is unaffected.
    assert auth_of(world.exec("good.example/a"))["good.example"]["username"] == "helperuser"
    consulted = world.consulted("r.example/a")
    assert consulted["outcome"] == outcome and says in consulted["message"]
    assert SECRET not in json.dumps(consulted)


def test_timeout_kills_the_whole_process_group(world: World) -> None:
    pidfile = world.tmp / "grandchild.pid"
    world.helper("store", f"/bin/sleep 60 &\necho $! > {pidfile}\n/bin/sleep 60")
    world.docker_config(credsStore="store")
    world.provider_config(helpers="enabled: true\ntimeout: 300ms")
    auth_of(world.exec("r.example/a"))
    pid = int(pidfile.read_text())
    for _ in range(50):  # the kill is immediate; reaping by init may take a moment
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except FileNotFoundError:
            break
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the helper's background child {pid} survived the timeout")


def test_identity_token_is_explained_and_warned_never_used(world: World) -> None:
    world.helper("store", f'echo \'{{"Username": "<token>", "Secret": "{SECRET}"}}\'')
    world.docker_config(credsStore="store")
    quiet = world.exec("r.example/a")
    assert quiet.stderr == b"" and SECRET not in quiet.stdout.decode()
    assert [a["username"] for a in auth_of(quiet).values()] == ["fileuser"]
    loud = world.exec("r.example/a", "--v=1")
    (line,) = loud.stderr.decode().splitlines()
    assert line.startswith("pullkey: warning: helper docker-credential-store")
    assert "identity token" in line and "kubelet cannot use" in line and SECRET not in line
    consulted = world.consulted("r.example/a")
    assert consulted["outcome"] == "found" and consulted["identity_token"] is True
    text = subprocess.run(
        [str(PULLKEY), "explain", "r.example/a"], capture_output=True, env=world.env(), check=True
    ).stdout.decode()
    assert "identity token: the kubelet cannot use it" in text and SECRET not in text


def test_allow_list_and_clean_environment(world: World) -> None:
    env_out = world.tmp / "env"
    world.helper("store", f"set > {env_out}\n{NOT_FOUND}")
    world.helper("other", FOUND)
    world.docker_config(credsStore="store", credHelpers={"x.example": "other"})
    world.provider_config(helpers="enabled: true\nallow: [store]\nenv: [HOME, EXTRA=1]")
    env = world.env() | {"LEAKED_SECRET": SECRET}
    subprocess.run(
        [str(PULLKEY)], input=json.dumps(request("r.example/a")).encode(), env=env, check=True, capture_output=True
    )
    seen = env_out.read_text()
    assert f"PATH='{world.bin}'" in seen and f"HOME='{world.home}'" in seen and "EXTRA='1'" in seen
    assert "LEAKED_SECRET" not in seen and "PULLKEY_CONFIG" not in seen
    proc = world.exec("x.example/a")
    assert "docker-credential-other is not in helpers.allow" in proc.stderr.decode()
    assert world.count() == 1  # only `store` ran


def test_config_errors_name_the_field(world: World) -> None:
    world.config.write_text("apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\nhelpers:\n  timeuot: 1s\n")
    proc = world.exec("r.example/a")
    assert proc.returncode == 1 and b"helpers.timeuot: unknown field" in proc.stderr


# --------------------------------------------------------------------------------------------------
# The long-lived resolver (and so the gRPC service): cache, single flight, back-off


def test_many_concurrent_requests_one_helper_call(world: World) -> None:
    world.helper("store", f"/bin/sleep 0.5\n{FOUND}")
    world.docker_config(credsStore="store")
    resolver = world.resolver()
    answers: list[str] = []
    barrier = threading.Barrier(24)

    def ask() -> None:
        barrier.wait()
        answers.append(resolver.get_credentials("r.example/team/app").credentials[0].username)

    threads = [threading.Thread(target=ask) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["helperuser"] * 24
    assert world.count() == 1
    # Cached afterwards: answer_pb, batches and explain run no helper either.
    resolver.answer_pb("r.example/other")
    resolver.batch_pb(["r.example/a", "r.example/b", "not a reference!"])
    (consulted,) = resolver.explain("r.example/a")["helpers"]
    assert consulted["cached"] is True
    assert world.count() == 1
    # The answer's cache duration never exceeds what remains of the helper answer's lifetime.
    assert resolver.get_credentials("r.example/a").cache_duration <= 300


def test_failing_helper_backs_off_exponentially_up_to_300s(world: World) -> None:
    world.helper("store", "exit 2")
    world.docker_config(credsStore="store")
    resolver = world.resolver()
    now = [1000.0]
    resolver.helper_cache = helper_cache.HelperCache(clock=lambda: now[0])
    runs_at: list[float] = []
    while now[0] < 2600:  # one request per simulated second
        before = world.count()
        answer = resolver.get_credentials("r.example/a")
        assert [c.username for c in answer.credentials] == ["fileuser"]
        if world.count() > before:
            runs_at.append(now[0] - 1000)
        now[0] += 1
    gaps = [b - a for a, b in itertools.pairwise(runs_at)]
    assert gaps == [10, 20, 40, 80, 160, 300, 300, 300, 300], gaps
    assert helper_cache.backoff(1) == 10 and helper_cache.backoff(20) == 300
    # While backing off, the answer's cache duration is at most the wait until the next try.
    assert resolver.get_credentials("r.example/a").cache_duration <= 300


def test_answers_expire_after_the_helpers_cache_duration(world: World) -> None:
    world.helper("store", FOUND)
    world.docker_config(credsStore="store")
    world.provider_config(helpers="enabled: true\ncacheDuration: 30s")
    resolver = world.resolver()
    now = [0.0]
    resolver.helper_cache = helper_cache.HelperCache(clock=lambda: now[0])
    assert resolver.get_credentials("r.example/a").cache_duration == 30
    now[0] = 20
    assert resolver.get_credentials("r.example/a").cache_duration == 10
    assert world.count() == 1
    now[0] = 31
    resolver.get_credentials("r.example/a")
    assert world.count() == 2


# --------------------------------------------------------------------------------------------------
# pullkey is a helper: docker-credential-pullkey


def as_helper(world: World, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(HELPER_BIN), *args], input=stdin, capture_output=True, env=world.env(), check=False)


def test_docker_credential_pullkey_protocol(world: World) -> None:
    world.provider_config(helpers="enabled: false")
    world.docker_config(
        auths={
            "r.example": {"username": "fileuser", "password": "filepass"},
            "r.example/team": {"username": "teamuser", "password": "tp"},
            "https://index.docker.io/v1/": {"username": "hubuser", "password": "hp"},
            "localhost:5000": {"username": "local", "password": "lp"},
        }
    )
    got = as_helper(world, "get", stdin=b"https://r.example/v2/\n")
    assert got.returncode == 0 and json.loads(got.stdout) == {
        "ServerURL": "r.example",
        "Username": "fileuser",
        "Secret": "filepass",
    }
    for hub in (b"https://index.docker.io/v1/", b"docker.io", b"index.docker.io\n", b"registry-1.docker.io"):
        out = json.loads(as_helper(world, "get", stdin=hub).stdout)
        assert (out["ServerURL"], out["Username"]) == (HUB, "hubuser"), hub
    assert json.loads(as_helper(world, "get", stdin=b"localhost:5000").stdout)["Secret"] == "lp"
    missing = as_helper(world, "get", stdin=b"nowhere.example")
    assert (missing.returncode, missing.stdout) == (1, b"credentials not found in native keychain\n")
    empty = as_helper(world, "get", stdin=b"\n")
    assert empty.returncode == 1 and empty.stdout.strip()
    listed = as_helper(world, "list")
    assert json.loads(listed.stdout) == {"r.example": "fileuser", HUB: "hubuser", "localhost:5000": "local"}
    for refused in ("store", "erase"):
        proc = as_helper(world, refused, stdin=b'{"ServerURL": "x", "Username": "u", "Secret": "s"}')
        assert proc.returncode == 1 and b"read-only" in proc.stdout and proc.stderr == b""
    version = as_helper(world, "version")
    assert version.returncode == 0 and _core.__version__ in version.stdout.decode()
    for bad in ((), ("nope",), ("get", "extra")):
        proc = as_helper(world, *bad)
        assert proc.returncode == 1 and b"Usage:" in proc.stdout


def test_docker_credential_pullkey_uses_helpers_when_enabled_but_never_itself(world: World) -> None:
    world.helper("store", FOUND)
    (world.bin / "docker-credential-pullkey").symlink_to(HELPER_BIN)
    world.docker_config(auths={}, credsStore="store", credHelpers={"loop.example": "pullkey"})
    got = json.loads(as_helper(world, "get", stdin=b"r.example").stdout)
    assert (got["Username"], got["Secret"]) == ("helperuser", SECRET)
    loop = as_helper(world, "get", stdin=b"loop.example")
    assert loop.returncode == 1 and b"not found" in loop.stdout
    assert world.count() == 1


def test_docker_credential_pullkey_start_up_is_lean(world: World) -> None:
    world.docker_config()
    code = (
        "import sys; from pullkey.credential_helper import main; rc = main(['get']); "
        "sys.stderr.write(' '.join(sorted(sys.modules)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], input=b"r.example", capture_output=True, env=world.env(), check=True
    )
    assert json.loads(proc.stdout)["Username"] == "fileuser"
    loaded = set(proc.stderr.decode().split())
    for heavy in ("json", "re", "typing", "argparse", "dataclasses", "grpc", "subprocess", "pullkey.cli"):
        assert heavy not in loaded, heavy


def test_never_global_when_helpers_answer(world: World) -> None:
    """A helper answers per registry: an answer the kubelet would reuse for every image must not be given."""
    world.helper("store", FOUND)
    world.docker_config(auths={}, credsStore="store")
    world.provider_config(extra="cache:\n  policy: Global\n")
    assert json.loads(world.exec("r.example/a").stdout)["cacheKeyType"] == "Registry"
    assert world.resolver().get_credentials("r.example/a").cache_key_type == "Registry"
    world.provider_config(helpers="enabled: false", extra="cache:\n  policy: Global\n")
    world.docker_config(auths={"r.example": {"username": "u", "password": "p"}})
    assert json.loads(world.exec("r.example/a").stdout)["cacheKeyType"] == "Global"


def test_grpc_service_many_requests_one_helper_call(world: World) -> None:
    """Through `pullkey serve`: concurrent GetCredentials for one registry run its helper once, off the
    event loop (another registry's request is answered meanwhile), and the answer is served from cache."""
    from pullkey.v1 import credential_pb2 as pb
    from test_grpc import running_server

    world.helper("store", f"/bin/sleep 1\n{FOUND}")
    world.helper("none", NOT_FOUND)
    world.docker_config(
        auths={"other.example": {"username": "o", "password": "op"}},
        credsStore="store",
        credHelpers={"other.example": "none"},
    )
    sock = Path(f"/tmp/pk-helpers-{os.getpid()}-{time.monotonic_ns() % 10**9}.sock")
    options = Options(config=str(world.config), home=str(world.home), environ=world.env())
    try:
        with running_server(options, f"unix://{sock}", watch_interval=0) as server:
            stub = server.stub
            users: list[str] = []
            start = time.monotonic()
            threads = [
                threading.Thread(
                    target=lambda: users.append(
                        stub.GetCredentials(pb.GetCredentialsRequest(image="r.example/a"), timeout=20)
                        .credentials[0]
                        .username
                    )
                )
                for _ in range(16)
            ]
            for t in threads:
                t.start()
            time.sleep(0.2)
            other = stub.GetCredentials(pb.GetCredentialsRequest(image="other.example/a"), timeout=20)
            other_at = time.monotonic() - start
            for t in threads:
                t.join()
            assert users == ["helperuser"] * 16
            assert other.credentials[0].username == "o" and other_at < 1.0  # not stuck behind the slow helper
            batch = stub.BatchGetCredentials(
                pb.BatchGetCredentialsRequest(images=["r.example/b", "other.example/c"]), timeout=20
            )
            assert [r.response.credentials[0].username for r in batch.results] == ["helperuser", "o"]
            calls = world.calls.read_text().splitlines()
            assert calls.count("store r.example") == 1 and calls.count("none other.example") == 1
    finally:
        sock.unlink(missing_ok=True)
