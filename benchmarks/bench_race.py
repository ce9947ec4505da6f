"""Path race: how many of N raced requests read a file outside the allowed folders?

A second process flips a symlink inside ``renders/`` between an inside file and an outside one as
fast as it can (the final path component: ``renders/link.wav``; a directory component:
``renders/dir/`` -> ``renders/real/`` or the outside folder). The reader asks for that name N
times. Three readers, in the same run:

* **check, then open by name** (the peer: what the service did before, ``PathPolicy.check`` then
  ``open``),
* the same with 1 ms between the check and the open (the service's own work between them: imports,
  ``is_file``, the decoder's set-up; how the issue's 2-7 % outside reads arose),
* **open, then verify (descriptor walk)**: :meth:`PathPolicy.open` on POSIX,
* **open, then verify (by handle)**: :meth:`PathPolicy.open` as on Windows (opened by name, the
  real path read back from the handle or confirmed by device and inode).

Printed per reader and component: outside reads, inside reads and refusals out of N.

    python -m benchmarks.bench_race [--attempts 1000] [--out benchmarks/results/bench_race.txt]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.machine import Report, describe, utc_now
from daw_bridge import paths
from daw_bridge.paths import PathPolicy
from tests.race import layout, race, swapping


def check_then_open(policy: PathPolicy, gap_s: float = 0.0):
    def read(name: Path) -> bytes:
        checked = policy.check(str(name))
        if gap_s:
            time.sleep(gap_s)  # the work a service does between its check and its open
        with open(checked, "rb") as handle:
            return handle.read()

    return read


def open_verified(policy: PathPolicy):
    def read(name: Path) -> bytes:
        with policy.open(str(name)) as opened:
            return opened.file.read()

    return read


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = Report()
    report.say(f"Path race benchmark, {utc_now()}")
    report.say(f"machine: {describe()}")
    report.say(f"{args.attempts} raced requests per row; a second process flips the symlink")
    report.say(f"{'reader':38s} {'component':10s} {'outside':>8s} {'inside':>8s} {'refused':>8s}")
    readers = [
        ("check, then open by name (before)", check_then_open, True),
        ("check, 1 ms of work, open by name", lambda p: check_then_open(p, 0.001), True),
        ("open, then verify (descriptor walk)", open_verified, True),
        ("open, then verify (by handle)", open_verified, False),
    ]
    for label, make, walk in readers:
        for component in ("final", "directory"):
            with tempfile.TemporaryDirectory() as tmp:
                renders, name, inside, outside = layout(Path(tmp), component)
                policy = PathPolicy.for_home(renders.parent)
                link = name if component == "final" else name.parent
                saved = paths.WALK_BY_DESCRIPTOR
                paths.WALK_BY_DESCRIPTOR = walk and saved
                try:
                    with swapping(link, inside, outside):
                        r = race(make(policy), name, args.attempts)
                finally:
                    paths.WALK_BY_DESCRIPTOR = saved
            report.say(f"{label:38s} {component:10s} {r.outside_reads:8d} {r.inside_reads:8d} {r.refused:8d}")
    report.save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
