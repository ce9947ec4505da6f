"""``semeq send``: one request to a running ``semeq serve``; the answer JSON on stdout.

Exit codes: 0 answered, 2 usage, 3 server not running, 4 timeout, 5 error reply (the message on
stderr, the error JSON on stdout). Starts fast: no numpy, torch or model import.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from daw_bridge.cli import CLIError

DEFAULTS = {"host": "127.0.0.1", "port": 7710, "timeout": 30.0}


def _connection_options(p: argparse.ArgumentParser) -> None:
    # On both `send` and each op, so `semeq send --port 7711 eq warm` and `semeq send eq warm --port 7711` work.
    p.add_argument("--host", default=argparse.SUPPRESS, help="server address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=argparse.SUPPRESS, help="server UDP port (default 7710)")
    p.add_argument("--timeout", type=float, default=argparse.SUPPRESS, metavar="S", help="seconds to wait for the answer (default 30)")
    p.add_argument("--pretty", action="store_true", default=argparse.SUPPRESS, help="indent the JSON")


def _words_options(q: argparse.ArgumentParser) -> None:
    """Options of the requests that carry words: intensity, the host's current EQ, push."""
    q.add_argument("--intensity", type=float)
    q.add_argument("--current", metavar="JSON", help="the host EQ's state: 13 named parameters (JSON)")
    _push_options(q)


def _push_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("push the EQ to a host's OSC surface (address set on the server)")
    g.add_argument("--push", choices=("ardour", "reaper"))
    g.add_argument("--strip", type=int, help="Ardour strip id (1-based)")
    g.add_argument("--plugin", type=int, help="Ardour plugin id on the strip (1-based)")
    g.add_argument("--track", type=int, help="REAPER track number (0 = master)")
    g.add_argument("--fx", type=int, help="REAPER fx number on the track (1-based)")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "send",
        help="send one request to a running 'semeq serve' and print the answer JSON",
        description="Send one OSC request to 'semeq serve' and print the answer JSON. Exit codes: "
        "0 ok, 3 server not running, 4 timeout, 5 error reply.",
    )
    _connection_options(p)
    p.add_argument("--request", metavar="FILE", help="send the JSON request in FILE (what REAPER scripts use); needs --answer")
    p.add_argument("--answer", metavar="FILE", help="write the answer JSON to FILE atomically (with --request)")
    ops = p.add_subparsers(dest="op", metavar="OP")

    q = ops.add_parser("eq", help="words -> EQ")
    q.add_argument("text")
    _words_options(q)

    q = ops.add_parser("adapt", help="words -> EQ sized to the track in PATH")
    q.add_argument("path")
    q.add_argument("text")
    _words_options(q)

    q = ops.add_parser("suggest", help="an EQ for the track in PATH")
    q.add_argument("path")
    q.add_argument("--strength", type=float)
    q.add_argument("--max-gain-db", type=float)
    _push_options(q)

    q = ops.add_parser("analyze", help="describe the track in PATH")
    q.add_argument("path")

    ops.add_parser("ping", help="is the server there?")
    ops.add_parser("status", help="version, model, uptime, queue depth")
    for q in ops.choices.values():
        _connection_options(q)
    p.set_defaults(func=run)


def _fields(args: argparse.Namespace) -> dict:
    fields: dict = {}
    if getattr(args, "path", None) is not None:
        fields["path"] = os.path.abspath(args.path)
    for name in ("text", "intensity", "strength", "max_gain_db"):
        if getattr(args, name, None) is not None:
            fields[name] = getattr(args, name)
    if getattr(args, "current", None) is not None:
        try:
            fields["current"] = json.loads(args.current)
        except ValueError as exc:
            raise CLIError(f"--current is not valid JSON: {exc}", code=2) from None
        if isinstance(fields["current"], dict) and isinstance(fields["current"].get("params"), dict):
            fields["current"] = fields["current"]["params"]  # a whole earlier answer is fine too
    push = getattr(args, "push", None)
    if push == "ardour":
        if args.strip is None or args.plugin is None:
            raise CLIError("--push ardour needs --strip N and --plugin N", code=2)
        fields["push"] = {"to": "ardour", "strip": args.strip, "plugin": args.plugin}
    elif push == "reaper":
        if args.track is None or args.fx is None:
            raise CLIError("--push reaper needs --track N and --fx N", code=2)
        fields["push"] = {"to": "reaper", "track": args.track, "fx": args.fx}
    return fields


def run(args: argparse.Namespace) -> int:
    from daw_bridge.client import Client, ClientError, ErrorReply

    opts = {k: getattr(args, k, v) for k, v in DEFAULTS.items()}
    indent = 2 if getattr(args, "pretty", False) else None
    if opts["timeout"] <= 0:
        raise CLIError("--timeout must be > 0 seconds", code=2)
    if args.request or args.answer:
        return _run_request_file(args, opts)
    if not args.op:
        raise CLIError("name an OP (eq, adapt, suggest, analyze, ping, status) or give --request FILE --answer FILE", code=2)
    fields = _fields(args)
    with Client(opts["host"], opts["port"], opts["timeout"]) as client:
        try:
            answer = client.request(args.op, **fields)
        except ErrorReply as exc:
            print(json.dumps(exc.answer, indent=indent))
            print(f"semeq: error: {exc.answer.get('message')} ({exc.answer.get('code')})", file=sys.stderr)
            return exc.exit_code
        except ClientError as exc:
            print(f"semeq: error: {exc}", file=sys.stderr)
            return exc.exit_code
    print(json.dumps(answer, indent=indent))
    return 0


def _run_request_file(args: argparse.Namespace, opts: dict) -> int:
    """``--request FILE --answer FILE``: see :mod:`daw_bridge.request_file`."""
    from daw_bridge.client import Client, ErrorReply, RequestTimedOut, ServerNotRunning
    from daw_bridge.request_file import answer_request_file

    if not (args.request and args.answer) or args.op:
        raise CLIError("--request FILE and --answer FILE go together, without an OP", code=2)
    with Client(opts["host"], opts["port"], opts["timeout"]) as client:
        return answer_request_file(
            args.request,
            args.answer,
            lambda op, fields: client.request(op, **fields),
            {ServerNotRunning: "server_down", RequestTimedOut: "timeout", ErrorReply: "error"},
        )
