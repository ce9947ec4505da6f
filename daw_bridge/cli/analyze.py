"""``semeq analyze IN``: what the analysis hears in a track (same JSON as the OSC ``analyze`` reply)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="describe a track: loudness, problems in studio words with Hz and dB, tonal balance",
        description="Analyse an audio file against the tonal balance of real mastered music.",
    )
    p.add_argument("input", type=Path, metavar="IN", help="audio file (any format soundfile reads)")
    p.add_argument("--json", action="store_true", help="print the answer JSON")
    p.add_argument("--top", type=int, default=0, help="also print this many descriptor words (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from daw_bridge.cli.eq import local_answer

    answer = local_answer({"op": "analyze", "path": str(args.input)})
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    lines = [
        f"{answer.get('summary', '')}",
        f"  loudness {answer['loudness_lufs']} LUFS, true peak {answer['true_peak_dbtp']} dBTP, "
        f"{answer['duration_s']} s at {answer['sample_rate_hz']:g} Hz, {answer['channels']} channel(s)",
    ]
    problems = answer.get("problems", [])
    lines.append("  problems:" if problems else "  problems: none found")
    for p in problems:
        basis = "own envelope" if p["basis"] == "envelope" else "reference balance"
        lines.append(f"    {p['text']:<40} confidence {p['confidence']:.2f}, against the {basis}")
    for d in answer.get("descriptors", [])[: max(args.top, 0)]:
        lines.append(f"  {d['term']:<16} {d['score']:+.2f}")
    print("\n".join(lines))
    return 0
