"""The one loader's first half: the shared flag table, :class:`Options` and the effective :class:`Settings`.

Every entry point reads the source flags through this module, so a flag means the same in any
position and any entry point:

- the exec plugin (``pullkey [flags] [get-credentials] < request.json``) hand-parses ``argv`` with
  :func:`parse_exec_args` (argparse costs the kubelet ~10 ms per call);
- every CLI command, and the gRPC daemon, add the same flags to their argparse parser with
  :func:`add_source_flags`;
- both then call :func:`options_from` to get an :class:`Options`, and the loader
  (:func:`pullkey._load.load`, used by :class:`pullkey.Resolver` too) turns it into
  :class:`Settings` (:func:`settings_from`) and the loaded state.

Precedence: command-line flag > environment variable > config file field > default. Long flags are
never abbreviated (``--root`` is not ``--root-dir``): a kubelet config written today must not change
meaning when a flag is added tomorrow.

Paths: a path given by a flag or an environment variable is relative to the working directory; a path
inside a config file (``rootDir``, ``sources[].path``) is relative to the directory of that file (the
kubelet runs plugins from ``/``, so a config must not depend on the working directory).

The exec path imports this module: it imports only ``os``, ``sys`` and the Rust core.
"""

from __future__ import annotations

import os

from pullkey import _core

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping
    from typing import TypeVar

    from pullkey._core import ConfigSource, HelpersConfig, Tenants
    from pullkey._types import CachePolicy, SearchPolicy
    from pullkey.upstreams import UpstreamTuple

    T = TypeVar("T", bound=str)

DEFAULT_ROOT_DIR = "/var/lib/kubelet"
CONFIG_ENV = "PULLKEY_CONFIG"
ROOT_DIR_ENV = "PULLKEY_ROOT_DIR"

# The flag table: (Options field, spellings, value kind, environment variable, help). Value kinds:
# "str" (a value), "switch" (no value), "int" (digits). The config file fields are pullkey's
# ProviderConfig (rootDir, searchPolicy, strict, cache.policy, cache.duration), read by the core.
FLAGS: tuple[tuple[str, tuple[str, ...], str, str | None, str], ...] = (
    ("config", ("--config",), "str", CONFIG_ENV, f"pullkey ProviderConfig file (env {CONFIG_ENV})"),
    (
        "root_dir",
        ("--root-dir",),
        "str",
        ROOT_DIR_ENV,
        f"the kubelet --root-dir (env {ROOT_DIR_ENV}, config rootDir, default {DEFAULT_ROOT_DIR})",
    ),
    ("search_policy", ("--search-policy",), "str", None, "merge (default) or first (the kubelet's first file wins)"),
    ("strict", ("--strict",), "switch", None, "a missing or malformed source is an error, not a warning"),
    ("cache_policy", ("--cache-policy",), "str", None, "cacheKeyType policy (default auto)"),
    ("cache_duration", ("--cache-duration",), "str", None, "cacheDuration of answers, a Go duration (default 5m)"),
    ("verbosity", ("--v", "-v"), "int", None, "log verbosity, klog style (1: warnings on stderr)"),
    (
        "helpers",
        ("--helpers",),
        "switch",
        None,
        "run the docker credential helpers node docker configs name (config helpers.enabled; docs/helpers.md)",
    ),
)
CHOICES: dict[str, tuple[str, ...]] = {
    "search_policy": _core.SEARCH_POLICIES,
    "cache_policy": _core.CACHE_POLICIES,
}
_BY_SPELLING = {spelling: (dest, kind) for dest, spellings, kind, _, _ in FLAGS for spelling in spellings}
EXEC_SUBCOMMAND = "get-credentials"


class Options:
    """How to find sources and answer: the shared flags. ``None`` means: take it from the environment,
    the config file, or the default. ``cwd``, ``home`` and ``environ`` replace the process's (tests)."""

    __slots__ = (
        "cache_duration",
        "cache_policy",
        "config",
        "cwd",
        "environ",
        "helpers",
        "home",
        "root_dir",
        "search_policy",
        "strict",
        "verbosity",
    )
    config: str | None
    root_dir: str | None
    search_policy: str | None  # a SearchPolicy name: checked by settings_from
    strict: bool | None
    cache_policy: str | None  # a CachePolicy name: checked by settings_from
    cache_duration: int | None
    verbosity: int | None
    helpers: bool | None
    cwd: str | None
    home: str | None
    environ: Mapping[str, str] | None

    def __init__(
        self,
        *,
        config: str | None = None,
        root_dir: str | None = None,
        search_policy: str | None = None,
        strict: bool | None = None,
        cache_policy: str | None = None,
        cache_duration: int | None = None,
        verbosity: int | None = None,
        helpers: bool | None = None,
        cwd: str | None = None,
        home: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        values = locals()
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Options is immutable: cannot set {name!r}")

    def _items(self) -> tuple[tuple[str, object], ...]:
        return tuple((name, getattr(self, name)) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Options) and self._items() == other._items()

    def __hash__(self) -> int:
        return hash(self._items())

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in self._items() if v is not None and n != "environ")
        return f"Options({shown})"


def parse_exec_args(argv: list[str]) -> dict[str, str] | None:
    """The flag values of an exec invocation (``[flags] [get-credentials] [flags]``) by ``Options`` field;
    ``None`` when ``argv`` is anything else (a subcommand, ``--help``, an unknown or abbreviated flag, a
    missing value): argparse in :mod:`pullkey.cli` then runs the command or gives the proper message.

    Accepts exactly what argparse accepts for these flags: ``--x v``, ``--x=v``, ``-v 3``, ``-v=3``."""
    values: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == EXEC_SUBCOMMAND:
            continue
        name, eq, value = arg.partition("=")
        dest, kind = _BY_SPELLING.get(name, ("", ""))
        if kind == "switch":
            if eq:
                return None
            value = "1"
        elif kind:
            if not eq:
                if i >= len(argv):
                    return None
                value = argv[i]
                i += 1
            if kind == "int" and not value.isdigit():
                return None
        else:
            return None
        values[dest] = value
    return values


def add_source_flags(parser: argparse.ArgumentParser) -> None:
    """Adds the shared flags to ``parser`` (the CLI's main parser and each subcommand's, the gRPC
    daemon's). Absent flags are absent from the namespace (``SUPPRESS``), so a flag given before a
    subcommand is not reset by the subcommand's parser; :func:`options_from` reads the namespace.
    Create ``parser`` with ``allow_abbrev=False``."""
    import argparse

    for dest, spellings, kind, _env, help_text in FLAGS:
        if kind == "switch":
            parser.add_argument(*spellings, dest=dest, action="store_true", default=argparse.SUPPRESS, help=help_text)
        else:
            parser.add_argument(
                *spellings,
                dest=dest,
                type=int if kind == "int" else str,
                choices=CHOICES.get(dest),
                default=argparse.SUPPRESS,
                help=help_text,
                metavar="N" if kind == "int" else None,
            )


def options_from(values: Mapping[str, object], **process: object) -> Options:
    """The :class:`Options` of parsed flag values (:func:`parse_exec_args`' dict, or ``vars()`` of an
    argparse namespace). Raises ``ConfigError`` for a malformed ``--cache-duration``. ``process``
    passes ``cwd``, ``home`` or ``environ`` through."""
    duration = values.get("cache_duration")
    verbosity = values.get("verbosity")
    seconds = None
    if duration is not None:
        from pullkey.errors import ConfigError

        try:
            seconds = _core.parse_duration_seconds(str(duration))
        except ConfigError as e:
            raise ConfigError(f"--cache-duration: {e}") from None
    return Options(
        config=_str_or_none(values.get("config")),
        root_dir=_str_or_none(values.get("root_dir")),
        search_policy=_str_or_none(values.get("search_policy")),
        strict=True if values.get("strict") else None,
        cache_policy=_str_or_none(values.get("cache_policy")),
        cache_duration=seconds,
        verbosity=None if verbosity is None else int(str(verbosity)),
        helpers=True if values.get("helpers") else None,
        **process,  # type: ignore[arg-type]
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


class Settings:
    """The effective settings: command-line flag > environment > config file > default."""

    __slots__ = (
        "cache_duration",
        "cache_policy",
        "config_path",
        "cwd",
        "helpers",
        "home",
        "mirrors",
        "root_dir",
        "search_policy",
        "sources",
        "strict",
        "tenants",
        "upstreams",
        "verbosity",
    )
    config_path: str | None
    root_dir: str
    search_policy: SearchPolicy
    strict: bool
    cache_policy: CachePolicy
    cache_duration: int
    sources: list[ConfigSource]
    tenants: Tenants | None  # credential sets chosen by service-account token (pullkey.tenants)
    verbosity: int
    helpers: HelpersConfig  # docs/helpers.md
    mirrors: list[tuple[str, list[str]]]  # (registry, endpoints) per rule, docs/mirrors.md
    upstreams: list[UpstreamTuple]  # other kubelet plugins as a source (pullkey.upstreams)
    cwd: str
    home: str

    def __repr__(self) -> str:
        return "Settings(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"


def settings_from(options: Options) -> Settings:
    """Reads pullkey's config file (``--config`` or ``PULLKEY_CONFIG``) and applies ``options`` over it.

    Raises ``ConfigError`` when the file cannot be read or parsed, or a policy name is unknown."""
    from pullkey.errors import ConfigError

    env = os.environ if options.environ is None else options.environ
    s = Settings()
    s.config_path = options.config or env.get(CONFIG_ENV) or None
    config = _core.ProviderConfig()  # the defaults
    base = ""
    if s.config_path:
        from pullkey._files import NotRead, quote, read_regular

        name = quote(s.config_path)
        try:
            data = read_regular(s.config_path)  # never blocks (a FIFO), never truncated (over the limit)
        except (OSError, NotRead) as e:
            reason = e.strerror if isinstance(e, OSError) else str(e)
            raise ConfigError(f"{name}: cannot read pullkey config: {reason}") from None
        config = _core.load_provider_config(data, name)
        base = os.path.dirname(os.path.abspath(s.config_path))
    config_root = config.root_dir and os.path.join(base, config.root_dir)
    s.root_dir = options.root_dir or env.get(ROOT_DIR_ENV) or config_root or DEFAULT_ROOT_DIR
    s.search_policy = _one_of(_core.SEARCH_POLICIES, options.search_policy or config.search_policy, "--search-policy")
    s.strict = config.strict if options.strict is None else options.strict
    s.cache_policy = _one_of(_core.CACHE_POLICIES, options.cache_policy or config.cache_policy, "--cache-policy")
    s.cache_duration = config.cache_duration if options.cache_duration is None else options.cache_duration
    s.sources = [
        source.with_path(os.path.join(base, source.path)) if base and source.path else source
        for source in config.sources
    ]
    s.tenants = config.tenants
    s.mirrors = config.mirrors
    s.upstreams = config.upstreams
    s.verbosity = options.verbosity or 0
    s.helpers = config.helpers.with_enabled(True) if options.helpers else config.helpers
    # os.getcwd() raises when the working directory was removed; the kubelet then resolves "" to it anyway.
    try:
        s.cwd = options.cwd if options.cwd is not None else os.getcwd()
    except OSError:
        s.cwd = "."
    s.home = options.home if options.home is not None else env.get("HOME", "")
    return s


def _one_of(names: tuple[T, ...], value: str, flag: str) -> T:
    """``value`` as one of ``names`` (typed as their ``Literal``); ``ConfigError`` otherwise."""
    for name in names:
        if name == value:
            return name
    from pullkey.errors import ConfigError

    expected = " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)
    raise ConfigError(f"{flag}: expected {expected}, got {value!r}")
