"""The host protocol: what every host DAW module provides (see :mod:`daw_bridge.hosts`).

Light to import (standard library only): the command line's ``semeq send`` builds its ``--push``
options from the registered hosts without loading numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from daw_bridge.eq import EQParams


@dataclass(frozen=True)
class HostMapping:
    """What one host gets: ``block`` (JSON-ready) and ``warnings`` (sentences)."""

    block: object
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TargetField:
    """One whole-number field that says where a push lands (e.g. Ardour's ``strip``), at least ``minimum``."""

    name: str
    minimum: int
    doc: str


@dataclass(frozen=True)
class Host:
    """One host DAW.

    - ``name``: the push target and ``semeq send --push`` value (``"reaper"``);
    - ``block``: the answer JSON member holding its mapping (``"reaeq"``);
    - ``target``: the fields of a push request besides ``to`` (and the optional ``sample_rate_hz``);
    - ``default_osc``: ``HOST:PORT`` of its OSC surface;
    - ``map_eq(params, sample_rate_hz) -> HostMapping``: the EQ in the host's units;
    - ``push(params, sample_rate_hz, address, port, **target) -> list``: send it, return what was sent.
    """

    name: str
    block: str
    target: tuple[TargetField, ...]
    default_osc: str
    map_eq: Callable[["EQParams", float], HostMapping]
    push: Callable[..., list[Any]]
    doc: str = ""
