"""Where the files that ship beside the package are: ``models/`` and ``reaper_scripts/``.

In a clone (and an editable install) they sit at the top of the repository, beside the package. A
regular install (``pip install .``) puts them under ``<prefix>/share/semantic-eq-bridge/`` (the
``[tool.setuptools.data-files]`` of pyproject.toml). Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The folder under ``<prefix>/share`` that a regular install writes.
SHARE_NAME = "semantic-eq-bridge"


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``models`` or ``reaper_scripts``): the repository's if there is one,
    else the installed copy; the repository path when neither exists (errors then name it)."""
    import daw_bridge

    repo = Path(daw_bridge.__file__).resolve().parents[1] / name
    if repo.is_dir():
        return repo
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        installed = Path(prefix) / "share" / SHARE_NAME / name
        if installed.is_dir():
            return installed
    return repo
