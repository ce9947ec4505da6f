"""The network: term embedding -> 32-d latent, decoder latent -> 13 parameters, encoder 13 -> latent.

Parameters are learned in a normalised space (all in [-1, 1]): gains / 12 dB, log-frequency over
20 Hz .. 20 kHz and log-Q over 0.1 .. 10 (:data:`SCALING`, :func:`normalise`, :func:`denormalise`).
Training only (torch): answers run the exported arrays with numpy (:mod:`daw_bridge.semantic.runtime`).

The decoder is odd in the latent for the gains and even for frequencies and Q; the encoder is odd in
the gains. So the origin of the latent space is the flat EQ, ``-z`` is exactly the opposite EQ of
``z`` (every gain negated, same bands), and a flat EQ encodes to the origin whatever its band
frequencies. Intensity and "less X" are exact consequences, not learned approximations.

:func:`magnitude_db` is the RBJ cookbook magnitude response of the whole EQ in torch
(differentiable), for the frequency-response loss; tests check it against
:func:`daw_bridge.eq.response_db`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from daw_bridge.eq import FREQ_RANGE_HZ, GAIN_RANGE_DB, Q_RANGE, SHELF_Q
from daw_bridge.layout import BANDS, FREQ_INDEX, GAIN_INDEX, Q_INDEX
from daw_bridge.semantic.runtime import Scaling

LATENT_DIM = 32
HIDDEN = 128

_GAIN_MASK = torch.zeros(13, dtype=torch.bool)
_GAIN_MASK[list(GAIN_INDEX)] = True
_LOG_F = (math.log(FREQ_RANGE_HZ[0]), math.log(FREQ_RANGE_HZ[1]))
_LOG_Q = (math.log(Q_RANGE[0]), math.log(Q_RANGE[1]))
_GAIN_SCALE_DB = GAIN_RANGE_DB[1]


#: The 13 parameters <-> [-1, 1]: gains linear over +-12 dB, frequencies and Q logarithmic over their ranges.
SCALING = Scaling(
    low=np.array([-_GAIN_SCALE_DB if i in GAIN_INDEX else _LOG_F[0] if i in FREQ_INDEX else _LOG_Q[0] for i in range(13)]),
    high=np.array([_GAIN_SCALE_DB if i in GAIN_INDEX else _LOG_F[1] if i in FREQ_INDEX else _LOG_Q[1] for i in range(13)]),
    log=np.array([i not in GAIN_INDEX for i in range(13)]),
)


def normalise(vector: np.ndarray) -> np.ndarray:
    """13 parameters (dB, Hz, Q; any leading shape) -> normalised values in [-1, 1]."""
    return SCALING.normalise(vector)


def denormalise(norm: torch.Tensor) -> torch.Tensor:
    """Normalised values (..., 13) -> gains dB, frequencies Hz, Q (torch, differentiable)."""
    gains = norm * _GAIN_SCALE_DB
    freqs = torch.exp(_LOG_F[0] + (norm + 1.0) * 0.5 * (_LOG_F[1] - _LOG_F[0]))
    qs = torch.exp(_LOG_Q[0] + (norm + 1.0) * 0.5 * (_LOG_Q[1] - _LOG_Q[0]))
    out = gains.clone()
    out[..., list(FREQ_INDEX)] = freqs[..., list(FREQ_INDEX)]
    out[..., list(Q_INDEX)] = qs[..., list(Q_INDEX)]
    return out


def _band_power(kind: str, gain_db: torch.Tensor, freq_hz: torch.Tensor, q: torch.Tensor,
                cos1: torch.Tensor, cos2: torch.Tensor, sin1: torch.Tensor, sin2: torch.Tensor,
                sample_rate_hz: float) -> torch.Tensor:
    """|H|^2 of one RBJ band (batch (B, 1) parameters against (F,) frequencies)."""
    a = torch.pow(10.0, gain_db / 40.0)
    w0 = 2.0 * math.pi * freq_hz / sample_rate_hz
    cw, sw = torch.cos(w0), torch.sin(w0)
    alpha = sw / (2.0 * q)
    if kind == "peak":
        b0, b1, b2 = 1.0 + alpha * a, -2.0 * cw, 1.0 - alpha * a
        a0, a1, a2 = 1.0 + alpha / a, -2.0 * cw, 1.0 - alpha / a
    else:
        s = 1.0 if kind == "low_shelf" else -1.0
        sq = 2.0 * torch.sqrt(a) * alpha
        b0 = a * ((a + 1) - s * (a - 1) * cw + sq)
        b1 = s * 2 * a * ((a - 1) - s * (a + 1) * cw)
        b2 = a * ((a + 1) - s * (a - 1) * cw - sq)
        a0 = (a + 1) + s * (a - 1) * cw + sq
        a1 = -s * 2 * ((a - 1) + s * (a + 1) * cw)
        a2 = (a + 1) + s * (a - 1) * cw - sq
    num = (b0 + b1 * cos1 + b2 * cos2) ** 2 + (b1 * sin1 + b2 * sin2) ** 2
    den = (a0 + a1 * cos1 + a2 * cos2) ** 2 + (a1 * sin1 + a2 * sin2) ** 2
    return num / den


def magnitude_db(params: torch.Tensor, freqs_hz: torch.Tensor, sample_rate_hz: float = 48000.0) -> torch.Tensor:
    """Magnitude response (dB) of EQs ``params`` (B, 13 in dB/Hz/Q) at ``freqs_hz`` (F,): (B, F).

    The RBJ cookbook formulas of :mod:`daw_bridge.eq` (shelves with :data:`SHELF_Q`), in torch so
    that the response loss is differentiable.
    """
    w = 2.0 * math.pi * freqs_hz / sample_rate_hz
    cos1, cos2, sin1, sin2 = torch.cos(w), torch.cos(2 * w), torch.sin(w), torch.sin(2 * w)
    shelf_q = torch.full_like(params[:, :1], SHELF_Q)
    column = lambda i: params[:, i : i + 1]  # noqa: E731
    bands = [
        (b.kind, column(b.gain_index), column(b.freq_index), shelf_q if b.q_index is None else column(b.q_index))
        for b in BANDS
    ]
    total = torch.zeros(params.shape[0], freqs_hz.shape[0], dtype=params.dtype)
    for kind, g, f, q in bands:
        power = _band_power(kind, g, f, q, cos1, cos2, sin1, sin2, sample_rate_hz)
        total = total + 10.0 * torch.log10(torch.clamp(power, min=1e-24))
    return total


def _mlp(n_in: int, n_out: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.SiLU(),
        nn.Linear(hidden, hidden), nn.SiLU(),
        nn.Linear(hidden, n_out),
    )


class SemanticNet(nn.Module):
    """Term embedding, decoder and encoder (see the module docstring for the symmetry)."""

    #: For the numpy export (:mod:`daw_bridge.semantic.runtime`): outputs odd in z, and the scaling.
    odd_outputs = _GAIN_MASK.numpy()
    scaling = SCALING

    def __init__(self, n_terms: int, latent_dim: int = LATENT_DIM, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.terms = nn.Embedding(n_terms, latent_dim)
        nn.init.normal_(self.terms.weight, std=0.3)
        self.decoder = _mlp(latent_dim, 13, hidden)
        self.encoder = _mlp(13, latent_dim, hidden)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent (B, latent) -> normalised parameters (B, 13), gains odd and the rest even in z."""
        a, b = self.decoder(z), self.decoder(-z)
        mask = _GAIN_MASK.to(z.device)
        return torch.tanh(torch.where(mask, 0.5 * (a - b), 0.5 * (a + b)))

    def encode(self, norm: torch.Tensor) -> torch.Tensor:
        """Normalised parameters (B, 13) -> latent (B, latent), odd in the gains (flat -> origin)."""
        mask = _GAIN_MASK.to(norm.device)
        mirrored = torch.where(mask, -norm, norm)
        return 0.5 * (self.encoder(norm) - self.encoder(mirrored))
