"""Build ``models/wordnet/relations.txt.gz``: general English word relations from WordNet 3.0.

Run at build time only (the run time reads the committed table, on any OS)::

    python -m tools.build_wordnet [--wordnet /usr/share/wordnet] [--out models/wordnet]

Input: the WordNet 3.0 database files (``data.{adj,adv,noun,verb}``, ``index.*``, ``*.exc``), e.g.
Debian's ``wordnet-base`` (``/usr/share/wordnet``). The table is *general*: it is never filtered by,
or tuned on, the studio lexicon. It keeps every synset of every part of speech except nouns whose
lexicographer file names concrete things, living beings, places or times (people, animals, plants,
food, body parts, places, times, groups, quantities: a word like "taco" or "Tuesday" then has no
entry and is refused like any unknown word), and per synset:

* its lemmas (lower case, ``_`` -> space) and its gloss without the quoted examples (the
  definition, cut to :data:`GLOSS_CHARS` characters);
* the pointers that carry meaning between words: antonym ``!``, similar to ``&``, also see ``^``,
  derivationally related ``+``, pertainym / derived from ``\\``, attribute ``=``, verb group ``$``
  (hypernyms and the rest are dropped).

The lemma index keeps, per part of speech, WordNet's sense number (0 = most frequent; a sense left
out keeps its number free, so "dog" as a ratchet's pawl stays its 6th sense), and the
exception lists (``brighter`` -> bright) are kept for morphology. Output: the gzipped text format of
:func:`daw_bridge.semantic.wordnet.encode` (read by the run time line by line, without building
Python objects for the whole table) and ``LICENSE`` (WordNet 3.0).
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from pathlib import Path

from daw_bridge.semantic.wordnet import RELATIONS_FILE, encode, speaks_of_sound

POS_FILES = {"adj": "a", "adv": "r", "noun": "n", "verb": "v"}
#: Pointers kept (WordNet pointer symbols), see the module docstring.
KEPT_POINTERS = {"!", "&", "^", "+", "\\", "=", "$"}
#: Noun lexicographer files left out (concrete things, beings, places, times, groups and amounts).
DROPPED_NOUN_FILES = {
    "noun.animal", "noun.body", "noun.food", "noun.group", "noun.location", "noun.person", "noun.plant",
    "noun.quantity", "noun.time", "noun.object", "noun.possession", "noun.motive", "noun.Tops",
}
#: Noun lexicographer files of made or material things (a lemma known only in these, in left-out noun
#: files and as verbs, none about sound, names a thing: "wood", "glass", "window").
THING_NOUN_FILES = {"noun.artifact", "noun.substance"}
#: WordNet's lexicographer file numbers (lexnames, fixed for WordNet 3.0).
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
#: Longest gloss kept (characters).
GLOSS_CHARS = 160

LICENSE = """WordNet Release 3.0 (the data in relations.txt.gz is derived from it by tools/build_wordnet.py)

This software and database is being provided to you, the LICENSEE, by Princeton University under the
following license. By obtaining, using and/or copying this software and database, you agree that you
have read, understood, and will comply with these terms and conditions.:

Permission to use, copy, modify and distribute this software and database and its documentation for
any purpose and without fee or royalty is hereby granted, provided that you agree to comply with the
following copyright notice and statements, including the disclaimer, and that the same appear on ALL
copies of the software, database and documentation, including modifications that you make for
internal use or for distribution.

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.

THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR
WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION, PRINCETON UNIVERSITY MAKES NO
REPRESENTATIONS OR WARRANTIES OF MERCHANT- ABILITY OR FITNESS FOR ANY PARTICULAR PURPOSE OR THAT THE
USE OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS,
COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS.

The name of Princeton University or Princeton may not be used in advertising or publicity pertaining
to distribution of the software and/or database. Title to copyright in this software, database and
any associated documentation shall at all times remain with Princeton University and LICENSEE agrees
to preserve same.
"""


def lemma_key(raw: str) -> str:
    """WordNet lemma -> lookup key: lower case, runs of ``_``, ``-`` and space -> one space (as the
    lexicon's keys), adjective markers like ``(p)`` dropped."""
    return re.sub(r"[\s_-]+", " ", re.sub(r"\(\w+\)$", "", raw)).strip().lower()


def gloss_definition(gloss: str) -> str:
    """The definition part of a gloss (quoted examples dropped), at most :data:`GLOSS_CHARS` characters."""
    text = re.split(r';?\s*"', gloss, maxsplit=1)[0].strip().rstrip(";").strip()
    return text if len(text) <= GLOSS_CHARS else text[: GLOSS_CHARS - 1].rsplit(" ", 1)[0] + "…"


def parse_data(path: Path) -> list[tuple[str, str, int, list[str], str, list[tuple[str, str, int, int]]]]:
    """Synsets of one ``data.*`` file: (key, ss_type, lexfile, lemmas, gloss, pointers)."""
    out = []
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        head, _, gloss = line.partition(" | ")
        f = head.split()
        offset, lexfile, ss_type, n = f[0], int(f[1]), f[2], int(f[3], 16)
        lemmas = [lemma_key(f[4 + 2 * i]) for i in range(n)]
        i = 4 + 2 * n
        pointers = []
        for _ in range(int(f[i])):
            symbol, target, pos, st = f[i + 1: i + 5]
            pointers.append((symbol, f"{pos.replace('s', 'a')}{target}", int(st[:2], 16), int(st[2:], 16)))
            i += 4
        key = f"{ss_type.replace('s', 'a')}{offset}"
        out.append((key, ss_type, lexfile, lemmas, gloss_definition(gloss), pointers))
    return out


def build(wordnet: Path) -> dict:
    """The table from the WordNet folder ``wordnet``: ``synsets`` [[pos, [lemmas], gloss, [[pointer,
    target, source word, target word], ...]], ...], ``index`` {lemma: [[synset, sense number], ...]},
    ``exceptions`` {form: [base, ...]}, ``things`` [lemma, ...] (:func:`thing_lemmas`)."""
    synsets, thing_keys = {}, set()
    for name in POS_FILES:
        for key, ss_type, lexfile, lemmas, gloss, pointers in parse_data(wordnet / f"data.{name}"):
            if name == "noun" and LEXNAMES[lexfile] in DROPPED_NOUN_FILES:
                continue
            synsets[key] = (ss_type, lemmas, gloss, pointers)
            if name == "noun" and LEXNAMES[lexfile] in THING_NOUN_FILES:
                thing_keys.add(key)
    keys = sorted(synsets)
    number = {k: i for i, k in enumerate(keys)}
    table = []
    for k in keys:
        ss_type, lemmas, gloss, pointers = synsets[k]
        kept = [[p, number[t], s, w] for p, t, s, w in pointers if p in KEPT_POINTERS and t in number]
        table.append([ss_type, lemmas, gloss, kept])
    index: dict[str, list[list[int]]] = {}
    for name, pos in POS_FILES.items():
        for line in (wordnet / f"index.{name}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue
            f = line.split()
            lemma, n_senses = lemma_key(f[0]), int(f[2])
            offsets = f[-n_senses:]
            senses = [[number[f"{pos}{o}"], rank] for rank, o in enumerate(offsets) if f"{pos}{o}" in number]
            if senses:
                index.setdefault(lemma, []).extend(senses)
    exceptions: dict[str, list[str]] = {}
    for name in POS_FILES:
        path = wordnet / f"{name}.exc"
        for line in path.read_text(encoding="latin-1").splitlines() if path.exists() else []:
            form, *bases = (lemma_key(w) for w in line.split())
            exceptions.setdefault(form, [])
            exceptions[form] += [b for b in bases if b in index and b not in exceptions[form]]
    things = thing_lemmas(index, table, {number[k] for k in thing_keys})
    return {"synsets": table, "index": index, "exceptions": {f: b for f, b in exceptions.items() if b},
            "things": things}


def thing_lemmas(index: dict[str, list[list[int]]], synsets: list, thing_synsets: set[int]) -> list[str]:
    """Lemmas that name a made or material thing and nothing about sound: no adjective or adverb sense,
    every kept noun sense in :data:`THING_NOUN_FILES`, at least one noun sense, and no sense whose gloss
    speaks of sound (so "boom", "hiss", "bell" are not things). Sorted."""
    out = []
    for lemma, senses in index.items():
        pos = [synsets[s][0] for s, _ in senses]
        if "n" in pos and all(p in ("n", "v") for p in pos) \
                and all(s in thing_synsets for s, _ in senses if synsets[s][0] == "n") \
                and not any(speaks_of_sound(synsets[s][2]) for s, _ in senses):
            out.append(lemma)
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"), help="WordNet 3.0 dict folder")
    parser.add_argument("--out", type=Path, default=Path("models/wordnet"), help="output folder")
    args = parser.parse_args(argv)
    table = build(args.wordnet)
    args.out.mkdir(parents=True, exist_ok=True)
    text = encode(table["synsets"], table["index"], table["exceptions"], table["things"]).encode("utf-8")
    out = args.out / RELATIONS_FILE
    out.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
    (args.out / "LICENSE").write_text(LICENSE, encoding="utf-8")
    print(f"{out}: {len(table['synsets'])} synsets, {len(table['index'])} lemmas, {len(table['things'])} things, "
          f"{out.stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
