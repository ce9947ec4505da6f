"""``semeq send``: one request to a running ``semeq serve``; the answer JSON on stdout.

The subcommands, their arguments and options come from the op table (:mod:`daw_bridge.ops`) and
the host registry (``--push HOST`` and each host's target options): a new op or host appears here
by itself. ``--request FILE --answer FILE`` sends a request written as a JSON file and writes the
answer to a file (:mod:`daw_bridge.request_file`: REAPER's scripts put no data on a command line).
Exit codes: 0 answered, 2 usage, 3 server not running, 4 timeout, 5 error reply (the
message on stderr, the error JSON on stdout). Starts fast: no numpy, torch or model import.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from daw_bridge.cli import CLIError
from daw_bridge.ops import FIELDS, OPS, Field

DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TIMEOUT_S = "127.0.0.1", 7710, 30.0


def _connection_options(p: argparse.ArgumentParser) -> None:
    # On both `send` and each op, so `semeq send --port 7711 eq warm` and `semeq send eq warm --port 7711` work.
    p.add_argument("--host", default=argparse.SUPPRESS, help="server address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=argparse.SUPPRESS, help="server UDP port (default 7710)")
    p.add_argument("--timeout", type=float, default=argparse.SUPPRESS, metavar="S", help="seconds to wait for the answer (default 30)")
    p.add_argument("--pretty", action="store_true", default=argparse.SUPPRESS, help="indent the JSON")


def _push_options(p: argparse.ArgumentParser) -> None:
    from daw_bridge.hosts import HOSTS

    g = p.add_argument_group("push the EQ to a host's OSC surface (address set on the server)")
    g.add_argument("--push", choices=tuple(HOSTS), help=FIELDS["push"].doc)
    seen = set()
    for host in HOSTS.values():
        for target in host.target:
            if target.name not in seen:
                seen.add(target.name)
                g.add_argument(f"--{target.name}", type=int, help=f"{target.doc} (--push {host.name})")


def _add_field(q: argparse.ArgumentParser, spec: Field, required: bool) -> None:
    """One field as a positional (required fields, in table order) or an option."""
    if spec.kind == "push":
        _push_options(q)
        return
    metavar = spec.name.upper() if required else {"eq": "JSON"}.get(spec.kind)
    help_text = spec.doc + (f" ({spec.describe()})" if spec.describe() else "")
    if spec.kind == "bool":
        q.add_argument(f"--{spec.name.replace('_', '-')}", dest=spec.name, action="store_true", default=None, help=help_text)
    elif required:
        q.add_argument(spec.name, metavar=metavar, help=help_text)
    else:
        kind = float if spec.kind == "number" else str
        q.add_argument(f"--{spec.name.replace('_', '-')}", dest=spec.name, type=kind, metavar=metavar, help=help_text)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "send",
        help="send one request to a running 'semeq serve' and print the answer JSON",
        description="Send one OSC request to 'semeq serve' and print the answer JSON. Exit codes: "
        "0 ok, 3 server not running, 4 timeout, 5 error reply.",
    )
    _connection_options(p)
    p.add_argument("--request", metavar="FILE", help="send the JSON request in FILE ({\"op\": ..., fields}); what REAPER scripts use, with --answer")
    p.add_argument("--answer", metavar="FILE", help="write the answer JSON to FILE atomically, an error answer too (with --request)")
    ops = p.add_subparsers(dest="op", metavar="OP")
    for op in OPS.values():
        q = ops.add_parser(op.name, help=op.doc)
        for name in op.required:
            _add_field(q, FIELDS[name], required=True)
        for name in op.optional:
            _add_field(q, FIELDS[name], required=False)
        _connection_options(q)
    p.set_defaults(func=run)


def _value(spec: Field, text):
    """A command-line value in the request's form: absolute paths, parsed JSON."""
    if spec.kind == "path":
        return os.path.abspath(text)
    if spec.kind == "eq":
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise CLIError(f"--{spec.name} is not valid JSON: {exc}", code=2) from None
        if isinstance(value, dict) and isinstance(value.get("params"), dict):
            value = value["params"]  # a whole earlier answer is fine too
        return value
    return text


def _push(args: argparse.Namespace) -> dict:
    from daw_bridge.hosts import HOSTS

    host = HOSTS[args.push]
    missing = [f"--{t.name} N" for t in host.target if getattr(args, t.name, None) is None]
    if missing:
        raise CLIError(f"--push {host.name} needs {' and '.join(missing)}", code=2)
    return {"to": host.name, **{t.name: getattr(args, t.name) for t in host.target}}


def _fields(args: argparse.Namespace) -> dict:
    op = OPS[args.op]
    fields: dict = {}
    for name in op.required + op.optional:
        if name == "push":
            if getattr(args, "push", None) is not None:
                fields["push"] = _push(args)
        elif getattr(args, name, None) is not None:
            fields[name] = _value(FIELDS[name], getattr(args, name))
    return fields


def run(args: argparse.Namespace) -> int:
    from daw_bridge.client import Client, ClientError, ErrorReply

    host: str = getattr(args, "host", DEFAULT_HOST)
    port: int = getattr(args, "port", DEFAULT_PORT)
    timeout_s: float = getattr(args, "timeout", DEFAULT_TIMEOUT_S)
    indent = 2 if getattr(args, "pretty", False) else None
    if timeout_s <= 0:
        raise CLIError("--timeout must be > 0 seconds", code=2)
    if args.request or args.answer:
        return _run_request_file(args, host, port, timeout_s)
    if not args.op:
        raise CLIError(f"name an OP ({', '.join(OPS)}) or give --request FILE --answer FILE", code=2)
    fields = _fields(args)
    with Client(host, port, timeout_s) as client:
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


def _run_request_file(args: argparse.Namespace, host: str, port: int, timeout_s: float) -> int:
    """``--request FILE --answer FILE``: see :mod:`daw_bridge.request_file`."""
    from daw_bridge.client import Client, ErrorReply, RequestTimedOut, ServerNotRunning
    from daw_bridge.request_file import answer_request_file

    if not (args.request and args.answer) or args.op:
        raise CLIError("--request FILE and --answer FILE go together, without an OP", code=2)
    with Client(host, port, timeout_s) as client:
        return answer_request_file(
            args.request,
            args.answer,
            lambda op, fields: client.request(op, **fields),
            {ServerNotRunning: "server_down", RequestTimedOut: "timeout", ErrorReply: "error"},
        )
