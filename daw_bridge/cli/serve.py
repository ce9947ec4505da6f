"""``semeq serve``: the OSC server and the watch folder in one process."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from daw_bridge.cli import CLIError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the OSC server (UDP 127.0.0.1:7710) and the watch folder",
        description=(
            "Answer OSC requests (protocol: docs/osc-protocol.md) and process audio dropped into "
            "HOME/inbox. Prints one line when ready; stops on Ctrl-C or SIGTERM."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7710, help="UDP port (default 7710; 0 picks a free port)")
    p.add_argument("--home", type=Path, default=None, help="folder with inbox/ outbox/ done/ failed/ renders/ (default ~/SemanticEQ)")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host (the server has no authentication)")
    p.add_argument("--allow", type=Path, action="append", default=[], metavar="DIR", help="another folder requests may read audio from (repeatable)")
    p.add_argument("--workers", type=int, default=2, help="threads for audio requests (default 2)")
    p.add_argument("--queue-size", type=int, default=8, help="audio requests that may wait before 'busy' (default 8)")
    p.add_argument("--request-timeout", type=float, default=60.0, metavar="S", help="longest time for one request in seconds (default 60)")
    from daw_bridge.hosts import HOSTS

    for host in HOSTS.values():
        p.add_argument(f"--{host.name}-osc", default=host.default_osc, metavar="HOST:PORT",
                       help=f"OSC surface of {host.name} for push (default {host.default_osc})")
    p.add_argument("--no-watch", action="store_true", help="do not watch HOME/inbox (OSC only)")
    p.add_argument("--preload-embeddings", action="store_true",
                   help="load the WordNet table and the sentence-embedding model for unknown words at start "
                   "(about 80 MB more memory); by default they load on the first unknown word, which then takes "
                   "about a second")
    p.set_defaults(func=run)


#: Seconds a file being processed gets to finish when the server is asked to stop.
STOP_GRACE_S = 0.3
#: The interpreter's thread switch interval in the server (s; Python's default 0.005): how long the
#: receive loop may wait for the interpreter lock while an audio op computes in Python. With a
#: CPU-bound Python thread beside it, uncached ``eq`` round trips measured p99 12 ms at 5 ms and
#: 6.5 ms at 1 ms (2-core machine, December 2026).
SWITCH_INTERVAL_S = 0.001


def server_log_handler():
    """The server's log on stderr: one line per request (time, logger, message), written by a
    background thread (:class:`~daw_bridge.log_writer.BackgroundWriter`: the receive loop never waits
    on stderr). Records skip what the line does not show (caller's file and line, thread and
    process names): each costs microseconds on a request that takes a few hundred."""
    import logging

    from daw_bridge.log_writer import BackgroundWriter

    logging._srcfile = None  # the documented switch-off of the caller lookup (logging "Optimization")
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = BackgroundWriter(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    return handler


def run(args: argparse.Namespace) -> int:
    import logging

    from daw_bridge.hosts import HOSTS
    from daw_bridge.osc_server import OscServer
    from daw_bridge.paths import default_home, ensure_home
    from daw_bridge.service import OscTarget, Service

    if not 0 <= args.port < 65536:
        raise CLIError(f"--port {args.port} is not a UDP port (0..65535)", code=2)
    home = ensure_home(args.home if args.home is not None else default_home())
    for folder in args.allow:
        if not folder.expanduser().is_dir():
            raise CLIError(f"--allow {folder}: not a folder")
    log_handler = server_log_handler()
    logging.basicConfig(level=logging.INFO, handlers=[log_handler])
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    targets = {name: OscTarget.parse(getattr(args, f"{name}_osc")) for name in HOSTS}
    service = Service(home, allow=args.allow, push_targets=targets)
    server = OscServer(
        service, args.host, args.port, allow_remote=args.allow_remote,
        workers=args.workers, queue_size=args.queue_size, request_timeout_s=args.request_timeout,
    )
    watcher = None
    try:
        service.warm()
        if not args.no_watch:
            from daw_bridge.watch import start_watcher

            watcher = start_watcher(service, home)

        def stop(signum, frame) -> None:
            server.shutdown()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        host, port = server.address
        watching = "off" if watcher is None else str(home / "inbox")
        print(f"semeq serve: ready on udp {host}:{port}, home {home}, watching {watching}", flush=True)
        if args.preload_embeddings:
            service.warm_fallback()
        server.serve_forever()
    finally:
        # within a second of Ctrl-C/SIGTERM: a file still being processed stays journaled in
        # inbox/.processing/ and resumes at the next start; OSC requests still running are dropped
        if watcher is not None:
            watcher.stop(STOP_GRACE_S)
        server.close(wait=False)
        service.close()
        log_handler.close()  # the pending log lines, before the last line and the hard exit
    print("semeq serve: stopped", file=sys.stderr, flush=True)
    sys.stdout.flush()
    # skip the interpreter's teardown (seconds with torch and sentence-transformers loaded): every
    # file is closed or journaled by now
    os._exit(0)
