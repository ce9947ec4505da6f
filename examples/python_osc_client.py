#!/usr/bin/env python3
"""A minimal python-osc client for `semeq serve` (protocol: docs/osc-protocol.md).

    python examples/python_osc_client.py "a bit warmer" [--port 7710] [--intensity 1.0]

Sends /semeq/eq with a request id, waits for the replies on its own port (python-osc's
BlockingOSCUDPServer on the same socket address the request came from) and prints the five ReaEQ
bands from the flat /semeq/reply/reaeq message and the explanation from the JSON reply.
"""

import argparse
import json
import sys
import time
import uuid

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_server import BlockingOSCUDPServer


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("text")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7710)
    parser.add_argument("--intensity", type=float, default=1.0)
    args = parser.parse_args()

    rid = uuid.uuid4().hex[:8]
    got = {}
    # Handlers must return None: python-osc sends whatever a handler returns back as a reply message.
    def on_json(address, i, text):
        if i == rid:
            got["json"] = json.loads(text)

    def on_reaeq(address, i, *vals):
        if i == rid:
            got["reaeq"] = vals

    def on_error(address, i, code, msg, *rest):
        if i == rid:
            got["error"] = (code, msg)

    dispatcher = Dispatcher()
    dispatcher.map("/semeq/reply/json", on_json)
    dispatcher.map("/semeq/reply/reaeq", on_reaeq)
    dispatcher.map("/semeq/error", on_error)

    # Our own listening socket; the server replies to reply_port on our address.
    server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    msg = OscMessageBuilder("/semeq/eq")
    for value, tag in ((rid, "s"), (args.text, "s"), ("intensity", "s"), (args.intensity, "f"),
                       ("reply_port", "s"), (server.server_address[1], "i")):
        msg.add_arg(value, tag)
    server.socket.sendto(msg.build().dgram, (args.host, args.port))
    deadline = time.monotonic() + 5.0
    while not ("error" in got or ("json" in got and "reaeq" in got)):
        server.timeout = deadline - time.monotonic()
        if server.timeout <= 0:
            print("no answer (is `semeq serve` running?)", file=sys.stderr)
            return 4
        server.handle_request()  # one datagram or the timeout
    if "error" in got:
        print(f"error: {got['error'][1]} ({got['error'][0]})", file=sys.stderr)
        return 5
    vals = got["reaeq"]
    for b in range(5):
        bandtype, bandidx, freq_hz, gain_db, bw_oct = vals[5 * b : 5 * b + 5]
        print(f"band {b}: type {bandtype} idx {bandidx}  {freq_hz:8.1f} Hz  {gain_db:+5.1f} dB  {bw_oct:.2f} oct")
    print(got["json"]["explanation"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
