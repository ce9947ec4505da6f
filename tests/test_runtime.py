"""The numpy runtime against torch: the exported arrays give torch's outputs within 1e-5.

torch comes with the ``train`` extra, which the README's test command installs.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from daw_bridge.eq import EQParams
from daw_bridge.semantic import SemanticModel, models_dir
from daw_bridge.semantic.model import ModelError
from daw_bridge.semantic.net import SemanticNet, denormalise, normalise
from daw_bridge.semantic.runtime import ARRAYS_FILE, NumpyNet, export, module_spec
from daw_bridge.semantic.train import Trained, TrainConfig, save_trained
from tests.hidden import run_without

TOLERANCE = 1e-5


def _torch_net(folder: Path) -> tuple[SemanticNet, list[str]]:
    blob = torch.load(folder / "semantic.pt", map_location="cpu", weights_only=True)
    net = SemanticNet(len(blob["terms"]), blob["latent_dim"], blob["hidden"])
    net.load_state_dict(blob["state_dict"])
    return net.eval(), list(blob["terms"])


def _vocabulary(terms: list[str]) -> list:
    """Vocabulary entries for ``terms`` (copies of a shipped entry with another word)."""
    base = SemanticModel.load().vocabulary[0]
    return [replace(base, term=t) for t in terms]


def _random_eqs(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = np.column_stack([
        rng.uniform(-12, 12, n), np.exp(rng.uniform(np.log(20), np.log(20000), n)),
        *[col for _ in range(3) for col in (rng.uniform(-12, 12, n), np.exp(rng.uniform(np.log(20), np.log(20000), n)),
                                           np.exp(rng.uniform(np.log(0.27), np.log(10), n)))],
        rng.uniform(-12, 12, n), np.exp(rng.uniform(np.log(20), np.log(20000), n)),
    ])
    return np.array([EQParams.from_vector(v).to_vector() for v in vectors])


def _assert_same(net: SemanticNet, runtime: NumpyNet, latents: np.ndarray, eqs: np.ndarray) -> None:
    with torch.no_grad():
        t_norm = net.decode(torch.tensor(latents, dtype=torch.float32))
        t_params = denormalise(t_norm.double()).numpy()
        t_latent = net.encode(torch.tensor(normalise(eqs), dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(runtime.decode(latents), t_norm.double().numpy(), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(runtime.decode_params(latents), t_params, rtol=TOLERANCE, atol=TOLERANCE)
    np.testing.assert_allclose(runtime.encode_params(eqs), t_latent, rtol=0, atol=TOLERANCE)


def test_shipped_export_equals_torch_for_every_vocabulary_word():
    net, terms = _torch_net(models_dir())
    runtime = NumpyNet.load(models_dir() / ARRAYS_FILE)
    assert runtime.terms == terms
    np.testing.assert_array_equal(runtime.latents, net.terms.weight.detach().double().numpy())
    words = runtime.latents
    eqs = np.vstack([runtime.decode_params(words), _random_eqs(500)])
    _assert_same(net, runtime, words, np.array([EQParams.from_vector(v, clip=True).to_vector() for v in eqs]))
    # and through the model's public answers, word by word
    model = SemanticModel.load()
    with torch.no_grad():
        expected = denormalise(net.decode(net.terms.weight).double()).numpy()
    for i, term in enumerate(terms):
        got = model.params_for(term, 1.0).to_vector()
        want = EQParams.from_vector(expected[i], clip=True).to_vector()
        np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE, err_msg=term)


def test_export_walks_any_sequential_of_linear_layers_and_activations(tmp_path):
    torch.manual_seed(3)
    net = SemanticNet(7, latent_dim=5, hidden=9)
    net.decoder = nn.Sequential(nn.Linear(5, 11), nn.ReLU(), nn.Linear(11, 6), nn.Tanh(), nn.Linear(6, 13))
    net.encoder = nn.Sequential(nn.Linear(13, 8), nn.Sigmoid(), nn.Linear(8, 5, bias=False))
    path = export(net.eval(), [f"w{i}" for i in range(7)], tmp_path / "x.npz")
    assert path == tmp_path / "x.npz" and sorted(p.name for p in tmp_path.iterdir()) == ["x.npz"]
    runtime = NumpyNet.load(path)
    assert [layer["kind"] for layer in module_spec(net)["decoder"]["layers"]] == ["linear", "ReLU", "linear", "Tanh", "linear"]
    _assert_same(net, runtime, np.random.default_rng(0).normal(0, 0.5, (20, 5)), _random_eqs(20))


def test_export_refuses_a_layer_the_runtime_cannot_run(tmp_path):
    net = SemanticNet(3, latent_dim=4, hidden=8)
    net.decoder = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 13))
    with pytest.raises(ValueError, match="LayerNorm"):
        export(net, ["a", "b", "c"], tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


def test_saving_a_trained_model_writes_both_files_and_loads_without_torch(tmp_path):
    torch.manual_seed(5)
    vocab = _vocabulary(["airy", "boomy", "warm"])
    net = SemanticNet(len(vocab)).eval()
    save_trained(Trained(net=net, vocabulary=vocab, config=TrainConfig()), tmp_path)
    assert {"semantic.pt", "semantic.npz", "vocabulary.json"} <= {p.name for p in tmp_path.iterdir()}
    _assert_same(net, NumpyNet.load(tmp_path / ARRAYS_FILE), net.terms.weight.detach().double().numpy(), _random_eqs(50))
    # a process where torch cannot be imported answers from the arrays alone
    code = (
        "from daw_bridge.semantic import SemanticModel\n"
        f"print(SemanticModel.load({str(tmp_path)!r}).interpret('warmer').params.to_json())\n"
    )
    out = run_without({"torch"}, code).stdout
    with torch.no_grad():
        z = net.terms.weight[2:3] * 1.0
        want = EQParams.from_vector(denormalise(net.decode(z).double())[0].numpy(), clip=True)
    got = EQParams.from_dict(json.loads(out))
    ratio = SemanticModel.load(tmp_path).interpret("warmer").terms[0].weight
    np.testing.assert_allclose(got.to_vector(), want.scaled(ratio).to_vector(), rtol=TOLERANCE, atol=TOLERANCE)


def test_a_model_folder_without_the_export_says_how_to_make_it(tmp_path):
    net = SemanticNet(1).eval()
    save_trained(Trained(net=net, vocabulary=_vocabulary(["warm"]), config=TrainConfig()), tmp_path)
    (tmp_path / ARRAYS_FILE).unlink()
    with pytest.raises(ModelError, match="semantic.npz missing.*export_checkpoint"):
        SemanticModel.load(tmp_path)


def test_an_export_that_does_not_match_the_vocabulary_is_refused(tmp_path):
    net = SemanticNet(2).eval()
    vocab = _vocabulary(["airy", "warm"])
    save_trained(Trained(net=net, vocabulary=vocab, config=TrainConfig()), tmp_path)
    export(net, ["airy", "cold"], tmp_path / ARRAYS_FILE)
    with pytest.raises(ModelError, match="does not match"):
        SemanticModel.load(tmp_path)


def test_the_product_depends_on_no_torch():
    from importlib.metadata import requires

    plain = [r for r in requires("semantic-eq-bridge") or [] if "extra ==" not in r]
    assert plain and not [r for r in plain if r.lower().startswith("torch")]
    assert any(r.startswith("torch==2.13.0") and 'extra == "train"' in r for r in requires("semantic-eq-bridge"))


def test_every_answering_path_runs_without_torch(tmp_path):
    # the CLI's eq, and the service's analyze / adapt / suggest on a generated track (the watch folder
    # and the OSC server answer through the same service), with torch and sentence-transformers absent
    code = f"""
import json, sys
import numpy as np, soundfile as sf
from daw_bridge.cli import main
assert main(['eq', 'a bit warmer', '--json']) == 0
rng = np.random.default_rng(0)
sf.write({str(tmp_path / 'noise.wav')!r}, 0.1 * rng.standard_normal((48000 * 4, 2)), 48000)
from daw_bridge.paths import UNRESTRICTED
from daw_bridge.service import Service
service = Service({str(tmp_path / 'home')!r}, paths=UNRESTRICTED)
for request in ({{'op': 'analyze'}}, {{'op': 'adapt', 'text': 'warmer'}}, {{'op': 'suggest'}}):
    answer = service.handle({{'id': '1', 'path': {str(tmp_path / 'noise.wav')!r}, **request}})
    assert answer['ok'], answer
service.close()
print('OK', sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))
"""
    out = run_without({"torch", "sentence_transformers"}, code).stdout
    assert out.strip().endswith("OK []")
