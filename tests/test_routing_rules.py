"""Routing rules: every rule fires on its situation; the table and operator data are validated."""

from __future__ import annotations

import re
import shutil
from functools import lru_cache
from pathlib import Path

import pytest

from assistant.errors import InvalidQuestion, KnowledgeError
from assistant.operators import load_operators, locate_operator_sources
from assistant.routing import Router
from assistant.routing.rules import load_rules
from assistant.routing.situation import situation_from_fields
from assistant.settings import Settings
from ingest.corpus import Corpus, load_corpus

KNOWLEDGE = Settings().knowledge_dir


@lru_cache(maxsize=1)
def corpus() -> Corpus:
    return load_corpus(Settings().corpus_dir)


@lru_cache(maxsize=1)
def router() -> Router:
    return Router.load(KNOWLEDGE, corpus())


# One situation per rule (as form fields), the operator expected, and the rule that must decide.
RULE_CASES: dict[str, tuple[dict, str | None]] = {
    "salarie_prive": ({"status": "salarie_prive", "age": 40}, "reseau_eva"),
    "independant": ({"status": "independant", "age": 50}, "reseau_eva"),
    "demandeur_emploi": ({"status": "demandeur_emploi", "age": 35}, "pole_emploi"),
    "agent_public": ({"status": "agent_public", "age": 45}, None),
    "etudiant": ({"status": "etudiant", "age": 30}, None),
    "jeune_salarie": ({"status": "salarie_prive", "age": 24}, "reseau_eva"),
    "jeune_demandeur_emploi": ({"status": "demandeur_emploi", "age": 23}, "mission_locale"),
    "jeune_etudiant": ({"status": "etudiant", "age": 20}, "mission_locale"),
    "jeune_besoin_social": ({"age": 21, "needs": ["langue"]}, "mission_locale"),
    "cadre_salarie": ({"status": "salarie_prive", "cadre": True, "age": 40}, "apec"),
    "cadre_demandeur_emploi": ({"status": "demandeur_emploi", "cadre": True, "age": 50}, "apec"),
    "jeune_diplome": (
        {"status": "demandeur_emploi", "young_graduate": True, "diploma_level": 7, "age": 23},
        "apec",
    ),
    "cadre_suivi_eva_apec_plus_adaptee": (
        {"status": "salarie_prive", "cadre": True, "current_operator": "reseau_eva", "better_fit": "apec", "age": 40},
        "apec",
    ),
    "demissionnaire": ({"status": "salarie_prive", "resigning": True, "age": 45}, "reseau_eva"),
    "demissionnaire_cadre": ({"status": "salarie_prive", "resigning": True, "cadre": True, "age": 45}, "apec"),
    "handicap_avec_retentissement": (
        {"status": "salarie_prive", "disability": True, "disability_impact": True, "age": 40},
        "cap_emploi",
    ),
    "handicap_sans_retentissement": (
        {"status": "salarie_prive", "disability": True, "disability_impact": False, "age": 40},
        "reseau_eva",
    ),
    "risque_inaptitude": ({"status": "salarie_prive", "inaptitude_risk": True, "age": 50}, "cap_emploi"),
    "handicap_demandeur_emploi": (
        {"status": "demandeur_emploi", "disability": True, "disability_impact": False, "age": 40},
        "pole_emploi",
    ),
    "handicap_demandeur_emploi_expertise": (
        {"status": "demandeur_emploi", "disability": True, "disability_impact": True, "age": 40},
        "cap_emploi",
    ),
    "besoin_psop": (
        {"status": "salarie_prive", "current_operator": "reseau_eva", "needs": ["psop"], "age": 40},
        "cap_emploi",
    ),
    "salarie_inscrit_pe": (
        {"status": "salarie_prive", "registered_pe": True, "current_operator": "aucun", "age": 40},
        "reseau_eva",
    ),
    "deja_suivi_reseau_eva": (
        {"status": "demandeur_emploi", "current_operator": "reseau_eva", "age": 40},
        "reseau_eva",
    ),
    "deja_suivi_apec": ({"status": "salarie_prive", "current_operator": "apec", "age": 40}, "apec"),
    "deja_suivi_pole_emploi": (
        {"status": "salarie_prive", "current_operator": "pole_emploi", "age": 40},
        "pole_emploi",
    ),
    "deja_suivi_mission_locale": (
        {"status": "salarie_prive", "current_operator": "mission_locale", "age": 27},
        "mission_locale",
    ),
    "deja_suivi_cap_emploi": ({"status": "salarie_prive", "current_operator": "cap_emploi", "age": 40}, "cap_emploi"),
}


def test_every_rule_has_a_case() -> None:
    assert {r.id for r in router().table.rules} == set(RULE_CASES)


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_decides_its_case(rule_id: str) -> None:
    facts, expected = RULE_CASES[rule_id]
    r = router()
    decision = r.decide(situation_from_fields(**facts))
    assert rule_id in [x.id for x in decision.rules]
    answer = r.route_fields(**facts)
    if expected is None:
        assert answer.intent == "abstain" and answer.operators == []
    else:
        assert answer.intent == "routing"
        assert answer.operators[0].id == expected and answer.operators[0].role == "primary"
        assert all(o.why for o in answer.operators)
    rule = next(x for x in r.table.rules if x.id == rule_id)
    quotes = [c.highlight for c in answer.citations]
    assert any(s.quote in quotes for s in rule.sources), "the rule's passage is cited"


def test_citations_are_verbatim_and_located() -> None:
    answer = router().route_fields(status="salarie_prive", cadre=True)
    assert answer.citations
    for c in answer.citations:
        assert c.document and c.lines and c.section
        assert c.highlight.replace("**", "") in c.quote.replace("**", "") or c.highlight in c.quote


def test_clarify_when_a_missing_fact_changes_the_operator() -> None:
    answer = router().route_fields(status="salarie_prive", disability=True)
    assert answer.intent == "clarify"
    assert "retentissement" in answer.follow_up
    assert [o.id for o in answer.operators][:2] == ["cap_emploi", "reseau_eva"]


def test_job_seeker_without_age_asks_for_age() -> None:
    answer = router().route_fields(status="demandeur_emploi")
    assert answer.intent == "clarify" and "âge" in answer.follow_up
    assert answer.operators


def test_no_question_when_the_missing_fact_does_not_matter() -> None:
    assert router().route_fields(status="independant").intent == "routing"


def test_route_fields_rejects_unknown_fields() -> None:
    with pytest.raises(InvalidQuestion):
        router().route_fields(statut="salarie_prive")
    with pytest.raises(InvalidQuestion):
        router().route_fields(status="retraite")


# ---------------------------------------------------------------- validation of the knowledge files

RULE_HEAD = 'default_document = "rapport-annuel-cep-occitanie-2021.txt"\n'
GOOD_SOURCE = 'source = [{ lines = [109, 109], quote = "pour les demandeurs d\'emploi" }]\n'


def _rules(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "routing_rules.toml"
    path.write_text(RULE_HEAD + body, encoding="utf-8")
    return path


def test_unknown_operator_names_the_row(tmp_path: Path) -> None:
    body = '[[rule]]\nid = "a"\nwhen = { status = "demandeur_emploi" }\nprimary = "fongecif"\nwhy = "x"\n' + GOOD_SOURCE
    with pytest.raises(KnowledgeError, match=r"règle n°1 « a ».*fongecif"):
        load_rules(_rules(tmp_path, body), corpus())


def test_missing_source_names_the_row(tmp_path: Path) -> None:
    body = '[[rule]]\nid = "sans_source"\nwhen = { status = "demandeur_emploi" }\nprimary = "pole_emploi"\nwhy = "x"\n'
    with pytest.raises(KnowledgeError, match=r"routing_rules.toml, règle n°1 « sans_source » : aucune source"):
        load_rules(_rules(tmp_path, body), corpus())


def test_a_source_is_located_by_its_quote_not_its_lines(tmp_path: Path) -> None:
    body = (
        '[[rule]]\nid = "lignes_fausses"\nwhen = { status = "demandeur_emploi" }\n'
        'primary = "pole_emploi"\nwhy = "x"\n'
        'source = [{ lines = [110, 110], quote = "Le Pôle Emploi, pour les demandeurs d\'emploi" }]\n'
    )
    table = load_rules(_rules(tmp_path, body), corpus())
    source = table.rules[0].sources[0]
    assert (source.first, source.last) == (109, 109) and not table.lost


def test_a_rule_whose_quote_no_document_holds_is_disabled_and_named(tmp_path: Path) -> None:
    body = (
        '[[rule]]\nid = "citation_absente"\nwhen = { status = "demandeur_emploi" }\n'
        'primary = "pole_emploi"\nwhy = "x"\n'
        'source = [{ quote = "les jardiniers arrosent les tomates le matin" }]\n'
    )
    table = load_rules(_rules(tmp_path, body), corpus())
    assert table.rules == ()
    assert any("citation_absente" in p and "citation introuvable" in p for p in table.lost)
    assert any("« citation_absente » désactivée" in p for p in table.lost)


def test_number_not_in_quotes(tmp_path: Path) -> None:
    body = (
        '[[rule]]\nid = "n"\nwhen = { status = "demandeur_emploi" }\nprimary = "pole_emploi"\nwhy = "Depuis 12 ans."\n'
        + GOOD_SOURCE
    )
    with pytest.raises(KnowledgeError, match=r"« n ».*nombre 12"):
        load_rules(_rules(tmp_path, body), corpus())


def test_overlapping_rules_with_different_outcomes(tmp_path: Path) -> None:
    body = (
        '[[rule]]\nid = "de"\nwhen = { status = "demandeur_emploi" }\nprimary = "pole_emploi"\nwhy = "x"\n'
        + GOOD_SOURCE
        + '[[rule]]\nid = "de_jeune"\nwhen = { status = "demandeur_emploi", age = { max = 25 } }\n'
        'primary = "mission_locale"\n'
        'why = "x"\n' + GOOD_SOURCE
    )
    with pytest.raises(KnowledgeError, match=r"règles n°1 « de » et n°2 « de_jeune »"):
        load_rules(_rules(tmp_path, body), corpus())
    fixed = body + 'overrides = ["de"]\n'
    assert [r.id for r in load_rules(_rules(tmp_path, fixed), corpus()).rules] == ["de", "de_jeune"]


def test_disjoint_rules_need_no_override(tmp_path: Path) -> None:
    body = (
        '[[rule]]\nid = "vieux"\nwhen = { age = { min = 26 } }\nprimary = "pole_emploi"\nwhy = "x"\n'
        + GOOD_SOURCE
        + '[[rule]]\nid = "jeune"\nwhen = { age = { max = 25 } }\nprimary = "mission_locale"\nwhy = "x"\n'
        + GOOD_SOURCE
    )
    assert len(load_rules(_rules(tmp_path, body), corpus()).rules) == 2


def test_unknown_field_and_unknown_override(tmp_path: Path) -> None:
    body = '[[rule]]\nid = "a"\nwhen = { salaire = 3 }\nprimary = "pole_emploi"\nwhy = "x"\n' + GOOD_SOURCE
    with pytest.raises(KnowledgeError, match="champ inconnu « salaire »"):
        load_rules(_rules(tmp_path, body), corpus())
    body = '[[rule]]\nid = "a"\nprimary = "pole_emploi"\nwhy = "x"\noverrides = ["zzz"]\n' + GOOD_SOURCE
    with pytest.raises(KnowledgeError, match="règle inconnue « zzz »"):
        load_rules(_rules(tmp_path, body), corpus())


def test_operator_fact_quote_is_checked(tmp_path: Path) -> None:
    shutil.copy(KNOWLEDGE / "operators.toml", tmp_path / "operators.toml")
    text = (tmp_path / "operators.toml").read_text(encoding="utf-8")
    (tmp_path / "operators.toml").write_text(
        text.replace('quote = "3 sites APEC', 'quote = "4 sites APEC'), encoding="utf-8"
    )
    located, lost = locate_operator_sources(load_operators(tmp_path), corpus())
    assert any(re.search(r"opérateur « apec », fait n°\d+ : citation introuvable", p) for p in lost)
    assert not any(f.quote.startswith("4 sites APEC") for f in located["apec"].facts)


def test_operator_fact_without_source(tmp_path: Path) -> None:
    (tmp_path / "operators.toml").write_text(
        "\n".join(
            f'[[operator]]\nid = "{i}"\nname = "{i}"\n'
            for i in ("reseau_eva", "apec", "pole_emploi", "mission_locale", "cap_emploi")
        )
        + '[[operator.fact]]\nkind = "canal"\ntext = "Un numéro."\n',
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match=r"opérateur « cap_emploi », fait n°1 : source manquante \(citation"):
        load_operators(tmp_path)


def test_operators_keep_their_identity_and_gain_facts() -> None:
    ops = load_operators(KNOWLEDGE)
    assert ops["apec"].name == "APEC" and "apec" in ops["apec"].aliases
    assert ops["reseau_eva"].facts_of("canal")
    assert any("PACEA" in f.text for f in ops["mission_locale"].facts_of("service"))
    assert any("SPH" in f.text for f in ops["cap_emploi"].facts_of("service"))


# ---------------------------------------------------------------- knowledge located by quote, any line breaks


def _rewrapped(folder: Path, width: int = 53) -> Path:
    """The built-in documents with every paragraph re-wrapped: no line break where it was."""
    import textwrap

    out = folder / "rewrapped"
    out.mkdir()
    for path in Settings().corpus_dir.iterdir():
        if path.suffix == ".txt":
            paragraphs = [" ".join(p.split()) for p in path.read_text(encoding="utf-8").split("\n\n")]
            (out / path.name).write_text("\n\n".join(textwrap.fill(p, width) for p in paragraphs), encoding="utf-8")
        else:
            shutil.copy(path, out / path.name)
    return out


def test_routing_works_on_the_built_in_documents_rewrapped(tmp_path: Path) -> None:
    rewrapped = load_corpus(_rewrapped(tmp_path))
    r = Router.load(KNOWLEDGE, rewrapped)
    assert not r.table.lost and {x.id for x in r.table.rules} == set(RULE_CASES)
    for rule_id, (facts, expected) in RULE_CASES.items():
        answer = r.route_fields(**facts)
        assert (answer.operators[0].id if answer.operators else None) == expected, rule_id
        for c in answer.citations:  # each quote stands in the lines cited, in the re-wrapped text
            assert " ".join(c.highlight.replace("**", "").split()) in " ".join(c.quote.replace("**", "").split())
