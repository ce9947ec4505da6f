"""Run Python code in a fresh interpreter where some top-level modules cannot be imported.

The modules are refused by a finder at the front of ``sys.meta_path`` (an ``ImportError``, as on a
machine without them); nothing is put into ``sys.modules``, so libraries that look for an optional
module there (scipy looks for torch) see it as simply absent.
"""

from __future__ import annotations

import subprocess
import sys

_PRELUDE = """
import importlib.abc, sys
class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {hidden!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (hidden by the test)", name=name)
        return None
sys.meta_path.insert(0, _Hide())
"""


def run_without(modules: set[str], code: str, timeout_s: float = 120.0) -> subprocess.CompletedProcess:
    """Run ``code`` with ``modules`` unimportable; returns the finished process, which must succeed
    (else an AssertionError with its output)."""
    done = subprocess.run([sys.executable, "-c", _PRELUDE.format(hidden=set(modules)) + code],
                          capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done
