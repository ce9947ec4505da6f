"""Words -> EQ: the learned semantic model (term -> 32-d latent -> 13 parameters, and 13 -> latent).

Run time: :class:`SemanticModel` (``load``, ``interpret``, ``encode``, ``decode``, ``term_latent``,
``params_for``, ``vocabulary``), running the exported arrays with numpy
(:mod:`daw_bridge.semantic.runtime`). Training: :mod:`daw_bridge.semantic.train`; data:
:mod:`daw_bridge.semantic.data`; text: :mod:`daw_bridge.semantic.parse`. torch is imported only to
train (the ``train`` extra).
"""

from daw_bridge.semantic.entries import VocabularyEntry
from daw_bridge.semantic.model import (
    Interpretation,
    ModelError,
    NeedsAudioError,
    SemanticModel,
    TermUse,
    UnknownTermError,
    models_dir,
)

__all__ = [
    "Interpretation",
    "ModelError",
    "NeedsAudioError",
    "SemanticModel",
    "TermUse",
    "UnknownTermError",
    "VocabularyEntry",
    "models_dir",
]
