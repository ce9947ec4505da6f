"""``semeq apply IN -o OUT --params PARAMS.json``: render a file through a 5-band EQ, loudness-matched.

Renders through the service's ``render`` op (the one renderer every door uses). The output keeps
the input's sample rate, channels, format and subtype and its integrated loudness
(within 0.5 LU); its true peak stays at or below max(-1 dBTP, the input's true peak), with a
transparent limiter only where gain alone cannot do both (see :mod:`daw_bridge.audio`). The input is
never overwritten, an existing output only with ``--force``; the file appears complete or not at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from daw_bridge.cli import CLIError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "apply",
        help="render an audio file through an EQ (loudness-matched, true-peak safe)",
        description="Render IN through the 5-band EQ in PARAMS.json into OUT. The output keeps the input's "
        "format, sample rate, channels and integrated loudness (within 0.5 LU), and its true peak stays at or "
        "below max(-1 dBTP, the input's true peak). PARAMS.json holds the 13 named EQ fields, or an answer "
        "of 'semeq eq --json' (its 'params' member is used).",
    )
    p.add_argument("input", type=Path, metavar="IN", help="audio file to read (WAV, FLAC, AIFF, Ogg); never modified")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="file to write (its extension picks the format)")
    p.add_argument("--params", type=Path, metavar="PARAMS.json", help="the EQ: a JSON file with the 13 named fields")
    p.add_argument("--text", metavar="TEXT", help="words instead of --params: the EQ sized to IN (adaptive) unless --fixed")
    p.add_argument("--fixed", action="store_true", help="with --text: the plain preset for the words, not sized to IN")
    p.add_argument("--intensity", type=float, default=1.0, help="with --text: -2 .. 2 (default 1)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists (the input is never replaced)")
    p.add_argument("--json", action="store_true", help="print the render report as JSON")
    p.set_defaults(func=run)


def read_params_file(path: Path):
    """An :class:`~daw_bridge.eq.EQParams` from a JSON file (the 13 fields, or an answer with ``params``)."""
    from daw_bridge.eq import EQParams

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read the EQ parameters from {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return EQParams.from_json(text)


def _params_from_args(args: argparse.Namespace):
    """The EQ to render with, from the command line (``--params``, or ``--text`` through the service)."""
    if args.text is not None:
        if args.params is not None:
            raise CLIError("give the EQ with --params or --text, not both", code=2)
        from daw_bridge.cli.eq import local_answer
        from daw_bridge.eq import EQParams

        if args.fixed:
            request = {"op": "eq", "text": args.text, "intensity": args.intensity}
        else:
            request = {"op": "adapt", "path": str(args.input), "text": args.text, "intensity": args.intensity}
        return EQParams.from_dict(local_answer(request)["params"])
    if args.fixed:
        raise CLIError("--fixed only makes sense with --text", code=2)
    if args.params is None:
        raise CLIError("give the EQ with --params PARAMS.json or --text TEXT", code=2)
    return read_params_file(args.params)


def run(args: argparse.Namespace) -> int:
    from daw_bridge.cli.eq import local_answer

    params = _params_from_args(args)
    answer = local_answer({"op": "render", "path": str(args.input), "output": str(args.output),
                           "params": params.to_dict(), "overwrite": args.force})
    result = answer["render"]
    report = {"ok": True, "op": "apply", "input": str(args.input), "output": str(args.output), "params": params.to_dict()}
    report.update(result)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    limiter = f", limiter up to {result['limiter_gain_reduction_db']:.1f} dB" if result["limiter_gain_reduction_db"] > 0 else ""
    print(
        f"wrote {args.output}: loudness {result['loudness_in_lufs']:.1f} -> {result['loudness_out_lufs']:.1f} LUFS, "
        f"true peak {result['true_peak_in_dbtp']:.1f} -> {result['true_peak_out_dbtp']:.1f} dBTP "
        f"(ceiling {result['ceiling_dbtp']:.1f}), gain {result['gain_db']:+.1f} dB{limiter}"
    )
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
