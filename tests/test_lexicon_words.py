"""Words added to the studio lexicon from users' wording (round 3), answered the way ``semeq eq`` answers
them (the service's ``eq`` op on the committed model): each lands in the region and direction that
published references give, and ``less X`` mirrors it. Regions are written here from the references,
independently of the lexicon file."""

from __future__ import annotations

import numpy as np
import pytest

from daw_bridge.eq import EQParams, log_freq_grid, response_db

GRID = log_freq_grid(200)

#: (text, entry the text must reach, region low/high Hz, direction): "top" is the studio's short form of
#: "top end" (treble up, Sound On Sound's shelf primer); phone calls pass ~300-3400 Hz (3GPP narrowband),
#: so the middle stands above both ends; "focused" is heard as defined (clarity, 2-5 kHz) and "unfocused"
#: as low-mid clutter (mud, 200-500 Hz).
WORDS = [
    ("top", "bright", 5000, 16000, +1), ("more top", "bright", 5000, 16000, +1), ("tops", "bright", 5000, 16000, +1),
    ("focused", "clear", 2000, 5000, +1), ("more focus", "clear", 2000, 5000, +1),
    ("unfocused", "muddy", 200, 500, +1),
]
PHONES = ["cell phone", "cellphone", "mobile phone", "speakerphone", "phone call", "like a cell phone"]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from daw_bridge.paths import UNRESTRICTED
    from daw_bridge.service import Service

    svc = Service(tmp_path_factory.mktemp("home"), paths=UNRESTRICTED)
    yield svc
    svc.close()


def _eq(service, text: str) -> tuple[dict, np.ndarray]:
    answer = service.handle({"id": "t", "op": "eq", "text": text})
    assert answer["ok"], (text, answer.get("message"))
    return answer, response_db(EQParams.from_dict(answer["params"]), GRID)


def _mean(db: np.ndarray, low_hz: float, high_hz: float) -> float:
    return float(db[(GRID >= low_hz) & (GRID <= high_hz)].mean())


@pytest.mark.parametrize("text, entry, low_hz, high_hz, direction", WORDS)
def test_added_words_move_energy_in_their_region_and_direction(service, text, entry, low_hz, high_hz, direction):
    answer, db = _eq(service, text)
    assert [t["term"] for t in answer["terms"]] == [entry], (text, answer["terms"])
    inside = (GRID >= low_hz) & (GRID <= high_hz)
    assert direction * db[inside].mean() >= 1.0, (text, db[inside].mean())
    assert direction * db[inside].mean() > direction * db[~inside].mean() + 0.5, text
    less = _eq(service, f"less {text.removeprefix('more ')}")[1]
    assert -direction * less[inside].mean() >= 1.0, f"less {text}"


def test_top_is_treble_not_less_bass(service):
    """Read through WordNet, 'top' was the antonym of 'bottom' (a bass cut); engineers mean treble."""
    db = _eq(service, "more top")[1]
    assert _mean(db, 30, 150) > -0.5 and _mean(db, 5000, 16000) > 2.0


@pytest.mark.parametrize("text", PHONES)
def test_phone_words_sound_like_a_phone_line(service, text):
    answer, db = _eq(service, text)
    assert [t["term"] for t in answer["terms"]] == ["telephone"], (text, answer["terms"])
    middle = _mean(db, 500, 2000)
    assert _mean(db, 20, 200) < middle - 2.0 and _mean(db, 5000, 16000) < middle - 2.0, text


def test_loudspeaker_names_a_device_not_a_sound():
    """'Loudspeaker' was deliberately not added to an entry: it is a device, and no reference gives it a
    region ('small speaker' covers laptop and phone speakers)."""
    from daw_bridge.semantic.lexicon import load_lexicon

    lexicon = load_lexicon()
    assert lexicon.lookup("loudspeaker") is None and lexicon.lookup("phone speaker").word == "small speaker"
