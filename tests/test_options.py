"""Every shared flag, in every spelling, through every entry point, means the same thing.

The table of :mod:`pullkey.options` is the one place the flags are defined; this test drives it. For
each case (a flag and a value that changes the answer) and each spelling argparse accepts (``--x v``,
``--x=v``, every alias, the environment variable, the config file field; before and after the
subcommand), it runs every entry point: the exec plugin as the kubelet runs it (a real subprocess), the
``get-credentials`` subcommand (hand-parsed, and through argparse), ``explain``, ``check``,
``kubelet-config`` (whose generated provider is then run from ``/``, as the kubelet runs it) and the
:class:`pullkey.Resolver`. Within an entry point every spelling must give the same output; across
entry points the meaning (loaded or not, which credentials, cacheKeyType, cacheDuration) must be the
Resolver's; and the flag must change something (else the test could not fail).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import PULLKEY, request, write_config
from pullkey import _core, _types
from pullkey._sources import build_keyring
from pullkey.cli import build_parser
from pullkey.errors import ConfigError, InvalidReference, InvalidRequest, NotLoaded, PullkeyError
from pullkey.options import FLAGS, Options, options_from
from pullkey.server import cli as serve_cli
from pullkey.service import Resolver

CONFIG_FIELDS: dict[str, Callable[[str], dict[str, object]]] = {  # Options field -> its config file field
    "root_dir": lambda v: {"rootDir": v},
    "search_policy": lambda v: {"searchPolicy": v},
    "strict": lambda v: {"strict": True},
    "cache_policy": lambda v: {"cache": {"policy": v}},
    "cache_duration": lambda v: {"cache": {"duration": v}},
}
TABLE = {dest: (spellings, kind, env) for dest, spellings, kind, env, _ in FLAGS}


@dataclass
class World:
    """Docker configs whose answers tell every setting apart. Nothing in the working directory."""

    tmp: Path
    home: Path
    cwd: Path

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULLKEY_")}
        env["HOME"] = str(self.home)
        return env


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("options")
    w = World(tmp, tmp / "home", tmp / "cwd")
    w.cwd.mkdir()
    write_config(w.home / ".docker" / "config.json", {"reg.example": {"username": "home", "password": "x"}})
    write_config(tmp / "root-a" / "config.json", {"reg.example/team": {"username": "root-a", "password": "x"}})
    write_config(tmp / "root-b" / "config.json", {"reg.example/team": {"username": "root-b", "password": "x"}})
    (tmp / "root-bad").mkdir()
    (tmp / "root-bad" / "config.json").write_text("not json")
    # A config whose rootDir is relative: to the config file's directory, never the working directory.
    (tmp / "conf").mkdir()
    (tmp / "conf" / "pullkey.yaml").write_text(
        "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\nrootDir: ../root-b\ncache: {duration: 2m}\n"
    )
    return w


@dataclass
class Case:
    dest: str
    value: str  # as on the command line ("" for a switch)
    image: str = "reg.example/team/app"
    # other settings, given canonically (``--flag value`` after the subcommand)
    extra: dict[str, str] = field(default_factory=dict)


CASES = [
    Case("config", "conf/pullkey.yaml"),
    Case("root_dir", "root-a"),
    Case("search_policy", "first", extra={"root_dir": "root-a"}),
    Case("strict", "", extra={"root_dir": "root-bad"}),
    Case("cache_policy", "Image", image="reg.example/x"),
    Case("cache_duration", "1m"),
    Case("verbosity", "1", extra={"root_dir": "root-bad"}),
]


@dataclass(frozen=True)
class Spelling:
    """How a case's flag is written: ``before``/``after`` the subcommand, or in ``env`` or ``config``."""

    name: str
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    config: str | None = None  # YAML of a config file given with --config


def spellings(case: Case, world: World) -> Iterator[Spelling]:
    names, kind, env = TABLE[case.dest]
    value = _absolute(case.dest, case.value, world)
    forms: list[tuple[str, ...]] = []
    for name in names:
        if kind == "switch":
            forms.append((name,))
        else:
            forms += [(name, value), (f"{name}={value}",)]
    if case.dest == "verbosity":
        forms.append(("-v" + value,))  # argparse only: the exec path hands it to the CLI
    for form in forms:
        yield Spelling(f"after {' '.join(form)}", after=form)
        if len(form) == 2 or form[0].startswith("-v"):  # `--x=v` before the subcommand parses as `--x v` does
            yield Spelling(f"before {' '.join(form)}", before=form)
    if env:
        yield Spelling(f"env {env}", env=((env, value),))
    if case.dest in CONFIG_FIELDS:
        yield Spelling("config file", config=json.dumps(CONFIG_FIELDS[case.dest](value)))


def _absolute(dest: str, value: str, world: World) -> str:
    # Paths are given relative to the world; the test runs every command in world.cwd, so absolute.
    return str(world.tmp / value) if dest in ("config", "root_dir") else value


def canonical_extra(case: Case, world: World) -> list[str]:
    out: list[str] = []
    for dest, value in case.extra.items():
        out += [TABLE[dest][0][0], _absolute(dest, value, world)]
    return out


@dataclass
class Invocation:
    before: list[str]
    after: list[str]
    env: dict[str, str]


def invocation(case: Case, spelling: Spelling, world: World) -> Invocation:
    env = world.base_env()
    env.update(dict(spelling.env))
    after = [*spelling.after, *canonical_extra(case, world)]
    if spelling.config is not None:
        path = world.tmp / "spelled" / f"{case.dest}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            "apiVersion: pullkey.dev/v1alpha1\nkind: ProviderConfig\n" + yaml.safe_dump(json.loads(spelling.config))
        )
        after += ["--config", str(path)]
    return Invocation(list(spelling.before), after, env)


# --------------------------------------------------------------------------------------------------
# Entry points: each returns its raw observation (compared across spellings) and its meaning.

Meaning = tuple[bool, frozenset[str], str | None, int | None]  # loaded, usernames, cacheKeyType, seconds


def _run(
    argv: list[str], env: dict[str, str], stdin: bytes | None = None, cwd: Path | str | None = None
) -> tuple[int, bytes, bytes]:
    proc = subprocess.run(argv, input=stdin, capture_output=True, env=env, cwd=cwd, timeout=60, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def _seconds(go: str) -> int:
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", go))


def _exec_meaning(rc: int, out: bytes) -> Meaning:
    if rc != 0:
        return (False, frozenset(), None, None)
    resp = json.loads(out)
    users = frozenset(entry["username"] for entry in resp["auth"].values())
    return (True, users, resp["cacheKeyType"], _seconds(resp["cacheDuration"]))


def exec_plugin(case: Case, inv: Invocation, world: World) -> tuple[object, Meaning]:
    # no subcommand: "before" and "after" are one list
    rc, out, err = _run([str(PULLKEY), *inv.before, *inv.after], inv.env, _request(case), world.cwd)
    return (rc, out, err), _exec_meaning(rc, out)


def get_credentials(case: Case, inv: Invocation, world: World) -> tuple[object, Meaning]:
    argv = [str(PULLKEY), *inv.before, "get-credentials", *inv.after]
    rc, out, err = _run(argv, inv.env, _request(case), world.cwd)
    return (rc, out, err), _exec_meaning(rc, out)


def get_credentials_argparse(case: Case, inv: Invocation, world: World) -> tuple[object, Meaning]:
    code = "import sys; from pullkey.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, *inv.before, "get-credentials", *inv.after]
    rc, out, err = _run(argv, inv.env, _request(case), world.cwd)
    return (rc, out, err), _exec_meaning(rc, out)


def explain(case: Case, inv: Invocation, world: World) -> tuple[object, Meaning]:
    argv = [str(PULLKEY), *inv.before, "explain", *inv.after, "--json", case.image]
    rc, out, err = _run(argv, inv.env, None, world.cwd)
    if rc != 0:
        return (rc, out, err), (False, frozenset(), None, None)
    result = json.loads(out)
    return (rc, result, err), (True, frozenset(c["username"] for c in result["credentials"]), None, None)


def check(case: Case, inv: Invocation, world: World) -> tuple[object, Meaning]:
    _, out, err = _run([str(PULLKEY), *inv.before, "check", *inv.after], inv.env, None, world.cwd)
    lines = out.decode().splitlines()
    # "config: FILE" names the file read; a setting spelled in a config file necessarily adds one
    if lines and lines[0].startswith("config: ") and case.dest != "config":
        lines = lines[1:]
    return (lines, err), (True, frozenset(), None, None)


def kubelet_config(case: Case, inv: Invocation, world: World) -> tuple[object, Meaning]:
    """The generated CredentialProviderConfig, run as the kubelet would: from /, its args and env."""
    argv = [str(PULLKEY), *inv.before, "kubelet-config", *inv.after]
    rc, out, err = _run(argv, inv.env, None, world.cwd)
    if rc != 0:
        return (rc, err), (False, frozenset(), None, None)
    provider = yaml.safe_load(out)["providers"][0]
    env = world.base_env()
    env.update({e["name"]: e["value"] for e in provider.get("env", [])})
    rc, out, _ = _run([str(PULLKEY), *provider.get("args", [])], env, _request(case), "/")
    meaning = _exec_meaning(rc, out)
    return (provider["defaultCacheDuration"], meaning), meaning


def resolver(case: Case, inv: Invocation, world: World) -> tuple[object, Meaning]:
    """The Resolver with the Options the flags give (as the CLI and the gRPC daemon build them)."""
    return _resolve(_options(inv, world), case.image)


def serve(case: Case, inv: Invocation, world: World) -> tuple[object, Meaning]:
    """The gRPC daemon's command line (``pullkey [flags] serve [flags]``: the flags before ``serve`` are
    handed on), parsed by the daemon's own parser into the Options its Resolver loads."""
    args = serve_cli.build_parser().parse_args([*inv.before, *inv.after])
    options, _ = serve_cli.settings_from(args)
    process = {"environ": inv.env, "cwd": str(world.cwd), "home": str(world.home)}
    values: dict[str, typing.Any] = {name: getattr(options, name) for name in Options.__slots__}
    return _resolve(Options(**{**values, **process}), case.image)


def _options(inv: Invocation, world: World) -> Options:
    namespace = build_parser().parse_args([*inv.before, "get-credentials", *inv.after])
    return options_from(vars(namespace), environ=inv.env, cwd=str(world.cwd), home=str(world.home))


def _resolve(options: Options, image: str) -> tuple[object, Meaning]:
    r = Resolver(options)
    try:
        r.load()
    except PullkeyError as e:
        return (type(e).__name__, e.code), (False, frozenset(), None, None)
    answer = r.get_credentials(image)
    users = frozenset(c.username for c in answer.credentials)
    meaning = (True, users, answer.cache_key_type, answer.cache_duration)
    return (meaning, r.explain(image)), meaning


def _request(case: Case) -> bytes:
    return json.dumps(request(case.image)).encode()


ENTRY_POINTS = {
    "exec": exec_plugin,
    "get-credentials": get_credentials,
    "get-credentials (argparse)": get_credentials_argparse,
    "explain": explain,
    "check": check,
    "kubelet-config": kubelet_config,
    "Resolver": resolver,
    "serve": serve,
}


def _agrees(entry: str, meaning: Meaning, expected: Meaning) -> bool:
    if entry == "check":  # check reads each source on its own: it says nothing about these settings
        return True
    if entry == "explain":  # no cache hints in explain
        return meaning[:2] == expected[:2]
    return meaning == expected


@pytest.mark.parametrize("case", CASES, ids=[c.dest for c in CASES])
def test_every_spelling_means_the_same_through_every_entry_point(case: Case, world: World) -> None:
    all_spellings = list(spellings(case, world))
    assert len(all_spellings) >= 2
    canonical = invocation(case, all_spellings[0], world)
    expected = _resolve(_options(canonical, world), case.image)[1]
    baseline = Invocation([], canonical_extra(case, world), world.base_env())
    jobs = {
        (entry, spelling.name): (observe, invocation(case, spelling, world))
        for entry, observe in ENTRY_POINTS.items()
        for spelling in [*all_spellings, Spelling("baseline")]
        # the exec plugin has no subcommand: "before" is the same argv as "after"
        if not (entry == "exec" and spelling.before)
    }
    for key in jobs:
        if key[1] == "baseline":
            jobs[key] = (jobs[key][0], baseline)
    with ThreadPoolExecutor(max_workers=4) as pool:  # the processes wait on each other's start-up
        futures = {key: pool.submit(observe, case, inv, world) for key, (observe, inv) in jobs.items()}
        results = {key: future.result() for key, future in futures.items()}
    changed = False
    for entry in ENTRY_POINTS:
        observed = {name: result for (e, name), result in results.items() if e == entry and name != "baseline"}
        first = next(iter(observed.values()))[0]
        for name, (raw, meaning) in observed.items():
            assert _agrees(entry, meaning, expected), (entry, name, meaning, expected)
            assert raw == first, (entry, name, raw, first)
        changed |= results[(entry, "baseline")][0] != first
    assert changed, f"{case.dest}={case.value!r} changed nothing: the test cannot fail"


# --------------------------------------------------------------------------------------------------
# The table and the names


def test_abbreviations_are_refused_everywhere(world: World) -> None:
    """`--root` is not `--root-dir`, in the exec path and in every command (argparse allow_abbrev=False)."""
    env = world.base_env()
    req = json.dumps(request("reg.example/team/app")).encode()
    for argv in (
        ["--cache-duration", "1m", "--root", "x"],
        ["get-credentials", "--cache-duration", "1m", "--root", "x"],
        ["explain", "--root", "x", "img"],
        ["check", "--root", "x"],
        ["kubelet-config", "--root", "x"],
        ["--root", "x", "explain", "img"],
        ["serve", "--root", "x"],
        ["--root", "x", "serve"],
    ):
        rc, out, err = _run([str(PULLKEY), *argv], env, req, world.cwd)
        assert (rc, out) == (2, b""), argv
        prog = b"pullkey serve: error: " if "serve" in argv else b"pullkey: error: "
        assert prog in err and b"--root-dir" in err, (argv, err)
        assert err.count(b"\n") == 1, (argv, err)  # one line: the error, naming the flag it is not


def test_help_lists_the_exec_flags() -> None:
    out = subprocess.run([str(PULLKEY), "--help"], capture_output=True, check=True).stdout.decode()
    for _, names, _, _, _ in FLAGS:
        for name in names:
            assert name in out, name


def test_literal_types_spell_the_core_names() -> None:
    """The names are spelled by the core; the Literal types repeat them for mypy and must agree."""
    for literal, names in (
        (_types.CachePolicy, _core.CACHE_POLICIES),
        (_types.CacheKeyType, _core.CACHE_KEY_TYPES),
        (_types.SearchPolicy, _core.SEARCH_POLICIES),
        (_types.SourceType, _core.SOURCE_TYPES),
        (_types.DockerConfigFormat, _core.DOCKER_CONFIG_FORMATS),
        (_types.SourceFormat, _core.SOURCE_FORMATS),
    ):
        assert typing.get_args(literal) == names


def test_exec_path_imports_stay_lean(world: World) -> None:
    """The kubelet pays the exec path's start-up on every uncached pull: no json, re, typing, argparse,
    dataclasses or grpc on it (they cost milliseconds each)."""
    code = (
        "import sys; from pullkey._launch import main; rc = main(sys.argv[1:]); "
        "sys.stderr.write(' '.join(sorted(sys.modules)))"
    )
    root = str(world.tmp / "root-a")
    proc = subprocess.run(
        [sys.executable, "-c", code, "--root-dir", root, "--cache-duration", "1m"],
        input=json.dumps(request("reg.example/team/app")).encode(),
        capture_output=True,
        env=world.base_env(),
        check=True,
    )
    assert json.loads(proc.stdout)["cacheDuration"] == "1m0s"
    loaded = set(proc.stderr.decode().split())
    for heavy in ("json", "re", "typing", "argparse", "dataclasses", "grpc", "pullkey.cli", "pullkey.service"):
        assert heavy not in loaded, heavy


def test_errors_are_pullkey_errors_with_a_stable_code() -> None:
    """What used to reach Python as a bare ValueError from the binding is a ConfigError with its code."""
    keyring = _core.Keyring.from_docker_config({"auths": {}})
    with pytest.raises(ConfigError) as info:
        _core._exec_respond(keyring, b"{}", "Bogus", 300)  # type: ignore[arg-type]
    assert info.value.code == "invalid_config"
    with pytest.raises(ConfigError) as info:
        _core.SourceFile("x", "yaml", b"")  # type: ignore[arg-type]
    assert info.value.code == "invalid_config"
    with pytest.raises(ConfigError) as info:
        _core._build_keyring([], [], "last")  # type: ignore[arg-type]
    assert info.value.code == "invalid_config"
    with pytest.raises(ConfigError) as info:
        _core.Keyring.from_docker_config("{not json")
    assert info.value.code == "invalid_docker_config"
    with pytest.raises(TypeError):
        _core.Keyring()  # no empty keyring: it could never be filled
    for cls, code in ((InvalidRequest, "invalid_request"), (NotLoaded, "not_loaded"), (PullkeyError, "error")):
        assert cls("x").code == code
    assert InvalidReference("x", "name_empty").code == "name_empty"


def test_strict_is_decided_by_the_loader_for_read_and_parse_errors(world: World) -> None:
    """One owner: a missing file and an unparseable one are both warnings, or both strict errors."""
    bad = _core.SourceFile(str(world.tmp / "root-bad" / "config.json"), "auto", b"not json")
    keyring, warnings, used = build_keyring([bad], [], "merge", strict=False, problems=["x: does not exist"])
    assert (len(keyring), used) == (0, [])
    assert warnings[0] == "x: does not exist" and "skipped" in warnings[1]
    with pytest.raises(ConfigError) as info:
        build_keyring([bad], [], "merge", strict=True, problems=["x: does not exist"])
    assert (str(info.value), info.value.code) == ("x: does not exist", "unreadable_source")
    with pytest.raises(ConfigError) as info:
        build_keyring([bad], [], "merge", strict=True)
    assert info.value.code == "invalid_docker_config" and str(info.value).startswith(bad.name)
