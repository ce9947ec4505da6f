"""Semantic EQ Bridge: words and listening turned into a DAW's own parametric EQ."""

__version__ = "0.1.0"
