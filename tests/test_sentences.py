"""Sentences of a passage: wrapped lines joined, lists kept with the sentence announcing them, verbatim."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from assistant.citations import answer_sentences, quote_text, sentence_scores
from ingest.chunks import passage_sentences
from ingest.readers import RawLine, continues, join_wrapped


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_lines_wrapped_mid_sentence_make_one_sentence() -> None:
    quote = "Le conseiller reçoit à Pôle emploi, pour rencontrer\nvotre conseiller référent.\nUne autre phrase."
    assert [squash(s) for s in passage_sentences(quote)] == [
        "Le conseiller reçoit à Pôle emploi, pour rencontrer votre conseiller référent.",
        "Une autre phrase.",
    ]


def test_a_sentence_ending_with_a_colon_brings_its_list() -> None:
    quote = (
        "Le CEP de niveau 2 doit permettre au bénéficiaire :\n\n"
        "- de formaliser son projet,\n"
        "- d'élaborer une stratégie.\n\n"
        "Le conseiller suit la personne."
    )
    first, second = passage_sentences(quote)
    assert first.startswith("Le CEP de niveau 2") and first.endswith("d'élaborer une stratégie.")
    assert second == "Le conseiller suit la personne."


def test_sentences_split_on_full_stops_but_not_abbreviations_or_numbering() -> None:
    quote = "Le CEP est gratuit. Il est confidentiel, cf. Annexe 1. Voir M. Dupont.\n2. Une posture d'observateur."
    assert passage_sentences(quote) == [
        "Le CEP est gratuit.",
        "Il est confidentiel, cf. Annexe 1.",
        "Voir M. Dupont.",
        "2. Une posture d'observateur.",
    ]


def test_tables_lists_and_finished_sentences_are_not_joined() -> None:
    assert not continues("Pôle Emploi\t12 345", "Apec\t3 000")
    assert not continues("Le CEP est gratuit.", "il est confidentiel")
    assert not continues("Les opérateurs sont", "- Pôle emploi")
    assert continues("Les opérateurs du", "Conseil en évolution professionnelle")
    assert continues("11%", "des cadres ont déjà")


def test_pdf_lines_are_joined_with_the_number_of_their_first_part() -> None:
    lines = [RawLine(1, "Le bilan dure", 1), RawLine(2, "vingt-quatre heures.", 1), RawLine(3, "Fin.", 1)]
    assert join_wrapped(lines) == [RawLine(1, "Le bilan dure vingt-quatre heures.", 1), RawLine(3, "Fin.", 1)]


@given(st.lists(st.sampled_from(["Le CEP est gratuit.", "pour les cadres", "- item,", "", "Un titre :", "\tA\tB"])))
def test_sentences_are_verbatim_slices_in_order(parts: list[str]) -> None:
    quote = "\n".join(parts)
    position = 0
    for sentence in passage_sentences(quote):
        found = quote.find(sentence, position)
        assert found >= 0  # verbatim and in order
        position = found + len(sentence)


def test_the_answer_quotes_whole_sentences_of_one_passage_in_order() -> None:
    quote = "Le CEP est un service gratuit.\nIl est aussi confidentiel.\nLe compost améliore la terre des potagers."
    scored = sentence_scores(quote, {"cep": 1.0, "gratuit": 1.0, "confidentiel": 1.0})
    picked = answer_sentences(scored, ratio=0.4)
    assert [s.text for s in picked] == ["Le CEP est un service gratuit.", "Il est aussi confidentiel."]
    assert quote_text(picked) == "Le CEP est un service gratuit. Il est aussi confidentiel."


def test_a_single_word_is_not_quoted_when_a_sentence_answers() -> None:
    quote = "bilan\nLe bilan de compétences dure vingt-quatre heures au plus."
    best = max(sentence_scores(quote, {"bilan": 1.0}), key=lambda s: s.score)
    assert best.text.startswith("Le bilan de compétences")


def test_non_adjacent_sentences_are_marked_as_a_gap() -> None:
    quote = "Le CEP est gratuit.\nLe compost nourrit la terre.\nLe CEP est confidentiel."
    picked = answer_sentences(sentence_scores(quote, {"cep": 1.0}), ratio=0.5)
    assert quote_text(picked) == "Le CEP est gratuit. […] Le CEP est confidentiel."
