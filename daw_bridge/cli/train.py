"""``semeq train [--data DIR] [--out DIR] [--lexicon DIR] [--tiny] [--seed N]``: train the semantic model.

Reads SAFE-DB and Audealize from ``--data`` (default ``$SEMEQ_DATA`` or ``../shared/data``) and the
studio lexicon from ``--lexicon`` (default ``models/lexicon``), trains on the CPU (deterministic for a
seed, a minute or two) and writes the weights, vocabulary, training summary, Audealize fit cache and
(with the embeddings extra) the lexicon's sentence embeddings into ``--out`` (default: the models
folder). ``--tiny`` trains a small model on a subset in
seconds, to check the pipeline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from daw_bridge.cli import CLIError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train the words-to-EQ model from the studio lexicon, SAFE-DB and Audealize",
        description="Train the semantic model (term -> 32-d latent -> 13 EQ parameters, and an EQ encoder) "
        "on the studio lexicon, SAFE-DB's settings and Audealize's word curves, and write it to --out.",
    )
    p.add_argument("--data", type=Path, default=None,
                   help="folder with safe-db/ and audealize/ (default $SEMEQ_DATA or ../shared/data)")
    p.add_argument("--lexicon", type=Path, default=None, help="studio lexicon folder (default: models/lexicon)")
    p.add_argument("--out", type=Path, default=None, help="folder to write the model to (default: the models folder)")
    p.add_argument("--tiny", action="store_true", help="a small, fast model on a subset (pipeline check)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--no-embeddings", action="store_true",
                   help="do not precompute the vocabulary's sentence embeddings")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from daw_bridge.semantic.data import default_data_dir
    from daw_bridge.semantic.model import models_dir
    from daw_bridge.semantic.train import train

    data = args.data if args.data is not None else default_data_dir()
    if not (data / "safe-db").is_dir() or not (data / "audealize").is_dir():
        raise CLIError(f"{data} does not hold safe-db/ and audealize/; give the data folder with --data")
    out = args.out if args.out is not None else models_dir()
    train(data, out, tiny=args.tiny, seed=args.seed, embeddings=not args.no_embeddings, lexicon_dir=args.lexicon)
    print(f"model written to {out}")
    return 0
