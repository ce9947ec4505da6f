"""Host DAWs, registered in one place: a host is one module exposing ``HOST`` (a
:class:`~daw_bridge.hosts.base.Host`: name, map, push) plus one line in :data:`HOSTS` below.

Every answer that carries an EQ gets each host's block (:func:`map_all`); a request's ``push``
names a host by :attr:`Host.name`. Nothing else in the package knows which hosts exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from daw_bridge.hosts import ardour, reaeq
from daw_bridge.hosts.base import Host, HostMapping, TargetField

if TYPE_CHECKING:
    from daw_bridge.eq import EQParams

#: Every host by name, in the order of the answer JSON's blocks.
HOSTS: dict[str, Host] = {host.name: host for host in (reaeq.HOST, ardour.HOST)}

__all__ = ["HOSTS", "Host", "HostMapping", "TargetField", "map_all", "register"]


def register(host: Host) -> Host:
    """Add ``host`` to :data:`HOSTS` (for a host shipped outside the package); returns it."""
    HOSTS[host.name] = host
    return host


def map_all(params: "EQParams", sample_rate_hz: float = 48000.0) -> dict[str, HostMapping]:
    """Map ``params`` for every host, keyed by the host's answer block name."""
    return {host.block: host.map_eq(params, sample_rate_hz) for host in HOSTS.values()}
