"""The cue tokens the situation slots read: the person's gender, and what the text says of their work."""

from __future__ import annotations

from assistant.routing.cues import Cues
from assistant.settings import Settings

CUES = Cues.load(Settings().knowledge_dir)


def work(text: str) -> list[str]:
    return [t for t in CUES.tokens(text) if t.startswith("E=")]


def test_an_employer_is_read_as_its_sector_whatever_its_name() -> None:
    assert work("Auxiliaire de vie au CCAS, 42 ans") == ["E=employeur_public"]
    assert work("aide-soignante au CHU de Toulouse") == ["E=employeur_public"]
    assert work("Je suis en BTS en alternance") == ["E=scolarite", "E=alternance"]


def test_a_past_or_a_negation_marks_the_group() -> None:
    assert work("Ancien fonctionnaire, je suis à mon compte") == ["E=employeur_public:avant", "E=propre_affaire"]
    assert work("je suis pas inscrite") == ["E=inscription:non"]
    assert work("jsui pa inscrit") == ["E=inscription:non"]


def test_words_inside_other_words_are_not_matched() -> None:
    assert work("Je prépare une thèse") == ["E=scolarite"]
    assert work("des thèmes variés, un déclic") == []  # « these », « de » are not inside other words
    assert work("bonjour") == []
