"""Malformed requests: does every one get exactly one clear error reply, and does memory stay put?

``semeq serve`` runs in a subprocess (OSC only, as a user starts it). N datagrams are sent one at a
time from a plain UDP socket: malformed requests built from the op table (:mod:`tests.malformed`:
wrong types, sizes, depths, non-finite and out-of-range numbers, huge strings and keys, broken ids
and ops) and, one in five, the same datagram damaged (cut short or bit-flipped, still addressed to
``/semeq/``). Each waits for its reply (2 s).

Printed: replies by code, datagrams with no reply, ``internal`` replies, replies that are not a
single datagram of at most 65,507 bytes, and the server's resident memory (start, after the first
500 datagrams, end).

    python -m benchmarks.bench_malformed [--packets 20000] [--out benchmarks/results/bench_malformed.txt]
"""

from __future__ import annotations

import argparse
import random
import socket
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.server import rss_mb, start_server
from benchmarks.machine import Report, describe, utc_now
from daw_bridge.wire import ERROR, decode
from tests.malformed import malformed_datagram

#: Datagrams answered before the memory baseline is taken (the first ones import and load things).
WARM_UP = 500


def damaged(rng: random.Random, dgram: bytes) -> bytes:
    """The datagram cut short or with a few bits flipped after its address."""
    if rng.random() < 0.5:
        return dgram[: rng.randrange(8, max(9, len(dgram)))]
    b = bytearray(dgram)
    for _ in range(3):
        i = rng.randrange(8, len(b)) if len(b) > 8 else 0
        b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = Report()
    report.say(f"Malformed-request benchmark, {utc_now()}")
    report.say(f"machine: {describe()}")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        proc, port, _ = start_server(home, "--no-watch", "--request-timeout", "600")
        codes: Counter[str] = Counter()
        no_reply = extra = oversize = 0
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
                peer.bind(("127.0.0.1", 0))
                rss_start = rss_mb(proc.pid)[0]
                rss_warm = rss_start
                for i in range(args.packets):
                    if i == WARM_UP:
                        rss_warm = rss_mb(proc.pid)[0]  # after the first answers loaded what they need
                    dgram, _, _ = malformed_datagram(rng, str(home))
                    if i % 5 == 4:
                        dgram = damaged(rng, dgram)
                    peer.settimeout(2.0)
                    peer.sendto(dgram, ("127.0.0.1", port))
                    try:
                        reply = peer.recv(70_000)
                    except socket.timeout:
                        no_reply += 1
                        continue
                    oversize += len(reply) > 65_507
                    message = decode(reply)
                    codes[message.params[1] if message.address == ERROR else f"ok ({message.address})"] += 1
                    peer.settimeout(0.0)
                    try:  # an error is one datagram: anything more is counted
                        while True:
                            peer.recv(70_000)
                            extra += 1
                    except (BlockingIOError, socket.timeout):
                        pass
                rss_after = rss_mb(proc.pid)[0]
        finally:
            proc.terminate()
            proc.wait(10)
    report.say(f"{args.packets} malformed datagrams (one in five also cut short or bit-flipped):")
    for code, n in codes.most_common():
        report.say(f"  reply {code:28s} {n:7d}")
    report.say(f"  no reply                            {no_reply:7d}")
    report.say(f"  'internal' replies                  {codes.get('internal', 0):7d}")
    report.say(f"  more than one datagram              {extra:7d}")
    report.say(f"  reply larger than 65,507 bytes      {oversize:7d}")
    report.say(f"server resident memory: {rss_start:.0f} MB at start, {rss_warm:.0f} MB after the first {WARM_UP} datagrams, "
               f"{rss_after:.0f} MB at the end ({rss_after - rss_warm:+.0f} MB over the rest)")
    report.save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
