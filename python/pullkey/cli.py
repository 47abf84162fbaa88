"""The ``pullkey`` command line: every subcommand but ``serve`` (the gRPC daemon, :mod:`pullkey.grpc_server`).

The kubelet exec path is :mod:`pullkey._exec`; it hands an invocation it does not recognise to
:func:`main`. Every command reads the shared flags of :mod:`pullkey.options` (before or after the
subcommand, never abbreviated) and loads sources through :class:`pullkey.service.Resolver`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import orjson

from pullkey import _core, _sources
from pullkey._argparse import Parser, long_flags
from pullkey._sources import NotRead, one_line, quote, read_regular, write_err
from pullkey._types import Explanation, TenantExplanation, TokenExplanation
from pullkey.errors import ConfigError, InvalidReference, PullkeyError
from pullkey.options import ROOT_DIR_ENV, Options, Settings, add_source_flags, options_from, settings_from
from pullkey.service import Resolver

if TYPE_CHECKING:
    pass


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _json_line(obj: object) -> None:
    sys.stdout.buffer.write(orjson.dumps(obj) + b"\n")


_SUBCOMMANDS = {
    "get-credentials",
    "explain",
    "parse",
    "check",
    "kubelet-config",
    "runtime-config",
    "probe",
    "version",
}


def _loaded(options: Options) -> Resolver:
    resolver = Resolver(options)
    resolver.load()
    return resolver


def _utf8(ref: str) -> str:
    """``ref`` (an argument, a line of input), refused when it is not UTF-8 (its undecodable bytes
    are surrogate escapes): no image reference can contain such bytes."""
    try:
        ref.encode()
    except UnicodeEncodeError:
        raise InvalidReference(f"{quote(ref)}: not valid UTF-8", "invalid_format", ref) from None
    return ref


def _references(refs: Iterable[str]) -> list[str]:
    out: list[str] = []
    for ref in refs:
        if ref == "-":
            for raw in sys.stdin.buffer:
                line = raw.decode(errors="surrogateescape").strip()
                if line:
                    out.append(_utf8(line))
        else:
            out.append(_utf8(ref))
    return out


def cmd_parse(args: argparse.Namespace, _options: Options) -> int:
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


def _read_token(path: str) -> str:
    """The token in ``path`` (``-``: stdin), surrounding white space removed. Never printed."""
    if path == "-":
        return sys.stdin.read().strip()
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def _explain_tenant(tenant: TenantExplanation | None) -> None:
    if tenant is None:
        _out("tenants:     not configured (the token changes nothing)")
        return
    identity = tenant["identity"]
    if tenant["token_error"] is not None:
        _out(f"identity:    none: token rejected ({tenant['token_error_code']}): {tenant['token_error']}")
    elif identity is not None:
        how = "signature verified" if identity["verified"] else "signature NOT verified: trustKubeletRequest"
        _out(f"identity:    {identity['namespace']}/{identity['service_account']} (pod {identity['pod']}, {how})")
    _out("credential set: " + (tenant["selected"] or "none (node sources only)"))
    for verdict in tenant["sets"]:
        state = "chosen" if verdict["selected"] else "not chosen"
        _out(f"  - {verdict['name']}: {state}: {verdict['reason']}")


def cmd_explain(args: argparse.Namespace, options: Options) -> int:
    image = _utf8(args.image)
    resolver = _loaded(options)
    result: Explanation | TokenExplanation
    if args.token_file is not None:
        result = resolver.explain_token(image, _read_token(args.token_file))
    else:
        result = resolver.explain(image)
    settings, used, warnings = resolver.state.settings, result["sources"], result["warnings"]
    if args.json:
        _json_line(result)
        return 0
    creds = result["credentials"]
    _out(f"image:       {result['image']}")
    _out(f"repository:  {result['repository']}")
    if "tenant" in result:
        _explain_tenant(result["tenant"])  # type: ignore[typeddict-item]
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
    _explain_helpers(result)
    _explain_mirrors(result)
    if result["rejected"]:
        _out("keys that do not match:")
        for r in result["rejected"]:
            _out(f"  - {r['key']}  ({r['reason']})  from {r['source']}")
        more = result["rejected_total"] - len(result["rejected"])
        if more > 0:
            _out(f"  ... and {more} more (the nearest {len(result['rejected'])} to the image are listed)")
    for w in warnings:
        _out(one_line(f"warning: {w}"))
    return 0


def _explain_mirrors(result: Explanation) -> None:
    """The mirrors rule and the order of the exec answer (docs/mirrors.md §2 step 5); never the secret."""
    if "mirrors" not in result:
        return
    plan = result["mirrors"]
    if plan is None:
        _out("mirrors:     no rule matches this registry: the answer above is sent as is")
        return
    _out(f"mirrors:     rule {plan['registry']} -> " + ", ".join(plan["endpoints"]))
    for name in plan["images"]:
        _out(f"  mirror image: {name}")
    if plan["order"]:
        _out("exec answer, in the order the kubelet passes the credentials to the runtime (cacheKeyType Image):")
        for i, t in enumerate(plan["order"], 1):
            _out(f"  {i}. username={t['username']!r}  found for {t['image']}")
    else:
        _out("exec answer: no credential for the mirrors or the image: the kubelet pulls anonymously")


def _explain_helpers(result: Explanation) -> None:
    """The helpers consulted (docs/helpers.md "explain"): name, outcome, duration; never the secret."""
    if "helpers" not in result:
        return
    consulted = result["helpers"]
    if not consulted:
        _out("helpers:     none consulted (no docker config names a helper for this registry)")
        return
    _out("helpers consulted (their answers come after pull secrets, before node docker configs):")
    for h in consulted:
        outcome: str = h["outcome"]
        if outcome == "found":
            outcome += f", username={h['username']!r}"
            if h["identity_token"]:
                outcome += " is an identity token: the kubelet cannot use it (the exec response carries only "
                outcome += "a username and a password), not used"
        elif h["message"]:
            outcome += f": {h['message']}"
        cached = ", cached" if h["cached"] else ""
        _out(f"  - {h['program']} for {h['server_url']} ({h['source']}): {outcome}  [{h['duration_ms']:g} ms{cached}]")


def _kubelet_config_files(path: str) -> list[tuple[str, bytes]]:
    """The files of a kubelet ``--image-credential-provider-config``, read like every source (never
    blocking, regular files only, within the limits of :mod:`pullkey._sources`)."""
    # A recent kubelet accepts a directory: its .json/.yaml/.yml files, non-recursively, sorted by path.
    if os.path.isdir(path):
        names = sorted(
            os.path.join(path, n)
            for n in os.listdir(path)
            if n.endswith(_sources.MANIFEST_SUFFIXES) and not os.path.isdir(os.path.join(path, n))
        )
        if not names:
            raise ConfigError(f"{quote(path)}: no .json, .yaml or .yml file in the directory")
        if len(names) > _sources.MAX_DIR_ENTRIES:
            raise ConfigError(f"{quote(path)}: more than {_sources.MAX_DIR_ENTRIES} files, the limit for one directory")
    else:
        names = [path]
    files = []
    for name in names:
        try:
            files.append((quote(name), read_regular(name)))
        except NotRead as e:
            raise ConfigError(f"{quote(name)}: not read: {e}") from None
    return files


def cmd_check(args: argparse.Namespace, options: Options) -> int:
    errors: list[str] = []
    try:
        settings = settings_from(options)
    except PullkeyError as e:
        _out(one_line(f"error: {e}"))
        return 1
    _out(f"config: {settings.config_path or '(none: kubelet search paths under ' + settings.root_dir + ')'}")
    secrets, node, warnings, _ = _sources.collect(settings)
    for source in secrets + node:
        try:  # each source on its own, strictly
            keyring, _, _ = _sources.build_keyring([source], [], "merge", strict=True)
        except PullkeyError as e:
            errors.append(str(e))
            continue
        _out(f"ok: {source.name}: {len(keyring)} credential(s)")
    errors.extend(warnings)
    if settings.tenants is not None:
        errors.extend(_check_tenants(settings))
    if args.kubelet_config:
        try:
            files = _kubelet_config_files(args.kubelet_config)
        except OSError as e:
            errors.append(f"{quote(args.kubelet_config)}: {e.strerror}")
        except PullkeyError as e:
            errors.append(str(e))
        else:
            problems = _core.validate_kubelet_config(files)
            errors.extend(problems)
            if not problems:
                _out(f"ok: {args.kubelet_config}: valid CredentialProviderConfig")
    for error in errors:
        _out(one_line(f"error: {error}"))
    _out("check: " + ("FAILED, " + str(len(errors)) + " error(s)" if errors else "ok"))
    return 1 if errors else 0


def _check_tenants(settings: Settings) -> list[str]:
    """``check`` of the tenants block: the JWKS and every credential set's sources (strictly)."""
    from pullkey import tenants

    t = settings.tenants
    assert t is not None
    errors: list[str] = []
    try:
        verifier = tenants.verifier(t, settings)
    except PullkeyError as e:
        if not t.trust_kubelet_request or t.jwks_path is not None:
            errors.append(str(e))
    else:
        _out(f"ok: {tenants.jwks_file(t, settings)}: {len(verifier.kids)} signing key(s) of {t.issuer}")
        errors.extend(verifier.warnings)
    strict = Settings()
    for name in strict.__slots__:
        setattr(strict, name, getattr(settings, name))
    strict.strict = True
    for index, name in enumerate(t.set_names):
        try:
            keyring, _, used, _ = tenants.set_keyring(strict, t, index)
        except PullkeyError as e:
            errors.append(f"credential set {name}: {e}")
            continue
        _out(f"ok: credential set {name}: {', '.join(used)}: {len(keyring)} credential(s)")
    return errors


def _rbac(audience: str, name: str) -> str:
    """The RBAC the kubelet needs to request tokens for ``audience`` (ServiceAccountNodeAudienceRestriction,
    kubernetes/kubernetes plugin/pkg/admission/noderestriction (v1.34): without it a node may only request
    audiences its pods already use): verb ``request-serviceaccounts-token-audience`` on the audience, as a
    core-group resource, granted to every node."""
    role = f"{name}-token-audience"
    quoted = orjson.dumps(audience).decode()
    return (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
        f"metadata:\n  name: {role}\n"
        f'rules:\n  - apiGroups: [""]\n    resources: [{quoted}]\n'
        '    verbs: ["request-serviceaccounts-token-audience"]\n'
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
        f"metadata:\n  name: {role}\n"
        f"roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {role}\n"
        "subjects:\n  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: system:nodes\n"
    )


def cmd_kubelet_config(args: argparse.Namespace, options: Options) -> int:
    if args.tenants or args.rbac:
        tenants = settings_from(options).tenants
        if tenants is None:
            raise ConfigError("--tenants needs a tenants block (and credentialSets) in pullkey's config")
        if args.rbac:
            sys.stdout.write(_rbac(tenants.audience, args.name))
            return 0
    resolver = _loaded(options)
    # Mirrored registries (docs/mirrors.md) are asked about even without a key of their own.
    mirrored = [registry for registry, _ in resolver.state.settings.mirrors]
    # ... and so are the images upstream plugins answer for (docs/provider-config.md "Upstream plugins").
    upstream = [pattern for u in resolver.state.settings.upstreams for pattern in u[5]]
    match_images = args.match_image or sorted({*resolver.state.keyring.match_images(), *mirrored, *upstream})
    if not match_images:
        raise ConfigError("no registry keys found in the configured sources; pass --match-image PATTERN")
    # The plugin must answer with the settings this config was generated for: hand on what flags and
    # environment set (the config file's own fields it reads itself). The kubelet runs the plugin
    # from / with its own environment: paths are made absolute, environment variables become `env`.
    flags = vars(args)
    settings = resolver.state.settings
    extra_args = []
    if settings.config_path:
        extra_args += ["--config", os.path.abspath(settings.config_path)]
    for flag, dest in (
        ("--search-policy", "search_policy"),
        ("--cache-policy", "cache_policy"),
        ("--cache-duration", "cache_duration"),
    ):
        if flags.get(dest):
            extra_args += [flag, str(flags[dest])]
    if options.strict:
        extra_args.append("--strict")
    extra_args += args.arg or []
    env = []
    root_dir = options.root_dir or os.environ.get(ROOT_DIR_ENV)
    if root_dir:
        env.append((ROOT_DIR_ENV, os.path.abspath(root_dir)))
    rendered = _core.render_kubelet_config(args.name, match_images, settings.cache_duration, extra_args, env)
    if args.tenants and settings.tenants is not None:
        rendered += _core.render_token_attributes(settings.tenants)
    # What `check --kubelet-config` (the kubelet's validation) would reject is never printed.
    problems = _core.validate_kubelet_config([("kubelet-config", rendered.encode())])
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"the generated config would be rejected by the kubelet: {problems[0]}{more}")
    sys.stdout.write(rendered)
    return 0


def cmd_runtime_config(args: argparse.Namespace, options: Options) -> int:
    from pullkey import runtime_config

    rules = settings_from(options).mirrors
    if not rules:
        raise ConfigError("no mirrors block in pullkey's config: nothing to write (docs/mirrors.md)")
    if args.runtime == "crio":
        if args.output:
            runtime_config.write_registries_conf(rules, args.output)
            _out(f"wrote {args.output}")
        else:
            sys.stdout.write(runtime_config.registries_conf(rules))
        return 0
    if args.output:
        written, warnings = runtime_config.write_containerd(rules, args.output)
        for path in written:
            _out(f"wrote {path}")
    else:
        files, warnings = runtime_config.containerd_hosts(rules)
        for registry, text in files.items():
            _out(f"# {registry}/hosts.toml")
            sys.stdout.write(text)
    for w in warnings:
        write_err(f"pullkey: warning: {w}")
    return 0


def cmd_version(_args: argparse.Namespace, _options: Options) -> int:
    _out(f"pullkey {_core.__version__}")
    return 0


def _refuse_unknown_flags(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """A ``--flag`` no command knows is an error naming it, wherever it is (argparse alone may take the
    value after it, ``--root x``, for the subcommand and complain about ``x``)."""
    known = long_flags(parser)
    for arg in argv:
        if arg == "--":
            return
        if arg.startswith("--") and arg.partition("=")[0] not in known:
            parser.error(f"unrecognized arguments: {arg}")


def build_parser() -> argparse.ArgumentParser:
    """The command line. The shared flags are accepted before and after the subcommand (a flag given
    after it wins); long flags are never abbreviated (``allow_abbrev=False``), as on the exec path."""
    parser: argparse.ArgumentParser = Parser(
        prog="pullkey",
        description="Kubernetes image credential provider. With no subcommand: the kubelet exec plugin "
        "(CredentialProviderRequest on stdin, CredentialProviderResponse on stdout), configured by the "
        "options below.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"pullkey {_core.__version__}")
    add_source_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, *, source_flags: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, allow_abbrev=False)
        if source_flags:
            add_source_flags(p)
        return p

    command("get-credentials", "the kubelet exec plugin (the default)")

    p = command("explain", "which keys and credentials open IMAGE, in kubelet order, and why not the others")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument(
        "--token-file",
        metavar="FILE",
        help="a pod's service-account token (- for stdin): which credential set it gets and why not the others",
    )
    p.add_argument("image")
    p.set_defaults(func=cmd_explain)

    p = command("parse", "parse image references (- reads them from stdin)", source_flags=False)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--raw", action="store_true", help="raw Parse (no docker.io/library normalisation)")
    p.add_argument("refs", nargs="+", metavar="REF")
    p.set_defaults(func=cmd_parse)

    p = command("check", "validate pullkey's config, every source, and a kubelet CredentialProviderConfig")
    p.add_argument("--kubelet-config", help="a CredentialProviderConfig file or directory")
    p.set_defaults(func=cmd_check)

    p = command("kubelet-config", "print a CredentialProviderConfig for this plugin")
    p.add_argument("--name", default="pullkey", help="the executable name in the kubelet's bin dir")
    p.add_argument("--match-image", action="append", help="matchImages entry (default: from the keys found)")
    p.add_argument("--arg", action="append", help="extra argument for the plugin")
    p.add_argument(
        "--tenants",
        action="store_true",
        help="add tokenAttributes (audience, cacheType, requireServiceAccount, annotation keys) from the tenants block",
    )
    p.add_argument(
        "--rbac", action="store_true", help="print the RBAC the kubelet needs for the token audience instead"
    )
    p.set_defaults(func=cmd_kubelet_config)

    p = command("runtime-config", "write the runtime's mirror configuration from pullkey's mirrors (docs/mirrors.md)")
    p.add_argument(
        "runtime", choices=("containerd", "crio"), help="containerd hosts.toml, or CRI-O/podman registries.conf"
    )
    p.add_argument(
        "--output",
        metavar="PATH",
        help="containerd: the config_path directory (one REGISTRY/hosts.toml each); crio: the drop-in file "
        "(default: print to stdout)",
    )
    p.set_defaults(func=cmd_runtime_config)

    from pullkey.probe import command as probe_command  # urllib3 loads only when `probe` runs

    probe_command.add_parser(sub, add_source_flags)

    p = sub.add_parser("serve", help="the gRPC service (pullkey serve --help)", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    # Listed for --help only: main() hands `serve` and its flags to the gRPC server before argparse runs.

    p = command("version", "print the version", source_flags=False)
    p.set_defaults(func=cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command. Errors are one line on stderr: a ``PullkeyError``, an ``OSError`` naming a
    file (``pullkey``'s own script, :func:`pullkey._launch.launch`, turns any other failure, e.g. stdout
    on a broken pipe, into one line too)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if "serve" in args_list:
        # `pullkey [global flags] serve [serve flags]`: the gRPC server parses its own flags; global
        # flags written before `serve` are handed on to it.
        at = args_list.index("serve")
        if not _SUBCOMMANDS.intersection(args_list[:at]):
            from pullkey.server.cli import main as serve_main

            return serve_main(args_list[:at] + args_list[at + 1 :])
    parser = build_parser()
    _refuse_unknown_flags(parser, args_list)
    args = parser.parse_args(args_list)
    if sys.stdout is None:  # started with file descriptor 1 closed
        write_err("pullkey: stdout is closed")
        return 1
    try:
        options = options_from(vars(args))
    except PullkeyError as e:
        write_err(f"pullkey: {e}")
        return 1
    func = getattr(args, "func", None)
    if func is None:  # get-credentials with flags only argparse reads (-v3), or no command at all
        from pullkey._exec import run

        return run(options)
    try:
        code: int = func(args, options)
    except PullkeyError as e:
        write_err(f"pullkey: {e}")
        return 1
    except OSError as e:
        if e.filename is None:  # not a file of the command: stdout, stdin... (one line by the caller)
            raise
        write_err(f"pullkey: {quote(str(e.filename))}: {e.strerror}")
        return 1
    return code
