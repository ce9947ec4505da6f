"""``semeq suggest IN [--reference REF]``: an EQ that fixes the track's problems first, then moves it
toward the balance of real music (or of a reference track)."""

from __future__ import annotations

import argparse
from pathlib import Path

from daw_bridge.cli import CLIError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "suggest",
        help="auto-suggest an EQ for a track: fix what is likely a problem, or match a reference track",
        description="Propose a 5-band EQ: cuts for resonances that stand out far more than real music's own, "
        "then the part of the track's departure from typical music that is likely a problem rather than its "
        "character (each band named: \"-4 dB at 300 Hz: muddy\"); with --reference, the difference from "
        "that track instead.",
    )
    p.add_argument("--reference", type=Path, metavar="REF", help="match to this reference track instead")
    p.add_argument("input", type=Path, metavar="IN", help="audio file (any format soundfile reads)")
    p.add_argument("--strength", type=float, default=0.5, help="0 .. 1: how much of what it finds to correct (0: flat; default 0.5)")
    p.add_argument("--max-gain-db", type=float, default=6.0, help="largest boost or cut per band in dB (default 6)")
    p.add_argument("--json", action="store_true", help="print the answer JSON")
    p.add_argument("--plot", type=Path, metavar="OUT.png", help="save the EQ curve over the track's spectrum")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from daw_bridge.cli.eq import local_answer, print_answer, save_plot

    if not 0.0 <= args.strength <= 1.0:
        raise CLIError("--strength is between 0 and 1", code=2)
    request = {"op": "suggest", "path": str(args.input), "strength": args.strength, "max_gain_db": args.max_gain_db}
    if args.reference is not None:
        request["reference"] = str(args.reference)
    answer = local_answer(request)
    if args.plot is not None:
        save_plot(args.plot, answer, args.input, f"semeq suggest {args.input.name}")
    print_answer(answer, args.json)
    return 0
