"""Rewrite the generated tables of ``docs/osc-protocol.md`` from the op table (``daw_bridge/ops.py``).

Usage: ``python tools/sync_protocol_doc.py`` (``--check`` exits 1 when the document differs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from daw_bridge.ops import protocol_tables  # noqa: E402

DOC = REPO / "docs" / "osc-protocol.md"
BEGIN, END = "<!-- ops-table:begin -->", "<!-- ops-table:end -->"


def synced(text: str) -> str:
    """``text`` with the part between the markers replaced by the generated tables."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    if not rest or END not in rest:
        raise SystemExit(f"{DOC} lacks the markers {BEGIN} ... {END}")
    return f"{head}{BEGIN}\n{protocol_tables()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the document drifted")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    new = synced(text)
    if args.check:
        return 0 if new == text else 1
    if new != text:
        DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
