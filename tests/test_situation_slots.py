"""The learned situation slots: the bank, the fitted artefact, and the issue's statements through the pipeline."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from assistant import learned
from assistant.routing.situation import situation_from_fields
from assistant.routing.slots import MODEL, SEALED, SLOTS, Reading, canonical, lexicon_slot, load_bank, merge
from assistant.settings import Settings

KNOWLEDGE = Settings().knowledge_dir


def test_the_bank_is_large_labelled_and_has_a_sealed_writer() -> None:
    bank = load_bank(KNOWLEDGE)
    assert len(bank) >= 2000
    assert len({b.text for b in bank}) == len(bank), "no situation twice"
    sealed = [b for b in bank if b.writer == SEALED]
    assert 400 <= len(sealed) < len(bank) / 2
    for name, values in SLOTS.items():
        seen = Counter(b.slots[name] for b in bank)
        assert set(seen) <= set(values) and len(seen) >= 2, name


def test_the_fitted_slots_say_what_they_were_fitted_on() -> None:
    manifest, params = learned.load(KNOWLEDGE / MODEL)
    assert set(manifest["slots"]) == set(SLOTS) == set(params["slots"])
    assert manifest["n_sealed"] >= 400 and manifest["n_train"] >= 1500
    for name, cv in manifest["slots"].items():
        levels = [*cv["level_fill"].values(), *cv["level_override"].values()]
        assert levels and all(0.2 <= v <= 1.0 for v in levels), name
        assert cv["cv_accuracy"] >= 0.8 and cv["sealed_accuracy"] >= 0.75, name


def test_artefacts_are_written_the_same_way_twice(tmp_path) -> None:
    params = {"coef": learned.floats([0.1, 1 / 3, -2e-17]), "intercept": 0.5}
    learned.save(tmp_path / "a.json", {"seed": 0}, params)
    learned.save(tmp_path / "b.json", {"seed": 0}, json.loads(json.dumps(params)))
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert learned.load(tmp_path / "a.json")[1]["coef"][1] == 1 / 3


def test_sure_slots_correct_the_lexicon_and_unsure_ones_leave_it() -> None:
    sit = situation_from_fields(age=19)
    values = {name: values[-1] for name, values in SLOTS.items()}
    values.update(status="sans_emploi_non_inscrit", age_band="26_plus", disability="avec_impact", cadre="oui")
    sure = dict.fromkeys(SLOTS, True) | {"cadre": False}
    merged = merge(sit, Reading(values, dict.fromkeys(SLOTS, 0.99), sure))
    assert merged.status == "demandeur_emploi" and merged.registered_pe is False  # « il bosse pas, pas inscrit »
    assert merged.age == 19 and merged.age_min is None  # an age read in the text is never replaced by a band
    assert merged.disability is True and merged.disability_impact is True
    assert merged.cadre is None  # not sure: the lexicon's (empty) reading stays
    employee = situation_from_fields(status="salarie_prive", age=40)
    assert merge(employee, Reading(values, dict.fromkeys(SLOTS, 0.99), sure)).status == "salarie_prive"


def test_the_lexicon_reading_in_slot_terms() -> None:
    sit = situation_from_fields(status="demandeur_emploi", registered_pe=False, age=22, disability=True)
    assert lexicon_slot("status", sit) == "sans_emploi_non_inscrit"
    assert lexicon_slot("age_band", sit) == "moins_26"
    assert lexicon_slot("disability", sit) == "impact_inconnu"
    assert lexicon_slot("cadre", sit) is None and lexicon_slot("genre", sit) is None
    assert canonical("status", "alternance") == "salarie_prive"


# ---------------------------------------------------------------- real model: the statements


def _first(answer) -> str | None:
    return answer.operators[0].id if answer.operators else None


@pytest.mark.real
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("un gamin de 19 ans, il bosse pas et il est inscrit nulle part", {"mission_locale"}),
        ("27 ans en contrat de professionnalisation", {"reseau_eva"}),
        ("elle est sourde et voudrait faire une formation mais faudrait adapter les cours", {"cap_emploi"}),
        ("salarié cadre de 58 ans dans une boite privée", {"apec"}),
        ("je suis auto-entrepreneur et je veux me reconvertir", {"reseau_eva"}),
        (
            "je suis suivie par la mission locale pour mon CEP, j'ai trouvé un CDI, est-ce que je continue avec eux ?",
            {"mission_locale"},
        ),
    ],
)
def test_situations_in_a_callers_words(real_assistant, text: str, expected: set[str]) -> None:
    answer = real_assistant.ask(text)
    assert answer.intent in ("routing", "clarify")
    assert _first(answer) in expected


@pytest.mark.real
def test_a_follow_up_adds_to_the_situation(real_assistant) -> None:
    first = real_assistant.ask("mon fils a 40 ans, il est salarié en CDI dans une usine, il veut changer de métier")
    assert _first(first) == "reseau_eva"
    then = real_assistant.ask("et s'il a une RQTH ?", previous=first)
    assert then.intent in ("routing", "clarify")
    assert "cap_emploi" in [o.id for o in then.operators]


def test_the_fast_tfidf_transform_is_scikit_learns_to_the_last_bit() -> None:
    """learned.tfidf_transform replaces TfidfVectorizer.transform at answer time: same columns, same floats."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from assistant.routing.cues import Cues
    from assistant.routing.slots import vectorizers

    bank = [b.text for b in load_bank(KNOWLEDGE)]
    texts = [*bank[:300], "", "  ", "?!", "Élève à Montpellier, j'ai 17 ans"]
    fitted = [v.fit(bank) for v in vectorizers(Cues.load(KNOWLEDGE))]
    fitted.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)).fit(bank))  # not sublinear
    for v in fitted:
        expected, got = v.transform(texts), learned.tfidf_transform(v, texts)
        expected.sort_indices()
        assert got.shape == expected.shape
        assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
        assert np.array_equal(got.data, expected.data)
