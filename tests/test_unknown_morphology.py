"""Unknown words by their form (:mod:`daw_bridge.semantic.unknown`, :mod:`daw_bridge.semantic.wordnet`):
a derived word's stem (-y, -ey, -ish, -ness, -iness) and a synonym's derivational family ("hiss" ->
sibilate -> sibilant), on a small relation table in WordNet's shape and on the committed one;
nonsense and compounds that merely contain a studio word still refused."""

from __future__ import annotations

import pytest

from daw_bridge.eq import log_freq_grid, response_db
from daw_bridge.semantic import SemanticModel, UnknownTermError
from daw_bridge.semantic.unknown import relation_answers, resolve_unknown
from daw_bridge.semantic.wordnet import decode, encode

# [pos, lemmas, gloss, [[pointer, target synset, source word, target word]]]
SYNSETS = [
    ["v", ["hiss", "sibilate"], "make a sharp hissing sound", [["+", 1, 2, 1]]],  # 0: sibilate -> sibilant
    ["a", ["sibilant"], "having the hissing sound of s", [["+", 0, 1, 2]]],          # 1
    ["n", ["hum", "humming"], "a low steady noise", []],                            # 2
    ["n", ["boom"], "a deep prolonged loud noise", []],                             # 3
    ["v", ["drone"], "make a monotonous low dull sound", []],                       # 4
    ["n", ["honky tonk"], "a cheap drinking and dancing establishment", []],        # 5: a thing
    ["n", ["taco stand"], "a stall that sells food", []],                            # 6: a thing
    ["v", ["fizz", "sizz"], "make a hissing or bubbling sound", [["+", 8, 2, 1], ["+", 9, 2, 1]]],  # 7
    ["a", ["sizzless"], "without a hiss", []],                                       # 8: a privative form
    ["n", ["sweetness"], "the taste experience of sugar", []],                       # 9: shares no stem
]
INDEX = {"hiss": [[0, 0]], "sibilate": [[0, 0]], "sibilant": [[1, 0]], "hum": [[2, 0]], "humming": [[2, 0]],
         "boom": [[3, 0]], "drone": [[4, 0]], "honky tonk": [[5, 0]], "taco stand": [[6, 0]], "fizz": [[7, 0]],
         "sizz": [[7, 0]], "sizzless": [[8, 0]], "sweetness": [[9, 0]]}
TABLE = decode(encode(SYNSETS, INDEX, {}, ["honky tonk", "taco stand"]))


@pytest.mark.parametrize("word, stem", [("hummy", "hum"), ("boomey", "boom"), ("boominess", "boom"),
                                        ("hissiness", "hiss"), ("dronish", "drone"), ("droney", "drone")])
def test_a_derived_word_is_read_through_its_stem(word, stem):
    assert TABLE.lemmas(word) == [(stem, False)]


def test_a_stem_answers_through_its_own_relations():
    found, _, _ = resolve_unknown("hummy", {"humming": "mains hum"}, TABLE, None)
    assert (found.term, found.route, found.via) == ("mains hum", "synonym", "humming")


def test_a_synonyms_derivational_family_reaches_an_entry_in_two_steps():
    names = {"sibilant": "sibilant"}
    for word in ("hissy", "hissiness", "hiss"):
        found, _, _ = resolve_unknown(word, names, TABLE, None)
        assert (found.term, found.route, found.via) == ("sibilant", "family", "sibilate -> sibilant"), word
        assert "sibilate -> sibilant" in found.describe()
    # a direct relation wins over the two-step one
    direct = relation_answers("hissy", {"sibilate": "hiss entry", "sibilant": "sibilant"}, TABLE)
    assert [(r.term, r.route) for r in direct] == [("hiss entry", "synonym")]


def test_the_family_step_keeps_to_derivations_of_the_synonyms_stem():
    # "sizz" derives "sizzless" (a privative) and is linked to "sweetness" (no shared stem): neither counts
    names = {"sizzless": "x", "sweetness": "sweet"}
    assert resolve_unknown("fizzy", names, TABLE, None)[0] is None
    assert relation_answers("fizz", names, TABLE) == []


def test_compounds_that_merely_contain_a_studio_word_are_refused():
    names = {"honky": "honky", "sibilant": "sibilant", "stand": "x"}
    for word in ("honky tonk", "taco stand", "asdf qwer", "hello world"):
        assert resolve_unknown(word, names, TABLE, None)[0] is None, word


@pytest.fixture(scope="module")
def model() -> SemanticModel:
    return SemanticModel.load()


def _held_out(model: SemanticModel, term: str) -> SemanticModel:
    """``model`` without every name of the entry ``term`` (as the leave-words-out evaluation holds it out)."""
    model._alias = {a: t for a, t in model._alias.items() if t != term}
    model._known = frozenset(model._alias)
    return model


def test_the_shipped_table_answers_hissy_without_its_entry_through_the_family_of_hiss():
    model = _held_out(SemanticModel.load(), "hissy")
    entry = next(v for v in model.vocabulary if v.term == "hissy")
    answer = model.interpret("hissy")
    (use,) = answer.terms
    assert use.route == "family" and use.term != "hissy"
    grid = log_freq_grid(200)
    db = response_db(answer.params, grid)
    inside = (grid >= entry.region_hz[0]) & (grid <= entry.region_hz[1])
    assert db[inside].mean() >= 1.0 and db[inside].mean() > db[~inside].mean() + 0.5


@pytest.mark.parametrize("word", ["asdf-qwer", "mid century", "taco-stand", "hello-world", "tuesdayish",
                                  "vacuum-cleaner", "cold-chisel", "geld", "shutdown"])
def test_nonsense_compounds_and_forms_stay_refused(model, word):
    with pytest.raises(UnknownTermError):
        model.interpret(word)
