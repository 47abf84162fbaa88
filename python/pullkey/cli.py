"""The ``pullkey`` command line (everything but the kubelet exec path, which is :mod:`pullkey._exec`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence

import orjson

from pullkey import _core, _sources
from pullkey.errors import PullkeyError


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _json_line(obj: object) -> None:
    sys.stdout.buffer.write(orjson.dumps(obj) + b"\n")


_SUBCOMMANDS = {"get-credentials", "explain", "parse", "check", "kubelet-config", "probe", "version"}


def _add_source_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="pullkey ProviderConfig file (env PULLKEY_CONFIG)")
    p.add_argument("--root-dir", help="the kubelet --root-dir (env PULLKEY_ROOT_DIR, default /var/lib/kubelet)")
    p.add_argument("--search-policy", choices=_sources.SEARCH_POLICIES, help="merge (default) or first (kubelet)")
    p.add_argument("--strict", action="store_true", default=None, help="a malformed source is an error")
    p.add_argument("--cache-policy", choices=_sources.CACHE_POLICIES, help="cacheKeyType policy (default auto)")
    p.add_argument("--cache-duration", help="cacheDuration of kubelet answers, a Go duration (default 5m)")
    p.add_argument("--v", "-v", dest="verbosity", type=int, default=0, help="log verbosity (klog style)")


def _settings(args: argparse.Namespace) -> _sources.Settings:
    return _sources.load_settings(
        config_path=args.config,
        root_dir=args.root_dir,
        search_policy=args.search_policy,
        strict=args.strict,
        cache_policy=args.cache_policy,
        cache_duration=None if args.cache_duration is None else _core.parse_duration_seconds(args.cache_duration),
    )


def _references(refs: Iterable[str]) -> list[str]:
    out: list[str] = []
    for ref in refs:
        if ref == "-":
            out.extend(line.strip() for line in sys.stdin if line.strip())
        else:
            out.append(ref)
    return out


def cmd_parse(args: argparse.Namespace) -> int:
    texts = _references(args.refs)
    results = _core.parse_references(texts, normalize=not args.raw)
    failed = 0
    for text, result in zip(texts, results, strict=True):
        if isinstance(result, PullkeyError):
            failed += 1
            if args.json:
                _json_line(
                    {"input": text, "valid": False, "error": str(result), "code": result.code}
                    | dict.fromkeys(("domain", "path", "tag", "digest", "repository", "normalized", "familiar"))
                )
            else:
                _out(f"{text}\tinvalid\t{result}")
            continue
        if args.json:
            _json_line(
                {
                    "input": text,
                    "valid": True,
                    "error": None,
                    "domain": result.domain,
                    "path": result.path,
                    "tag": result.tag,
                    "digest": result.digest,
                    "repository": result.repository,
                    "normalized": result.normalized,
                    "familiar": result.familiar,
                    "default_pull_policy": result.default_pull_policy,
                }
            )
        else:
            _out(
                f"{text}\t{result.normalized}\trepository={result.repository}\tpull-policy={result.default_pull_policy}"
            )
    return 1 if failed else 0


def cmd_explain(args: argparse.Namespace) -> int:
    settings = _settings(args)
    keyring, warnings, used, _ = _sources.build(settings)
    result = keyring.explain(args.image)
    result["sources"] = used
    result["warnings"] = warnings
    if args.json:
        _json_line(result)
        return 0
    creds = result["credentials"]
    _out(f"image:       {result['image']}")
    _out(f"repository:  {result['repository']}")
    _out(f"policy:      search {settings.search_policy}, cache {settings.cache_policy}")
    _out("sources:     " + (", ".join(used) if used else "(none found)"))
    if creds:
        _out("credentials, in the order the kubelet tries them:")
        for i, c in enumerate(creds, 1):
            raw = f" (written {c['raw_key']!r})" if c["raw_key"] != c["key"] else ""
            via = "  [Docker Hub fallback: no key matched, index.docker.io is used]" if c["fallback"] else ""
            _out(f"  {i}. {c['key']}{raw}  username={c['username']!r}  from {c['source']}{via}")
    else:
        _out("credentials: none match: the kubelet pulls anonymously")
    if result["rejected"]:
        _out("keys that do not match:")
        for r in result["rejected"]:
            _out(f"  - {r['key']}  ({r['reason']})  from {r['source']}")
    for w in warnings:
        _out(f"warning: {w}")
    return 0


def _kubelet_config_files(path: str) -> list[tuple[str, bytes]]:
    # A recent kubelet accepts a directory: its .json/.yaml/.yml files, non-recursively, sorted by path.
    if os.path.isdir(path):
        names = sorted(
            os.path.join(path, n)
            for n in os.listdir(path)
            if n.endswith(_sources.MANIFEST_SUFFIXES) and not os.path.isdir(os.path.join(path, n))
        )
        if not names:
            raise PullkeyError(f"{path}: no .json, .yaml or .yml file in the directory")
    else:
        names = [path]
    files = []
    for name in names:
        with open(name, "rb") as f:
            files.append((name, f.read()))
    return files


def cmd_check(args: argparse.Namespace) -> int:
    errors: list[str] = []
    try:
        settings = _settings(args)
    except PullkeyError as e:
        _out(f"error: {e}")
        return 1
    _out(f"config: {settings.config_path or '(none: kubelet search paths under ' + settings.root_dir + ')'}")
    secrets, node, warnings, _ = _sources.collect(settings)
    for name, kind, data, _search in secrets + node:
        try:
            keyring, _, _ = _core.Keyring.build([(name, kind, data, False)], [], strict=True)
        except PullkeyError as e:
            errors.append(str(e))
            continue
        _out(f"ok: {name}: {len(keyring)} credential(s)")
    errors.extend(warnings)
    if args.kubelet_config:
        try:
            files = _kubelet_config_files(args.kubelet_config)
        except (OSError, PullkeyError) as e:
            errors.append(f"{args.kubelet_config}: {getattr(e, 'strerror', None) or e}")
        else:
            problems = _core.validate_kubelet_config(files)
            errors.extend(problems)
            if not problems:
                _out(f"ok: {args.kubelet_config}: valid CredentialProviderConfig")
    for error in errors:
        _out(f"error: {error}")
    _out("check: " + ("FAILED, " + str(len(errors)) + " error(s)" if errors else "ok"))
    return 1 if errors else 0


def cmd_kubelet_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    keyring, _, _, _ = _sources.build(settings)
    match_images = args.match_image or keyring.match_images()
    if not match_images:
        raise PullkeyError("no registry keys found in the configured sources; pass --match-image PATTERN")
    # The plugin must answer with the settings this config was generated for: hand them on as args.
    extra_args = []
    if args.config:
        extra_args += ["--config", os.path.abspath(args.config)]
    for flag, value in (
        ("--search-policy", args.search_policy),
        ("--cache-policy", args.cache_policy),
        ("--cache-duration", args.cache_duration),
    ):
        if value:
            extra_args += [flag, value]
    if args.strict:
        extra_args.append("--strict")
    extra_args += args.arg or []
    env = []
    if args.root_dir:
        env.append(("PULLKEY_ROOT_DIR", os.path.abspath(args.root_dir)))
    sys.stdout.write(_core.render_kubelet_config(args.name, match_images, settings.cache_duration, extra_args, env))
    return 0


def cmd_version(_args: argparse.Namespace) -> int:
    _out(f"pullkey {_core.__version__}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pullkey",
        description="Kubernetes image credential provider. With no subcommand: the kubelet exec plugin "
        "(CredentialProviderRequest on stdin, CredentialProviderResponse on stdout).",
    )
    parser.add_argument("--version", action="version", version=f"pullkey {_core.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("get-credentials", help="the kubelet exec plugin (the default)")
    _add_source_flags(p)

    p = sub.add_parser(
        "explain", help="which keys and credentials open IMAGE, in kubelet order, and why not the others"
    )
    _add_source_flags(p)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("image")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("parse", help="parse image references (- reads them from stdin)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--raw", action="store_true", help="raw Parse (no docker.io/library normalisation)")
    p.add_argument("refs", nargs="+", metavar="REF")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("check", help="validate pullkey's config, every source, and a kubelet CredentialProviderConfig")
    _add_source_flags(p)
    p.add_argument("--kubelet-config", help="a CredentialProviderConfig file or directory")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("kubelet-config", help="print a CredentialProviderConfig for this plugin")
    _add_source_flags(p)
    p.add_argument("--name", default="pullkey", help="the executable name in the kubelet's bin dir")
    p.add_argument("--match-image", action="append", help="matchImages entry (default: from the keys found)")
    p.add_argument("--arg", action="append", help="extra argument for the plugin")
    p.set_defaults(func=cmd_kubelet_config)

    from pullkey.probe import command as probe_command  # urllib3 loads only when `probe` runs

    probe_command.add_parser(sub, _add_source_flags)

    p = sub.add_parser("serve", help="the gRPC service (pullkey serve --help)", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    # Listed for --help only: main() hands `serve` and its flags to the gRPC server before argparse runs.

    p = sub.add_parser("version", help="print the version")
    p.set_defaults(func=cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if "serve" in args_list:
        # `pullkey [global flags] serve [serve flags]`: the gRPC server parses its own flags; global
        # flags written before `serve` are handed on to it.
        at = args_list.index("serve")
        if not _SUBCOMMANDS.intersection(args_list[:at]):
            from pullkey.server.cli import main as serve_main

            return serve_main(args_list[:at] + args_list[at + 1 :])
    parser = build_parser()
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:  # get-credentials with flags argparse had to check, or no command at all
        from pullkey._exec import _run

        opts = {
            flag: str(value)
            for flag, value in (
                ("--config", getattr(args, "config", None)),
                ("--root-dir", getattr(args, "root_dir", None)),
                ("--search-policy", getattr(args, "search_policy", None)),
                ("--cache-policy", getattr(args, "cache_policy", None)),
                ("--strict", getattr(args, "strict", None)),
            )
            if value
        }
        return _run(opts)
    try:
        code: int = func(args)
    except PullkeyError as e:
        sys.stderr.write(f"pullkey: {e}\n")
        return 1
    except OSError as e:
        sys.stderr.write(f"pullkey: {e.filename or ''}: {e.strerror}\n")
        return 1
    return code
