"""``semeq``: the command-line door to the service.

Each subcommand lives in its own module here and exposes ``add_parser(subparsers)``; modules keep
heavy imports (numpy, torch, the model) inside their run functions so that ``semeq send`` starts
fast (it is what REAPER scripts run for every action).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from daw_bridge import __version__
from daw_bridge.errors import SemeqError

#: Subcommand modules, in the order ``semeq --help`` lists them.
COMMANDS = (
    "eq",
    "apply",
    "response",
    "analyze",
    "suggest",
    "serve",
    "send",
    "train",
    "install_reaper",
)


class CLIError(Exception):
    """A user-facing failure: printed as ``semeq: error: <message>`` with exit code ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``semeq`` parser; ``only`` (a command name) registers just that subcommand's module,
    so a single command pays for no other command's imports."""
    parser = argparse.ArgumentParser(
        prog="semeq",
        description=(
            "Semantic EQ Bridge: say what you want to hear ('warmer', 'a bit less harsh') and get "
            "a 5-band parametric EQ for REAPER's ReaEQ, Ardour's ACE EQ or any OSC host, sized to "
            "the track in front of it."
        ),
    )
    parser.add_argument("--version", action="version", version=f"semeq {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        if only is None or only == name.replace("_", "-"):
            importlib.import_module(f"daw_bridge.cli.{name}").add_parser(sub)
    return parser


#: One BLAS thread: the product's matrices are small, and a multi-threaded BLAS fights the server's
#: worker threads (an OpenBLAS pool made one sentence embedding 10-40x slower on a busy 2-core
#: machine). Set before numpy is first imported; the user's own setting wins.
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main(argv: list[str] | None = None) -> int:
    for name, value in BLAS_THREADS.items():
        os.environ.setdefault(name, value)
    argv = sys.argv[1:] if argv is None else argv
    known = {name.replace("_", "-") for name in COMMANDS}
    parser = build_parser(only=argv[0] if argv and argv[0] in known else None)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # the reader went away (e.g. `semeq send ... | head`): no traceback, nothing more to print
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except CLIError as exc:
        print(f"semeq: error: {exc}", file=sys.stderr)
        return exc.code
    except SemeqError as exc:
        print(f"semeq: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
