"""The trained networks as plain arrays, run with numpy: every answering path, no torch.

``semeq train`` writes ``models/semantic.npz`` beside ``semantic.pt`` through :func:`export`, which
walks the torch module generically: every child of the network is an ``Embedding``, a ``Linear`` or
a ``Sequential`` of those and elementwise activations, and every array of its state dict is stored
under its state-dict name. The file also stores what the symmetric decode/encode of
:class:`daw_bridge.semantic.net.SemanticNet` need (which of the 13 outputs are odd in the latent) and
the normalisation of the 13 parameters (per column: linear or logarithmic between two bounds), so a
model file decodes with exactly the scaling it was trained with, whatever the code's constants are
later.

:class:`NumpyNet` runs the file in float64 (the stored float32 weights widened once): outputs equal
torch's float32 forward pass within 1e-5 (``tests/test_runtime.py``, every vocabulary word).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

#: Version of the array file layout.
FORMAT = 1
#: The array file beside ``semantic.pt``.
ARRAYS_FILE = "semantic.npz"

Activation = Callable[[np.ndarray], np.ndarray]


def _silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


#: Elementwise activations the export understands, by torch class name.
ACTIVATIONS: dict[str, Activation] = {
    "SiLU": _silu,
    "ReLU": lambda x: np.maximum(x, 0.0),
    "Tanh": np.tanh,
    "Sigmoid": _sigmoid,
    "Identity": lambda x: x,
}


@dataclass(frozen=True)
class Scaling:
    """The 13 parameters <-> normalised values in [-1, 1], column by column.

    Column j maps ``n`` to ``u = low[j] + (n + 1) / 2 * (high[j] - low[j])`` and the parameter is
    ``exp(u)`` where ``log[j]`` (frequencies in Hz, Q) else ``u`` (gains in dB).
    """

    low: np.ndarray  # (13,)
    high: np.ndarray  # (13,)
    log: np.ndarray  # (13,) bool

    def normalise(self, vector: np.ndarray) -> np.ndarray:
        """Parameters (dB, Hz, Q; any leading shape) -> normalised values."""
        v = np.asarray(vector, dtype=float)
        u = np.where(self.log, np.log(np.where(self.log, v, 1.0)), v)
        return 2.0 * (u - self.low) / (self.high - self.low) - 1.0

    def denormalise(self, norm: np.ndarray) -> np.ndarray:
        """Normalised values (any leading shape) -> parameters (dB, Hz, Q)."""
        u = self.low + (np.asarray(norm, dtype=float) + 1.0) * 0.5 * (self.high - self.low)
        return np.where(self.log, np.exp(np.where(self.log, u, 0.0)), u)


def _layer_spec(name: str, module: Any) -> dict:
    kind = type(module).__name__
    if kind == "Linear":
        return {"kind": "linear", "weight": f"{name}.weight",
                "bias": f"{name}.bias" if module.bias is not None else None}
    if kind in ACTIVATIONS:
        return {"kind": kind}
    raise ValueError(f"cannot export layer {name} ({kind}): the numpy runtime runs Linear layers and "
                     f"the activations {', '.join(ACTIVATIONS)}")


def module_spec(net: Any) -> dict[str, Any]:
    """Describe every child module of ``net`` (Embedding, Linear or Sequential) for the runtime."""
    spec: dict[str, Any] = {}
    for name, child in net.named_children():
        kind = type(child).__name__
        if kind == "Embedding":
            spec[name] = {"kind": "embedding", "weight": f"{name}.weight"}
        elif kind == "Sequential":
            spec[name] = {"kind": "sequential",
                          "layers": [_layer_spec(f"{name}.{i}", layer) for i, layer in enumerate(child)]}
        else:
            spec[name] = {"kind": "sequential", "layers": [_layer_spec(name, child)]}
    return spec


def to_arrays(net: Any, terms: list[str]) -> dict[str, np.ndarray]:
    """The arrays of the export file for a trained network (torch module; torch is not imported here).

    ``net`` provides ``named_children()``, ``state_dict()``, ``latent_dim``, ``odd_outputs`` (13 bools)
    and ``scaling`` (:class:`Scaling`).
    """
    arrays = {f"state/{k}": v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}
    scaling: Scaling = net.scaling
    meta = {"format": FORMAT, "latent_dim": int(net.latent_dim), "modules": module_spec(net)}
    arrays.update({
        "meta": np.array(json.dumps(meta)),
        "terms": np.array(list(terms), dtype=str),
        "odd_outputs": np.asarray(net.odd_outputs, dtype=bool),
        "scaling/low": np.asarray(scaling.low, dtype=float),
        "scaling/high": np.asarray(scaling.high, dtype=float),
        "scaling/log": np.asarray(scaling.log, dtype=bool),
    })
    return arrays


def export(net: Any, terms: list[str], path: Path) -> Path:
    """Write ``net`` and its vocabulary order to the array file ``path`` (temporary file + rename)."""
    from daw_bridge.files import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:  # a file object: np.savez would otherwise append ".npz"
            np.savez(handle, **to_arrays(net, terms))
    return path


class _Sequential:
    """Linear layers and activations as one callable on (batch, features) float64 arrays."""

    def __init__(self, steps: list[tuple[np.ndarray, np.ndarray | None] | Activation]) -> None:
        self.steps = steps

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for step in self.steps:
            if isinstance(step, tuple):
                weight_t, bias = step
                x = x @ weight_t
                if bias is not None:
                    x += bias
            else:
                x = step(x)
        return x


class NumpyNet:
    """The semantic network from its arrays (see the module docstring); float64, any batch size."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        meta = json.loads(str(arrays["meta"]))
        if meta.get("format") != FORMAT:
            raise ValueError(f"array file format {meta.get('format')!r}; this version reads {FORMAT}")
        state = {k[len("state/"):]: np.asarray(v) for k, v in arrays.items() if k.startswith("state/")}
        self.latent_dim: int = int(meta["latent_dim"])
        self.terms: list[str] = [str(t) for t in arrays["terms"]]
        self.odd_outputs = np.asarray(arrays["odd_outputs"], dtype=bool)
        self.scaling = Scaling(np.asarray(arrays["scaling/low"], float), np.asarray(arrays["scaling/high"], float),
                               np.asarray(arrays["scaling/log"], bool))
        modules = meta["modules"]
        self.latents = np.array(state[modules["terms"]["weight"]], dtype=float)  # (words, latent)
        self.decoder = self._sequential(modules["decoder"], state)
        self.encoder = self._sequential(modules["encoder"], state)

    @staticmethod
    def _sequential(spec: dict, state: Mapping[str, np.ndarray]) -> _Sequential:
        steps: list = []
        for layer in spec["layers"]:
            if layer["kind"] == "linear":
                bias = None if layer["bias"] is None else np.array(state[layer["bias"]], dtype=float)
                steps.append((np.ascontiguousarray(np.asarray(state[layer["weight"]], dtype=float).T), bias))
            else:
                steps.append(ACTIVATIONS[layer["kind"]])
        return _Sequential(steps)

    @classmethod
    def from_module(cls, net: Any, terms: list[str]) -> "NumpyNet":
        """The runtime of a trained torch network in memory (the same arrays the file would hold)."""
        return cls(to_arrays(net, terms))

    @classmethod
    def load(cls, path: Path) -> "NumpyNet":
        """Read an array file written by :func:`export` (no pickled objects are allowed)."""
        with np.load(Path(path), allow_pickle=False) as data:
            return cls({k: data[k] for k in data.files})

    # --- the forward passes -------------------------------------------------------------------
    def decode(self, z: np.ndarray) -> np.ndarray:
        """Latents (B, latent) -> normalised parameters (B, 13): odd outputs odd in z, the rest even."""
        z = np.asarray(z, dtype=float)
        both = self.decoder(np.concatenate([z, -z]))
        a, b = both[: len(z)], both[len(z):]
        return np.tanh(np.where(self.odd_outputs, 0.5 * (a - b), 0.5 * (a + b)))

    def encode(self, norm: np.ndarray) -> np.ndarray:
        """Normalised parameters (B, 13) -> latents (B, latent), odd in the odd columns."""
        norm = np.asarray(norm, dtype=float)
        both = self.encoder(np.concatenate([norm, np.where(self.odd_outputs, -norm, norm)]))
        return 0.5 * (both[: len(norm)] - both[len(norm):])

    def decode_params(self, z: np.ndarray) -> np.ndarray:
        """Latents (B, latent) -> parameter vectors (B, 13) in dB, Hz and Q (not yet clipped or sorted)."""
        return self.scaling.denormalise(self.decode(z))

    def encode_params(self, vectors: np.ndarray) -> np.ndarray:
        """Parameter vectors (B, 13) in dB, Hz and Q -> latents (B, latent)."""
        return self.encode(self.scaling.normalise(vectors))


def export_checkpoint(weights: Path) -> Path:
    """Write ``semantic.npz`` beside an existing ``semantic.pt`` (needs torch: the ``train`` extra)."""
    import torch

    from daw_bridge.semantic.net import SemanticNet

    weights = Path(weights)
    blob = torch.load(weights, map_location="cpu", weights_only=True)
    net = SemanticNet(len(blob["terms"]), blob["latent_dim"], blob["hidden"])
    net.load_state_dict(blob["state_dict"])
    return export(net, list(blob["terms"]), weights.with_name(ARRAYS_FILE))

