"""``docker-credential-pullkey``: pullkey as a docker credential helper (docs/helpers.md "pullkey is a
helper"; the protocol: docs/ecosystem.md §3.2).

Any client that speaks the docker-credential-helpers protocol (the docker CLI, skopeo, podman,
buildah and CRI-O through containers/image, crane) can ask pullkey, with ``credHelpers`` naming
``pullkey``. Answers come from the same loader, sources and keyring as the kubelet exec plugin
(configured the same way: ``PULLKEY_CONFIG``, ``PULLKEY_ROOT_DIR``):

- ``get``: a server URL on stdin; prints ``{"ServerURL", "Username", "Secret"}``: the first credential,
  in kubelet order, that opens every repository of that registry (Docker Hub spellings mapped as
  Docker maps them). None: the protocol's not-found message, exit 1.
- ``list``: server URL -> username of every registry that has one. ``version``: one line.
- ``store`` and ``erase`` refuse (message on stdout, exit 1): pullkey never writes secrets.

Errors follow the protocol: the message on stdout, exit status 1. Start-up is as lean as the exec
path's (``os``, ``sys`` and the core): a client runs this on every pull.
"""

from __future__ import annotations

import sys

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs start-up ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pullkey._sources import State

PROGRAM = "docker-credential-pullkey"
NOT_FOUND = "credentials not found in native keychain"  # docs/ecosystem.md §3.2
MAX_SERVER_URL_BYTES = 4096
USAGE = f"Usage: {PROGRAM} <get|list|version|store|erase>"
READ_ONLY = (
    "pullkey is read-only: it never stores or erases credentials; "
    "change the sources pullkey reads instead (docs/helpers.md)"
)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _state() -> State:
    from pullkey import _load
    from pullkey.options import Options

    return _load.load(Options())


def _get() -> int:
    from pullkey import _core

    data = sys.stdin.buffer.read(MAX_SERVER_URL_BYTES + 1) if sys.stdin is not None else b""
    registry = None
    if len(data) <= MAX_SERVER_URL_BYTES:
        registry = _core._helper_registry(data.decode("utf-8", "replace"))
    if registry is None:
        _say("no server URL on stdin")  # the protocol's "missing server URL" error
        return 1
    state = _state()
    keyring = state.keyring
    if state.helpers is not None and state.helpers.active:
        from pullkey.helpers import answer_exec

        keyring, _, _ = answer_exec(state, registry + "/x")  # the registry's helper, consulted once
    out = _core._helper_answer(keyring, registry)
    if out is None:
        _say(NOT_FOUND)
        return 1
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return 0


def main(argv: list[str]) -> int:
    from pullkey.errors import PullkeyError

    action = argv[0] if len(argv) == 1 else ""
    try:
        if action == "get":
            return _get()
        if action == "list":
            from pullkey import _core

            sys.stdout.buffer.write(_core._helper_list(_state().keyring))
            sys.stdout.flush()
            return 0
        if action in ("version", "--version", "-v"):
            from pullkey import _core

            _say(f"{PROGRAM} (pullkey) {_core.__version__}")
            return 0
        if action in ("store", "erase"):
            _say(READ_ONLY)
            return 1
        if action in ("--help", "-h", "help"):
            _say(USAGE)
            return 0
    except PullkeyError as e:
        _say(f"pullkey: {e}")
        return 1
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # incl. pyo3's PanicException: no traceback (it could quote a file)
        _say(f"pullkey: internal error ({type(e).__name__}); please report it")
        return 1
    _say(USAGE)
    return 1


def launch() -> None:
    """Entry point of the installed ``docker-credential-pullkey`` script."""
    try:
        code = main(sys.argv[1:])
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
