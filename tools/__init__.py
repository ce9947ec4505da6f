"""Scripts that build the runtime model files in ``models/`` (run from the repository root: ``python -m tools.NAME``)."""
