"""``semeq eq TEXT``: words -> a 5-band EQ, in this process (same answer JSON as the OSC reply).

Also home of the helpers the local commands share (``analyze``, ``suggest``): :func:`local_answer`
runs one request through :class:`daw_bridge.service.Service` with no path restriction (the user's own
shell), :func:`print_answer` prints the human-readable form, :func:`save_plot` the PNG.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from daw_bridge.cli import CLIError



def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "eq",
        help="words -> a 5-band EQ (ReaEQ and ACE EQ values)",
        description="Turn words ('warmer', 'a bit less harsh', 'warm and a bit bright') into a 5-band EQ. "
        "With --audio the EQ is sized to that track (adaptive) unless --fixed.",
    )
    p.add_argument("text", help="what you want to hear, e.g. 'a bit warmer'")
    p.add_argument("--intensity", type=float, default=1.0, help="-2 .. 2 (negative = the opposite, 0 = flat; default 1)")
    p.add_argument("--json", action="store_true", help="print the answer JSON")
    p.add_argument("--plot", type=Path, metavar="OUT.png", help="save the EQ curve (over the track's spectrum with --audio)")
    p.add_argument("--audio", type=Path, metavar="IN", help="size the EQ to this track (adaptive)")
    p.add_argument("--fixed", action="store_true", help="with --audio: the plain preset for the words, not sized to the track")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.fixed and args.audio is None:
        raise CLIError("--fixed only makes sense with --audio IN", code=2)
    if args.audio is None or args.fixed:
        answer = local_answer({"op": "eq", "text": args.text, "intensity": args.intensity})
    else:
        answer = local_answer({"op": "adapt", "path": str(args.audio), "text": args.text, "intensity": args.intensity})
    if args.plot is not None:
        save_plot(args.plot, answer, args.audio, f"semeq eq '{args.text}'")
    print_answer(answer, args.json)
    return 0


# --- shared by the local commands --------------------------------------------------------------


def local_answer(request: dict) -> dict:
    """Run one request in this process; return the answer or raise :class:`CLIError` (exit 1)."""
    from daw_bridge.paths import UNRESTRICTED, default_home
    from daw_bridge.service import Service

    service = Service(default_home(), paths=UNRESTRICTED)
    try:
        answer = service.handle({"id": "cli", **request})
    finally:
        service.close()
    if not answer.get("ok"):
        message = answer.get("message", "the request failed")
        if answer.get("suggestions") and "close known words" not in message.lower():
            message += " (close known words: " + ", ".join(map(str, answer["suggestions"])) + ")"
        raise CLIError(message, code=1)
    return answer


def save_plot(path: Path, answer: dict, audio: Path | None, title: str) -> None:
    """Write the EQ curve (over the band levels of ``audio``, if given) as a PNG, atomically."""
    from daw_bridge.artifacts import plot_eq_over_spectrum
    from daw_bridge.files import atomic_path

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise CLIError(f"--plot writes a PNG; give a file name ending in .png, not '{path.name}'", code=2)
    if not path.parent.is_dir():
        raise CLIError(f"--plot: folder {path.parent} does not exist")
    analysis = None if audio is None else local_answer({"op": "analyze", "path": str(audio)})
    with atomic_path(path) as tmp:
        plot_eq_over_spectrum(tmp, answer, analysis, None, title)


def format_bands(answer: dict) -> list[str]:
    """The five bands as lines: gain (dB), frequency (Hz), Q for the peaks."""
    from daw_bridge.layout import BANDS

    p = answer["params"]
    lines = []
    for band in BANDS:
        gain, freq, *q = (p[name] for name in band.names)
        width = f"  Q {q[0]:.2f}" if q else ""
        lines.append(f"  {band.label:<10} {gain:+6.1f} dB at {freq:7.0f} Hz{width}")
    return lines


def print_answer(answer: dict, as_json: bool) -> None:
    """Print the answer: the JSON, or terms, bands, blend, summary, explanation and warnings."""
    if as_json:
        print(json.dumps(answer, indent=2))
        return
    lines = []
    if answer.get("summary"):
        lines.append(f"heard: {answer['summary']}")
    if answer.get("terms"):
        used = ", ".join(
            f"{t['term']} x{t['weight']:.2f}" + (f" [{t['kind']}]" if t.get("kind") else "")
            + ("" if t.get("similarity") is None else
               f" ({'similar' if t.get('route') in (None, '', 'gloss', 'embedding') else 'evidence'} "
               f"{t['similarity']:.2f})")
            for t in answer["terms"]
        )
        lines.append(f"'{answer.get('text')}' -> {used}, intensity {answer.get('intensity')}")
        lines += [f"  '{t['matched']}' read as {t['via']}. {t['term']}: {t['definition']}"
                  if t.get("via") else f"  {t['term']}: {t['definition']}" for t in answer["terms"]
                  if t.get("similarity") is not None and t.get("definition")]
    if answer.get("blend"):
        lines.append("blend: " + ", ".join(f"{b['term']} {100 * b['weight']:.0f}%" for b in answer["blend"]))
    if "params" in answer:
        lines += format_bands(answer)
    if answer.get("explanation"):
        lines.append(answer["explanation"])
    lines += [f"warning: {w}" for w in answer.get("warnings", [])]
    print("\n".join(lines))
