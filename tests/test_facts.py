"""Extraction of tables and facts from a tiny French corpus built in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from assistant.settings import KNOWLEDGE_DIR
from ingest.corpus import load_corpus
from ingest.facts import COMPARISON_COLUMNS, FACT_COLUMNS, FactTables, extract_facts

DOC = """Rapport 2023 de suivi du CEP en Bretagne

I. Les chiffres

A. Les entrées

En Bretagne

\tEntrants\tSortants\tBénéficiaires*
Pôle Emploi\t12 345\t11 000\t20 500
APEC\t1 200\t1 100\t1 900

* bénéficiaires : nombre d'individus différents suivis en 2023

En 2023, en Bretagne, l'APEC a enregistré **1 200** entrées en CEP.

Le délai moyen du premier rendez-vous est de 4,5 jours.

- 62,59 % des bénéficiaires de la Mission Locale sont des femmes.

Représentant 8,5 % des entrées de l'APEC au niveau national et 4,25 % des entrées tous opérateurs confondus en Bretagne.

La crise du Covid-19 a freiné l'accueil. Tél. : 02 99 12 34 56.
"""

BROKEN = """Note

| a | b |
|---|---|
| 1 | 2 | 3 | 4 |

Le réseau compte 12 agences.
"""


@pytest.fixture()
def corpus(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "rapport-bretagne.txt").write_text(DOC, encoding="utf-8")
    return load_corpus(folder)


def test_tables_and_prose(corpus) -> None:
    ft = extract_facts(corpus, KNOWLEDGE_DIR)
    assert ft.errors == []
    assert len(ft.tables) == 1
    table = ft.tables[0]
    assert list(table.frame.columns) == ["libellé", "Entrants", "Sortants", "Bénéficiaires*"]
    assert table.frame["Entrants"].dtype == "float64"
    assert table.scope == "other:bretagne"
    facts = ft.facts
    assert list(facts.columns) == list(FACT_COLUMNS)
    cell = facts[(facts["value"] == 12345) & (facts["kind"] == "table")].iloc[0]
    assert cell["operator"] == "pole_emploi" and cell["column"] == "Entrants" and int(cell["year"]) == 2023
    prose = facts[(facts["value"] == 1200) & (facts["kind"] == "prose")].iloc[0]
    assert prose["operator"] == "apec" and prose["scope"] == "other:bretagne"
    assert facts[facts["unit"] == "days"]["value"].tolist() == [4.5]
    women = facts[facts["unit"] == "percent"].iloc[0]
    assert women["value"] == 62.59 and women["kind"] == "list" and women["operator"] == "mission_locale"


def test_clauses_notes_and_codes(corpus) -> None:
    """Each number of a paired sentence gets its own territory; a starred column brings its note; digits that
    name something (Covid-19, a phone number) are no facts."""
    facts = extract_facts(corpus, KNOWLEDGE_DIR).facts
    scope = dict(zip(facts["value"], facts["scope"], strict=True))
    assert scope[8.5] == "national" and scope[4.25] == "other:bretagne"
    people = facts[(facts["value"] == 20500)].iloc[0]
    assert "individus différents" in people["near"]
    assert not {19, 2, 99, 12, 34, 56} & set(facts["value"])


def test_save_load_keeps_schema(corpus, tmp_path: Path) -> None:
    ft = extract_facts(corpus, KNOWLEDGE_DIR)
    ft.save(tmp_path / "facts")
    back = FactTables.load(tmp_path / "facts")
    assert dict(back.facts.dtypes.astype(str)) == dict(ft.facts.dtypes.astype(str))
    assert list(back.comparison.columns) == list(COMPARISON_COLUMNS)
    pd.testing.assert_frame_equal(back.tables[0].frame, ft.tables[0].frame)
    assert len(back.facts) == len(ft.facts)


def test_malformed_table_reported_and_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.md").write_text(BROKEN, encoding="utf-8")
    (folder / "rapport.txt").write_text(DOC, encoding="utf-8")
    ft = extract_facts(load_corpus(folder), KNOWLEDGE_DIR)
    assert len(ft.errors) == 1 and "note.md" in ft.errors[0] and "tableau" in ft.errors[0]
    assert len(ft.tables) == 1  # the good one
    assert 12 in ft.facts["value"].tolist()  # the rest of the broken document is still read


def test_comparison(corpus) -> None:
    comp = extract_facts(corpus, KNOWLEDGE_DIR).comparison
    assert comp.empty  # Bretagne is neither Occitanie nor national: no row invented


def test_real_corpus_comparison() -> None:
    corpus = load_corpus(KNOWLEDGE_DIR / "documents")
    comp = extract_facts(corpus, KNOWLEDGE_DIR).comparison
    row = comp[(comp["operator"] == "pole_emploi") & (comp["scope"] == "occitanie") & (comp["year"] == 2021)].iloc[0]
    assert (row["entrants"], row["sortants"], row["beneficiaires"]) == (175837, 170167, 310985)


def test_real_corpus_comparison_takes_one_table_per_series() -> None:
    """Cap emploi's national entrants come from its table of totals; sortants of a sub-table are not mixed in."""
    corpus = load_corpus(KNOWLEDGE_DIR / "documents")
    comp = extract_facts(corpus, KNOWLEDGE_DIR).comparison
    for _, row in comp.iterrows():
        assert ";" not in str(row["tables"])
    cap = comp[(comp["operator"] == "cap_emploi") & (comp["scope"] == "national") & (comp["year"] == 2021)].iloc[0]
    assert cap["entrants"] == 149625 and pd.isna(cap["sortants"]) and pd.isna(cap["beneficiaires"])


def facts_of(tmp_path: Path, name: str, text: str) -> pd.DataFrame:
    """The fact table of a one-document corpus written in tmp_path."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    return extract_facts(load_corpus(folder), KNOWLEDGE_DIR).facts


def test_sentence_cells_of_a_table_are_facts(tmp_path: Path) -> None:
    """A survey table whose cells are sentences: their numbers are facts like prose, one clause each."""
    survey = (
        "Enquête 2016\n\nQuestion\tRéponse\tPrécision\n"
        "Jours de formation en moyenne ?\t2,66 jours par conseiller\t151,6 jours ont été recensés\n"
        "Organisme de formation ?\tOui pour 41% des Cap emploi\tDonnées obtenues sur 64 retours\n"
    )
    facts = facts_of(tmp_path, "enquete.txt", survey)
    near = dict(zip(facts["value"], facts["near"], strict=True))
    assert near[2.66] == "2,66 jours par conseiller" and 151.6 in near and 41 in near and 64 in near


def test_territories_of_a_clause_and_of_a_sibling_number(tmp_path: Path) -> None:
    """Two territories in one clause are both the number's; a territory named right after another number of the
    sentence ("dont 3 810 en Occitanie") is that number's, not lent to its neighbour by the sentence."""
    text = (
        "Rapport 2021\n\nLa moyenne d'âge en Occitanie et au national est de 21 ans.\n\n"
        "À ce jour, 9 731 membres appartiennent à la communauté, dont 3 810 en Occitanie.\n\n"
        "Au national, 12 % des entrées (sur 149 625 entrées) et 9 % en Occitanie.\n"
    )
    facts = facts_of(tmp_path, "rapport.txt", text)
    row = {v: r for v, r in zip(facts["value"], facts.itertuples(), strict=True)}
    assert set(row[21].scopes.split(",")) == {"occitanie", "national"}
    assert row[3810].scope == "occitanie" and row[9731].scope_source != "sentence"
    assert row[149625].scope == "national"  # in parentheses: the clause it stands in


def test_clause_of_an_aside_and_of_a_subset(tmp_path: Path) -> None:
    """An aside with its own subject is its number's clause; "(à hauteur de 9 %)" reads with what precedes it;
    "dont" opens the clause of the number after it."""
    text = (
        "Rapport 2021\n\n96 % des Cap emploi présentent le CPF (les 4 % restants estiment le dispositif complexe).\n\n"
        "Ils sont orientés par les associations Transitions Pro (à hauteur de 9 %).\n\n"
        "84 % de ces bénéficiaires sont en recherche d'emploi dont 61 % inscrits au Pôle Emploi.\n"
    )
    facts = facts_of(tmp_path, "rapport.txt", text)
    near = dict(zip(facts["value"], facts["near"], strict=True))
    assert near[4].startswith("les 4 % restants") and "CPF" not in near[4]
    assert "Transitions Pro" in near[9]
    assert near[61].startswith("dont 61 %") and "recherche" not in near[61]


def test_scope_words_in_all_their_forms() -> None:
    """The lexicon says "national", "nationaux"; "nationales" is found too (each adjective's other forms)."""
    from ingest.facts import Entities, load_lexicon
    from ingest.operators import load_operators

    entities = Entities(load_operators(KNOWLEDGE_DIR), load_lexicon(KNOWLEDGE_DIR))
    found = [k for k, _, _ in entities.scope_mentions("poids dans les entrees nationales et les antennes occitanes")]
    assert found == ["national", "occitanie"]


def test_a_bare_number_reads_with_the_label_below_it(tmp_path: Path) -> None:
    """Infographics converted from PDF: the number alone on its line, its label on the lines below."""
    page = (
        "Bilan 2021\n\nOccitanie\n\n13678\n\npersonnes accompagnées dans leur\nprojet d'évolution professionnelle\n\n"
        "94%\ndes bénéficiaires sont satisfaits du service.\n\n17\n\nSYNTHÈSE DE L'ÉTUDE\n"
    )
    facts = facts_of(tmp_path, "bilan.txt", page).set_index("number_text")
    assert facts.loc["13678", "sentence"] == "13678 personnes accompagnées dans leur projet d'évolution professionnelle"
    assert (facts.loc["13678", "first_line"], facts.loc["13678", "last_line"]) == (5, 8)
    assert facts.loc["94%", "sentence"] == "94% des bénéficiaires sont satisfaits du service."
    assert "17" not in facts.index or facts.loc["17", "sentence"] == "17"  # a page number: no label below


@pytest.mark.parametrize(
    ("text", "places"),
    [
        ("Combien d'entrées en CEP dans le Lot en 2021 ?", ["dep:lot"]),
        ("Entrées dans l'Oise et le Nord ?", ["dep:nord", "dep:oise"]),
        ("un lot de questions sur le nord de la région", []),  # common words
        ("Lot-et-Garonne et Haute-Loire en 2021", []),  # parts of other names
        ("Lot : combien d'entrées ?", []),  # a first word is capitalized anyway
    ],
)
def test_a_departement_named_by_a_common_word_counts_when_capitalized(text: str, places: list[str]) -> None:
    from ingest.facts import Entities, load_lexicon
    from ingest.operators import load_operators

    entities = Entities(load_operators(KNOWLEDGE_DIR), load_lexicon(KNOWLEDGE_DIR))
    assert entities.capitalized_places(text) == places


def test_towns_are_read_in_folded_text_with_hyphens_or_spaces() -> None:
    from ingest.facts import Entities, load_lexicon
    from ingest.operators import load_operators

    entities = Entities(load_operators(KNOWLEDGE_DIR), load_lexicon(KNOWLEDGE_DIR))
    assert entities.towns_in("combien de jeunes a la mission locale de toulouse") == ["city:toulouse"]
    assert entities.towns_in("une permanence a saint gaudens et a nimes") == ["city:nimes", "city:saint-gaudens"]
    assert entities.towns_in("toulousain de naissance") == []


def test_every_place_of_the_lexicon_has_a_name_with_its_article() -> None:
    """« Les documents ne donnent pas ce chiffre pour le Gard » needs the article of every département and region."""
    from ingest.facts import load_lexicon
    from ingest.facts.entities import _region_key, departement_key

    lexicon = load_lexicon(KNOWLEDGE_DIR)
    keys = {departement_key(d) for d in lexicon.departements} | {
        f"other:{_region_key(r)}" for r in lexicon.other_regions
    }
    assert keys == set(lexicon.place_names)
