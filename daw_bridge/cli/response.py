"""``semeq response --params PARAMS.json``: the EQ's exact magnitude response (dB) on a log grid."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from daw_bridge.cli import CLIError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "response",
        help="print or plot an EQ's magnitude response (dB)",
        description="Print the exact magnitude response (dB) of the 5-band EQ in PARAMS.json at the "
        "one-third-octave centres from 20 Hz to 20 kHz (or --points log-spaced frequencies), as a table or "
        "JSON, and optionally plot it as a PNG.",
    )
    p.add_argument("--params", type=Path, required=True, metavar="PARAMS.json", help="the EQ: the 13 named fields, or an answer with 'params'")
    p.add_argument("--sample-rate", type=float, default=48000.0, metavar="HZ", help="sample rate of the digital filters (default 48000)")
    p.add_argument("--points", type=int, metavar="N", help="N log-spaced frequencies from 20 Hz to 20 kHz instead of third-octave centres")
    p.add_argument("--json", action="store_true", help="print JSON: params and response_db {sample_rate_hz, freqs_hz, db}")
    p.add_argument("--plot", type=Path, metavar="OUT.png", help="also save the curve as a PNG")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from daw_bridge.cli.apply import read_params_file
    from daw_bridge.eq import log_freq_grid, response_db, third_octave_centres_hz

    if not 8000.0 <= args.sample_rate <= 384000.0:
        raise CLIError(f"--sample-rate must be 8000 .. 384000 Hz, got {args.sample_rate:g}", code=2)
    if args.points is not None and not 2 <= args.points <= 100000:
        raise CLIError(f"--points must be 2 .. 100000, got {args.points}", code=2)
    params = read_params_file(args.params)
    freqs = third_octave_centres_hz() if args.points is None else log_freq_grid(args.points)
    db = response_db(params, freqs, args.sample_rate)
    answer = {
        "params": params.to_dict(),
        "response_db": {
            "sample_rate_hz": float(args.sample_rate),
            "freqs_hz": [round(float(f), 2) for f in freqs],
            "db": [round(float(d), 3) for d in db],
        },
    }
    if args.plot is not None:
        from daw_bridge.cli.eq import save_plot

        dense = log_freq_grid(512)
        curve = {"response_db": {"freqs_hz": dense.tolist(), "db": response_db(params, dense, args.sample_rate).tolist()}}
        save_plot(args.plot, curve, None, f"EQ response at {args.sample_rate:g} Hz ({args.params.name})")
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        print(f"{'freq (Hz)':>10}  {'gain (dB)':>9}")
        for f, d in zip(freqs, np.round(db, 2) + 0.0):
            print(f"{f:10.1f}  {d:+9.2f}")
        if args.plot is not None:
            print(f"plot: {args.plot}")
    return 0
