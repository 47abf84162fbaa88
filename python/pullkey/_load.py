"""The one loader: ``Options -> Settings -> State``, used by the exec plugin, every CLI command, the
``Resolver`` (and through it the gRPC daemon) and ``docker-credential-pullkey``.

The sources are read and the keyring built by :func:`pullkey._sources.load_sources`; what is built over
them when the configuration asks for it is added here, so the modules that build it (the docker
credential helpers' plan, docs/helpers.md) can use the source reader without an import cycle.
Exec-safe: imports nothing at module level but the reader.
"""

from __future__ import annotations

from pullkey._sources import State, load_sources

# NOTE: not `from typing import TYPE_CHECKING`: importing typing costs the exec path ~10 ms.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pullkey.options import Options


def load(options: Options) -> State:
    """The state for ``options``. Raises ``ConfigError`` (a bad config, or in strict mode a bad source)."""
    state = load_sources(options)
    if state.settings.helpers.enabled:  # off by default: the kubelet never runs helpers (docs/helpers.md)
        from pullkey.helpers import plan

        state.helpers = plan(state.settings, state.used, options.environ)
    return state
