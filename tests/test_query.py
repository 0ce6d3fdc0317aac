"""One reading of a question (assistant/query.py): spellings, shorthand, search words and shape, made once."""

from __future__ import annotations

import tomllib

import pytest

from assistant.normalize import load_lexicon
from assistant.pipeline import Assistant
from assistant.query import QueryReader, read_query
from assistant.settings import KNOWLEDGE_DIR, Settings
from index.encoders import HashEncoder
from ingest.corpus import load_corpus
from ingest.spelling import Speller


def test_a_kiosk_question_is_read_with_its_spellings_and_shorthand() -> None:
    q = read_query("cb de jeunes en CEP a la ML ?", load_lexicon(KNOWLEDGE_DIR))
    assert q.text == "cb de jeunes en CEP a la ML ?"
    assert q.respelled == "combien de jeunes en CEP a la ML ?"
    assert q.normalized == "combien de jeunes en CEP conseil en évolution professionnelle a la Mission Locale ?"
    assert q.asked == "combien de jeunes en CEP a la Mission Locale ?"
    assert "conseil" in q.search.split() and "conseil" not in q.own.split()  # the lexicon's additions, apart
    assert q.definition is None


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("Qu'est-ce que CHEOPS ?", "cheops"),
        ("c quoi le CEP", "cep"),
        ("la garantie jeunes c'est quoi ?", "garantie jeunes"),
    ],
)
def test_a_definition_question_names_its_term(question: str, term: str) -> None:
    assert read_query(question, load_lexicon(KNOWLEDGE_DIR)).definition == term


def test_kiosk_spellings_are_one_table_read_by_every_part() -> None:
    """« cb » is written once (knowledge/lexicon.toml [spellings]); the figure reader reads that table."""
    figures = tomllib.loads((KNOWLEDGE_DIR / "figure_lexicon.toml").read_text(encoding="utf-8"))
    words = tomllib.loads((KNOWLEDGE_DIR / "lexicon.toml").read_text(encoding="utf-8"))
    assert "spellings" not in figures.get("question", {})
    assert "cb" in words["spellings"] and "cb" not in words["shorthand"]


def test_retrieval_reads_the_reading_or_the_text_alike(settings: Settings, fake_encoder: HashEncoder) -> None:
    assistant = Assistant.load(settings, encoder=fake_encoder)
    question = "Le CEP est-il gratuit ?"
    by_text = assistant.retrieve(question)
    by_query = assistant.retrieve(assistant.analyzer.read(question))
    assert [h.chunk.id for h in by_text.hits] == [h.chunk.id for h in by_query.hits]
    assert by_text.query == by_query.query and by_text.dense_query == question


@pytest.fixture(scope="module")
def reader() -> QueryReader:
    """The analyzer of the built-in corpus (its words are the real words typos are corrected towards)."""
    return QueryReader.load(KNOWLEDGE_DIR, load_corpus(KNOWLEDGE_DIR / "documents"))


def test_one_reading_holds_operators_places_years_and_the_kind_asked(reader: QueryReader) -> None:
    q = reader.read("cb d'entrees en CEP pour pole emlpoi en Haute garone en 2021 ?")
    assert q.folded == "combien d'entrees en cep pour pole emploi en haute garonne en 2021 ?"
    assert q.operators == ("pole_emploi",)
    assert q.places == ("dep:haute-garonne",)
    assert q.years == (2021,)
    assert q.unit == "count"


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("quel est le délai moyen en jours ?", "days"),
        ("part des femmes en % ?", "percent"),
        ("quel budget pour le CEP ?", "money"),
        ("combien de bénéficiaires six mois après ?", "count"),  # a period stated, not asked
    ],
)
def test_the_kind_of_answer_asked(reader: QueryReader, question: str, unit: str) -> None:
    assert reader.read(question).unit == unit


def test_informal_forms_are_rewritten_once_for_every_engine(reader: QueryReader) -> None:
    q = reader.read("chui au chomdu depuis 8 mois, ki peut m'aider ? PE ou ML ?")
    assert q.folded.startswith("je suis au chomage depuis 8 mois, qui peut")
    assert q.operators == ("pole_emploi", "mission_locale")


def test_the_speller_keeps_real_words_and_their_forms() -> None:
    speller = Speller(["prestation", "garonne", "mission", "demission", "salarie"])
    assert speller.correct("garone") == "garonne"  # one letter missing
    assert speller.correct("salraie") == "salarie"  # a swap is one edit
    assert speller.correct("prestations") == "prestations"  # a plural of a known word is no typo
    assert speller.correct("mision") == "mission"  # never « demission »: a typo keeps its first letter
    assert speller.correct("misson") == "mission"
    assert speller.correct("abcd") == "abcd"  # short words are left alone
    assert speller.correct("xylophone") == "xylophone"  # near nothing


def test_every_typo_matcher_is_the_speller() -> None:
    """One typo policy (ingest/spelling.py): no other module of the assistant looks up near words with rapidfuzz."""
    root = KNOWLEDGE_DIR.parent
    callers = sorted(
        str(p.relative_to(root))
        for folder in ("assistant", "index", "ingest")
        for p in (root / folder).rglob("*.py")
        if "process.extract" in p.read_text(encoding="utf-8")
    )
    assert callers == ["ingest/spelling.py"]


def test_the_reading_says_what_a_negation_scopes(reader: QueryReader) -> None:
    q = reader.read("salariée non cadre, sans impact du handicap sur mon poste, il bosse pas")
    at = q.focus.index
    assert q.negated(at("cadre"), at("cadre") + 5)
    assert q.negated(at("impact"), at("impact") + 6)
    assert not q.negated(at("handicap"), at("handicap") + 8)  # « aucun impact du handicap »: the impact's
    assert q.negated(at("bosse"), at("bosse") + 5)  # spoken French: « il bosse pas »
    assert not q.negated(at("salariee"), at("salariee") + 8)


def test_the_reading_keeps_the_clauses_about_the_person_asked_about(reader: QueryReader) -> None:
    q = reader.read("j'ai 50 ans et mon fils de 19 ans cherche du travail")
    assert q.about_relative
    assert "50" not in q.focus and "fils de 19 ans" in q.focus
    own = reader.read("j'ai 50 ans et je cherche du travail")
    assert not own.about_relative and own.focus == own.folded
