"""Host mappings: one EQ turned into what a DAW's own EQ plug-in takes.

Every host module exposes ``map_eq(params, sample_rate_hz=48000.0) -> HostMapping``: a JSON-ready
block in the host's units plus warnings where the host cannot reproduce the EQ exactly.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from daw_bridge.eq import EQParams

#: Host name -> module implementing ``map_eq``; the name is also the answer's JSON key.
HOSTS = {"reaeq": "daw_bridge.hosts.reaeq", "ardour": "daw_bridge.hosts.ardour"}


@dataclass(frozen=True)
class HostMapping:
    """What one host gets: ``block`` (JSON-ready) and ``warnings`` (sentences)."""

    block: object
    warnings: tuple[str, ...] = field(default_factory=tuple)


def map_all(params: EQParams, sample_rate_hz: float = 48000.0) -> dict[str, HostMapping]:
    """Map ``params`` for every known host, keyed by host name."""
    return {
        name: importlib.import_module(module).map_eq(params, sample_rate_hz)
        for name, module in HOSTS.items()
    }
