"""Listen addresses: ``--listen`` values, the default socket path, and the two errors of a bad listener."""

from __future__ import annotations

import dataclasses
import os
from typing import Literal


class UsageError(Exception):
    """A command line or listener setting that cannot work (``main`` exits 2 with the message)."""


class ListenError(Exception):
    """The listen address cannot be used (live socket, wrong owner, ...); ``main`` exits 1."""


def default_listen() -> str:
    """``unix:///run/pullkey/pullkey.sock`` for root, else under ``$XDG_RUNTIME_DIR`` (or ``/tmp/pullkey-<uid>``)."""
    if os.geteuid() == 0:
        return "unix:///run/pullkey/pullkey.sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return f"unix://{runtime}/pullkey/pullkey.sock"
    return f"unix:///tmp/pullkey-{os.geteuid()}/pullkey.sock"


@dataclasses.dataclass(frozen=True)
class ListenAddress:
    """A parsed ``--listen`` value: ``unix:///abs/path``, ``unix:rel/path``, ``tcp://HOST:PORT`` or ``HOST:PORT``."""

    kind: Literal["unix", "tcp"]
    path: str = ""  # unix: absolute socket path
    host: str = ""  # tcp: host as given (IPv6 without brackets)
    port: int = 0

    @classmethod
    def parse(cls, text: str) -> ListenAddress:
        """Parse a listen address; raise :class:`UsageError` with the offending text."""
        if text.startswith("unix:"):
            rest = text[len("unix:") :]
            path = rest[2:] if rest.startswith("//") else rest
            if not path:
                raise UsageError(f"--listen {text!r}: empty socket path")
            return cls("unix", path=os.path.abspath(path))
        rest = text[len("tcp://") :] if text.startswith("tcp://") else text
        host, sep, port_text = rest.rpartition(":")
        if not sep or not port_text.isdigit() or int(port_text) > 65535:
            raise UsageError(f"--listen {text!r}: expected unix:///PATH, tcp://HOST:PORT or HOST:PORT")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not host:
            raise UsageError(f"--listen {text!r}: missing host")
        return cls("tcp", host=host, port=int(port_text))

    def grpc_target(self) -> str:
        """The address in gRPC's own syntax (for ``add_*_port`` and clients)."""
        if self.kind == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"
