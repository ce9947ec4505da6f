"""Word sources: one module per body of evidence about what words mean as EQ.

Every module here declares ``NAME`` and ``ROLE``:

* ``ROLE = "crowd"`` (SAFE-DB, Audealize): ``words(data_dir) -> set[str]`` and
  ``examples(data_dir, cache_dir, known) -> list[Example]``. A fourth crowd source is one new module
  with those three names; nothing else changes (:func:`crowd_sources` finds it).
* ``ROLE = "authority"`` (the studio lexicon): fixes region and direction of its words; the
  precedence rule that combines it with the crowd is :mod:`daw_bridge.semantic.vocabulary`.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

from daw_bridge.semantic.data import Example


def _modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]


def crowd_sources() -> list[ModuleType]:
    """The crowd source modules, by name."""
    return sorted((m for m in _modules() if getattr(m, "ROLE", None) == "crowd"), key=lambda m: m.NAME)


def crowd_examples(data_dir: Path | str | None, cache_dir: Path | str | None,
                   known: set[str] | frozenset[str] = frozenset()) -> list[Example]:
    """Every crowd source's examples; each source sees every other source's words as ``known``."""
    sources = crowd_sources()
    words = {m.NAME: m.words(data_dir) for m in sources}
    out: list[Example] = []
    for m in sources:
        others = set(known).union(*(w for name, w in words.items() if name != m.NAME))
        out.extend(m.examples(data_dir, cache_dir, known=others))
    return out
