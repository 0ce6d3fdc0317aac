"""Situations told in the caller's own words: whose situation it is, a CEP already under way, negations,
typos, competing facts, and the rules the documents state for them (router alone, no model)."""

from __future__ import annotations

import random
import re
from functools import lru_cache

import pytest

from assistant.routing import Router
from assistant.routing.engine import EXAMPLES
from assistant.routing.examples import load_examples
from assistant.settings import Settings
from ingest.corpus import load_corpus
from ingest.spelling import pattern_words
from ingest.text import fold

# Measured: 0.985 of (bank example, word of 6 letters or more) pairs keep the same facts after one
# typo in that word with the one speller of the question reading (0.986 with the routing's former own
# matcher, 0.716 with a hand-listed vocabulary); the floor leaves a margin.
MIN_FACTS_KEPT_AFTER_A_TYPO = 0.95


@lru_cache(maxsize=1)
def router() -> Router:
    return Router.load(Settings().knowledge_dir, load_corpus(Settings().corpus_dir))


def facts(text: str) -> dict:
    return router().extract(text).known()


def first_operator(text: str) -> tuple[str, str | None]:
    r = router()
    answer = r.route(r.extract(text), text)
    return answer.intent, answer.operators[0].id if answer.operators else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a relative's situation told by the caller: the caller's own facts are left out
        ("j'ai 50 ans et mon fils de 19 ans ne trouve pas de travail", {"age": 19, "status": "demandeur_emploi"}),
        ("Je suis salariée, ma fille de 22 ans cherche du travail", {"age": 22, "status": "demandeur_emploi"}),
        ("mon mari a 48 ans, il est cadre et cherche un poste", {"age": 48, "cadre": True}),
        # advisors' notes
        ("appelant 45a CDI veut reconv", {"age": 45, "status": "salarie_prive"}),
        # the negation is the noun's: "sans emploi depuis sa sortie d'école", "pas de diplôme, handicapé"
        ("jeune diplômée de master, sans emploi depuis sa sortie d'école", {"young_graduate": True}),
        ("salariée de 25 ans, sans aucun projet de démission", {"resigning": False}),
        ("pas de diplome, handicapé, je cherche du travail", {"disability": True, "diploma_level": 0}),
        ("son handicap ne demande que peu d'expertise en compensation", {"disability_impact": False}),
        ("salarié, mon handicap me gêne un peu dans mon travail", {"disability_impact": True}),
        # other ways of saying a fact
        ("22 ans, en CDD qui se termine le mois prochain", {"status": "demandeur_emploi"}),
        ("en arrêt maladie, je ne peux plus faire mon métier", {"status": "salarie_prive", "disability_impact": True}),
        ("j'ai 19 ans, je cherche une formation et un job", {"status": "demandeur_emploi"}),
        ("Appelant 26 ans, bac+5, premier emploi introuvable", {"young_graduate": True, "diploma_level": 7}),
    ],
)
def test_whose_situation_and_what_it_says(text: str, expected: dict) -> None:
    got = facts(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    ("text", "current"),
    [
        ("Une personne déjà engagée dans un CEP à l'APEC sollicite le Réseau EVA", "apec"),
        ("aussi inscrit à Pôle emploi où il bénéficie déjà d'un accompagnement CEP, veut le réseau EVA", "pole_emploi"),
        ("déjà accompagnée en CEP par son conseiller Pôle emploi, voudrait aller à la mission locale", "pole_emploi"),
        ("salariée de 25 ans, en CEP en cours avec sa mission locale, sollicite aussi le Réseau EVA", "mission_locale"),
        ("Pôle emploi m'accompagne déjà en CEP, je peux aller voir le réseau EVA ?", "pole_emploi"),
        # the CEP asked for is not the one under way
        ("a déjà un CEP en cours avec son conseiller Pôle emploi, il voudrait démarrer un CEP à l'APEC", "pole_emploi"),
        # a job seeker's follow-up at Pôle emploi is not a CEP
        ("demandeur d'emploi suivi par Pôle emploi, il voudrait un CEP", None),
    ],
)
def test_a_cep_under_way_and_the_one_asked_for(text: str, current: str | None) -> None:
    assert router().extract(text).current_operator == current


@pytest.mark.parametrize(
    ("text", "intent", "operator"),
    [
        # one CEP at a time: the person stays with the operator of the CEP under way
        ("Cadre déjà en CEP à l'APEC, il voudrait aussi être suivi par le réseau EVA", "routing", "apec"),
        (
            "Demandeuse d'emploi de 24 ans en CEP à Pôle emploi, elle sollicite la mission locale",
            "routing",
            "pole_emploi",
        ),
        # a young employee followed by EVA whose needs are social goes to the Mission Locale
        ("Salarié de 21 ans accompagné par le réseau EVA, il a des problèmes de logement", "routing", "mission_locale"),
        # disabled job seekers: the referent depends on the expertise the disability's compensation needs
        ("DE RQTH, son handicap demande une expertise importante en compensation", "routing", "cap_emploi"),
        ("DE RQTH, son handicap ne demande que peu d'expertise en compensation", "routing", "pole_emploi"),
        ("Appelant DE RQTH, 40 ans", "clarify", "pole_emploi"),
        # a missing decisive fact: the documents' operator for the public stated, and the question
        ("je suis en situation de handicap", "clarify", "cap_emploi"),
        ("j'ai moins de 26 ans", "clarify", "mission_locale"),
        ("je cherche du travail", "clarify", "pole_emploi"),
        # competing facts
        ("cadre au chômage depuis un an", "routing", "apec"),
        ("salarié de 23 ans, RQTH, son handicap l'empêche de tenir son poste", "routing", "cap_emploi"),
    ],
)
def test_rules_the_documents_state(text: str, intent: str, operator: str) -> None:
    assert first_operator(text) == (intent, operator)


def test_the_decisive_passage_is_cited_first() -> None:
    r = router()
    cases = {
        "Cadre déjà en CEP à l'APEC, il voudrait aussi être suivi par le réseau EVA": "à la fois d'un accompagnement",
        "Salarié de 21 ans accompagné par le réseau EVA, il a des problèmes de logement": "besoin plus",
        "DE RQTH, son handicap demande une expertise importante en compensation": "niveau d'expertise",
    }
    for text, passage in cases.items():
        answer = r.route(r.extract(text), text)
        assert passage in answer.citations[0].quote.replace("**", ""), (text, answer.citations[0].quote[:120])


def test_a_clarifying_answer_asks_the_missing_fact() -> None:
    r = router()
    young = r.route(r.extract("j'ai moins de 26 ans, qui peut m'aider ?"))
    assert young.intent == "clarify" and "emploi" in young.follow_up
    disabled = r.route(r.extract("je suis en situation de handicap"))
    assert disabled.intent == "clarify" and "situation" in disabled.follow_up
    job_seeker = r.route(r.extract("Appelant DE RQTH, 40 ans"))
    assert "compens" in job_seeker.follow_up


def test_pattern_words_are_whole_words_of_the_patterns() -> None:
    assert pattern_words("salariee?s?") == {"salarie", "salariee"}
    assert pattern_words("demandeu(?:r|se)s? d'emploi") == {"demandeur", "demandeuse", "emploi"}
    assert pattern_words("\\bcdi\\b|ouvri(?:er|ere)s?") == {"ouvrier", "ouvriere"}


def test_one_typo_keeps_the_facts() -> None:
    r = router()
    rng = random.Random(0)

    def typo(word: str) -> str:
        i = rng.randrange(1, len(word) - 1)
        kind = rng.choice("dsr")  # a letter dropped, two letters swapped, a letter doubled
        if kind == "d":
            return word[:i] + word[i + 1 :]
        if kind == "s":
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        return word[:i] + word[i] + word[i:]

    kept = total = 0
    for example in load_examples(Settings().knowledge_dir / EXAMPLES).examples:
        if not example.routing:
            continue
        text = fold(example.text)
        clean = r.extract(text).known()
        for word in re.findall(r"[a-z]{6,}", text):
            total += 1
            kept += r.extract(re.sub(rf"\b{word}\b", typo(word), text, count=1)).known() == clean
    assert kept / total >= MIN_FACTS_KEPT_AFTER_A_TYPO, kept / total
