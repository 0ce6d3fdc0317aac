"""French text handling: folding, numbers kept whole, elisions, normalization of questions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.errors import InvalidQuestion
from assistant.normalize import clean_input, expand_shorthand, load_lexicon, search_query
from assistant.settings import KNOWLEDGE_DIR
from ingest.text import clean_markup, fold, join_numbers, tokens, words

SPACES = [" ", "\u00a0", "\u202f"]


def test_fold_removes_accents_and_ligatures() -> None:
    assert fold("Pôle Emploi, unité d'Œuvre") == "pole emploi, unite d'oeuvre"


def test_clean_markup_removes_conversion_artefacts() -> None:
    raw = "➤ Le **1^{er}** niveau <br> de [conseil](#x)   personnalisé"
    assert clean_markup(raw) == "Le 1er niveau de conseil personnalisé"


def test_elisions_are_split() -> None:
    assert words("l'APEC et qu'il s'agit d'emploi") == ["apec", "agit", "emploi"]


@given(st.integers(min_value=1000, max_value=99_999_999), st.sampled_from(SPACES))
def test_grouped_numbers_match_whole(n: int, space: str) -> None:
    grouped = f"{n:,}".replace(",", space)
    assert tokens(f"{grouped} entrées") == tokens(f"{n} entrées")


@given(st.integers(0, 999), st.integers(0, 99))
def test_decimal_comma_equals_point(a: int, b: int) -> None:
    assert join_numbers(f"{a},{b:02d} %") == f"{a}.{b:02d} %"


@given(st.text(max_size=200))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text(max_size=300))
def test_tokens_never_crash_and_are_folded(text: str) -> None:
    for tok in tokens(text):
        assert tok == fold(tok)
        assert tok.strip()


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", "😀😀😀", "\x00\x01", "?!"])
def test_clean_input_refuses_empty_or_wordless(bad: str) -> None:
    with pytest.raises(InvalidQuestion) as err:
        clean_input(bad, 2000)
    assert "question" in str(err.value).lower() or "mot" in str(err.value).lower()


def test_clean_input_refuses_too_long() -> None:
    with pytest.raises(InvalidQuestion, match="trop longue"):
        clean_input("a" * 20_000, 2000)


@given(st.text(max_size=500))
def test_clean_input_either_cleans_or_explains(text: str) -> None:
    try:
        out = clean_input(text, 2000)
    except InvalidQuestion as exc:
        assert str(exc)
    else:
        assert out == out.strip()
        assert "\x00" not in out


def test_shorthand_and_case_sensitive_abbreviations() -> None:
    lex = load_lexicon(KNOWLEDGE_DIR)
    assert expand_shorthand("jsuis DE depuis 2 ans", lex) == "je suis demandeur d'emploi depuis 2 ans"
    assert expand_shorthand("le projet de vie", lex) == "le projet de vie"  # lower-case "de" untouched


def test_search_query_drops_filler_and_adds_synonyms() -> None:
    lex = load_lexicon(KNOWLEDGE_DIR)
    q = search_query("Bonjour, c'est payant ?", lex)
    assert "Bonjour" not in q
    assert "gratuit" in q


def test_an_elided_word_is_not_taken_for_shorthand() -> None:
    lexicon = load_lexicon(KNOWLEDGE_DIR)
    assert expand_shorthand("c quoi le RSA ? c'est payant ?", lexicon) == "c'est quoi le RSA ? c'est payant ?"


def test_definition_terms_read_the_question_as_asked() -> None:
    from assistant.normalize import contract_shorthand
    from assistant.questions import definition_term

    lexicon = load_lexicon(KNOWLEDGE_DIR)
    asked = [
        ("c quoi le CEP en fait ?", "cep"),
        ("la garantie jeunes c quoi exactement, y a des sous ?", "garantie jeunes"),
        ("Qu'est-ce que CHEOPS ?", "cheops"),
    ]
    for question, term in asked:
        assert definition_term(contract_shorthand(expand_shorthand(question, lexicon), lexicon)) == term


def test_a_definition_proper_spells_the_acronym_out_or_says_what_it_is() -> None:
    from assistant.questions import definition_strength, expands

    spelled = "CHEOPS (Conseil National Handicap et Emploi pour les Organismes de Placement Spécialisés)"
    assert expands(spelled, "cheops")
    assert expands("Le conseil en évolution professionnelle (CEP) est gratuit.", "cep")
    assert not expands("CHEOPS (novembre 2019) a mené une enquête.", "cheops")  # a parenthesis, not its letters
    assert not expands("Le CEP (voir annexe) est gratuit.", "cep")
    pacea = "Le PACEA est le nouveau cadre contractuel de l'accompagnement des jeunes."
    assert definition_strength(pacea, "pacea") == 1
    assert definition_strength("Le PACEA : quelles modalités d'entrée ?", "pacea") == 0
    slogan = "« Pour vos futurs projets, pensez au Conseil en Evolution Professionnelle (CEP) »"
    proper = "Le conseil en évolution professionnelle (CEP) est un service d'accompagnement gratuit."
    assert (definition_strength(slogan, "cep"), definition_strength(proper, "cep")) == (1, 2)


def test_acronyms_spelled_out_in_the_documents() -> None:
    from assistant.questions import acronyms

    lines = [
        "l'offre de l'AGEFIPH appelée « Prestations Personnalisées Spécifiques » (PPS). Ces prestations",
        "LUA (Lieu Unique d'Accompagnement) et LUA (Cap Emploi passés en LUA dès 2021)",
        "voir la synthèse (cf page 108)",
    ]
    assert acronyms(lines) == {"pps": "prestations personnalisees specifiques", "lua": "lieu unique d accompagnement"}
