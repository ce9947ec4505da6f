"""``semeq analyze IN``: what the analysis hears in a track (same JSON as the OSC ``analyze`` reply)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="describe a track: loudness, tonal balance against real music, descriptor words",
        description="Analyse an audio file against the tonal balance of real mastered music.",
    )
    p.add_argument("input", type=Path, metavar="IN", help="audio file (any format soundfile reads)")
    p.add_argument("--json", action="store_true", help="print the answer JSON")
    p.add_argument("--top", type=int, default=5, help="descriptor words to print (default 5)")
    p.add_argument(
        "--all-words", action="store_true",
        help="list every vocabulary word; by default only the common sound words (enough examples to trust)",
    )
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
    words = [d for d in answer.get("descriptors", []) if args.all_words or d.get("common")]
    for d in words[: max(args.top, 0)]:
        lines.append(f"  {d['term']:<16} {d['score']:+.2f}")
    print("\n".join(lines))
    return 0
