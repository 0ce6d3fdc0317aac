"""The app's logic without the UI: escaping, highlights, feedback store, admin gate, documents, kiosk, figures."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from assistant.app import documents, explorer, render
from assistant.app.admin import DISABLED_MESSAGE, AdminGate, LoginThrottle, resolve_password
from assistant.app.documents import DocumentRejected, add_document, check_document, remove_document, sanitize_filename
from assistant.app.feedback import FeedbackStore
from assistant.app.routing_form import NO_ROUTER, Situation, route
from assistant.app.session import KIOSK_SITUATIONS, idle_check_every, idle_seconds, is_idle, kiosk_mode
from assistant.operators import Operator, OperatorFact
from assistant.pipeline import Assistant
from assistant.records import Answer, Citation, OperatorChoice
from assistant.settings import Settings
from index.store import CURRENT

# --- rendering -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[clique](http://evil.example)",
        "![image](http://evil.example/x.png)",
        "http://evil.example/page et www.evil.example",
        "# Titre **gras** _it_ `code` $x^2$ :red[rouge]",
    ],
)
def test_escape_leaves_no_markup(typed: str) -> None:
    out = render.escape(typed)
    # Every ASCII punctuation mark is backslash-escaped: no tag, link, image, emphasis or math can form.
    for i, ch in enumerate(out):
        if ch in "<>[]()!*_`$:#/.":
            assert i > 0 and out[i - 1] == "\\", (typed, out)


def test_escape_breaks_bare_url_autolinks() -> None:
    # Streamlit links "www.x", "scheme://x" and e-mails even when escaped; an invisible joiner stops it.
    out = render.escape("www.evil.example http://evil.example moi@evil.example WWW.X.FR")
    assert out.count(render.WORD_JOINER) == 4
    assert (
        out.replace(render.WORD_JOINER, "").replace("\\", "")
        == "www.evil.example http://evil.example moi@evil.example WWW.X.FR"
    )
    assert "www" + render.WORD_JOINER + "\\." in out and "http" + render.WORD_JOINER + "\\:" in out


def test_escape_control_characters_long_text_and_line_breaks() -> None:
    assert render.escape("a\x00b\x1bc") == "a b c"
    assert render.escape("x" * 50, max_chars=10) == "x" * 10 + " …"
    assert render.escape("ligne 1\n    ligne 2") == "ligne 1  \nligne 2"  # no 4-space code block


def test_quote_highlights_the_answering_sentence() -> None:
    c = Citation(
        "d.txt",
        "Doc",
        "I › A",
        None,
        [3, 4],
        "Le CEP est **gratuit**.\nIl est  confidentiel.",
        highlight="Il est confidentiel.",
    )
    md = render.quote_markdown(c)
    assert md == "Le CEP est gratuit\\.  \n:orange-background[**Il est confidentiel\\.**]"
    assert render.citation_heading(c) == "**Doc** — I › A, l\\. 3\\-4"


def test_quote_without_matching_highlight_is_plain() -> None:
    c = Citation("d.txt", "Doc", "", 5, None, "Texte <b>cité</b>.", highlight="absent ici")
    assert ":orange-background" not in render.quote_markdown(c)


def test_operator_cards_group_facts_by_kind_and_render_any_extra_shape() -> None:
    extra = {
        "call": "l'APEC",
        "fact": [
            {"kind": "public", "text": "Les cadres.", "lines": [10, 12], "quote": "q"},
            {"kind": "canal", "text": "Téléphone : 0809 <b>361</b> 212.", "lines": [5, 5], "quote": "q"},
            {"kind": "engagement", "text": "Gratuité.", "lines": [7, 7], "quote": "q"},
            {"kind": "nouveau", "text": "Autre fait.", "document": "x.txt", "lines": [1, 2]},  # another document
            "pas une table",
        ],
        "services": ["bilan", {"text": "atelier", "source": {"lines": [3, 3]}}],
        "weird_key": {"nested": 1},
    }
    ops = {"apec": Operator("apec", "APEC", ("apec",), extra)}
    [card] = render.operator_cards([OperatorChoice("apec", "APEC", "primary", "Cadre salarié.")], ops)
    assert card.role == "Opérateur à contacter"
    assert card.details == [
        ("Public", [r"Les cadres\. \(source \: l\. 10\-12\)"]),
        ("Comment le joindre", [r"Téléphone \: 0809 \<b\>361\<\/b\> 212\. \(source \: l\. 5\)"]),
    ]
    assert [label for label, _ in card.more] == ["Services", "Engagements", "Nouveau", "Informations", "Weird key"]
    more = dict(card.more)
    assert more["Services"] == ["bilan", r"atelier \(source \: l\. 3\)"]
    assert more["Engagements"] == [r"Gratuité\. \(source \: l\. 7\)"]
    assert more["Nouveau"] == [r"Autre fait\. \(source \: x\.txt, l\. 1\-2\)"]
    assert more["Informations"] == ["pas une table"]
    assert more["Weird key"] == [r"nested \: 1"]  # any other key, whatever its shape
    assert "Call" not in more
    # an operator unknown to operators.toml still gets a card
    assert render.operator_cards([OperatorChoice("x", "X", "alternative", "")], {})[0].role == "Autre possibilité"


def test_operator_cards_read_operator_facts() -> None:
    facts = (
        OperatorFact("canal", "Ligne 3949.", "rapport.txt", (538, 538), "3949"),
        OperatorFact("public", "Les demandeurs d'emploi.", "rapport.txt", (109, 109), "q"),
        OperatorFact("canal", "Sur rendez-vous.", "enquete.txt", (14, 14), "q"),
        OperatorFact("service", "Activ'Projet.", "rapport.txt", (2201, 2201), "q"),
    )
    ops = {"pole_emploi": Operator("pole_emploi", "Pôle emploi", (), {"call": "Pôle emploi"}, facts)}
    [card] = render.operator_cards([OperatorChoice("pole_emploi", "Pôle emploi", "primary", "")], ops)
    assert card.details == [
        ("Public", [r"Les demandeurs d'emploi\. \(source \: l\. 109\)"]),
        (
            "Comment le joindre",
            [r"Ligne 3949\. \(source \: l\. 538\)", r"Sur rendez\-vous\. \(source \: enquete\.txt, l\. 14\)"],
        ),
    ]
    assert card.more == [("Services", [r"Activ'Projet\. \(source \: l\. 2201\)"])]


def test_routing_summary_lists_situation_operator_follow_up_and_sources() -> None:
    answer = Answer(
        "q",
        "routing",
        "APEC",
        operators=[OperatorChoice("apec", "APEC", "primary", "Les cadres vont à l'APEC.")],
        citations=[Citation("d.txt", "Rapport", "IV", 12, None, "Les cadres vont à l'APEC.", highlight="")],
        follow_up="Êtes-vous cadre ?",
    )
    situation = Situation(status="salarie_prive", age=45, cadre=True)
    text = render.routing_summary(answer, situation.lines(), markdown=False)
    assert "- Statut : Salarié·e du secteur privé" in text
    assert "- Âge : 45 ans" in text and "- Cadre : oui" in text
    assert "- Opérateur à contacter : APEC — Les cadres vont à l'APEC." in text
    assert "Question à poser : Êtes-vous cadre ?" in text
    assert "- Rapport, IV, p. 12 : « Les cadres vont à l'APEC. »" in text
    assert "**APEC**" in render.routing_summary(answer, situation.lines())


# --- feedback --------------------------------------------------------------------------------------


def test_feedback_keeps_no_question_by_default_and_writes_nothing_before_use(tmp_path: Path) -> None:
    store = FeedbackStore.from_settings(replace(Settings(), data_dir=tmp_path / "data"))
    assert store.entries() == [] and not store.path.exists()
    store.record("a1", "passage", 1, question="Je suis Mme Dupont, 52 ans, RQTH")
    store.record("a1", "passage", 0)  # changing one's mind updates the same row
    [entry] = store.entries()
    assert (entry.answer_id, entry.intent, entry.rating, entry.question) == ("a1", "passage", 0, None)
    raw = sqlite3.connect(store.path).execute("SELECT * FROM feedback").fetchall()
    assert "Dupont" not in repr(raw)


def test_feedback_keeps_question_when_enabled_and_applies_retention(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3", keep_question=True, retention_days=30)
    now = time.time()
    store.record("old", "figure", 1, "ancienne", now=now - 31 * 86400)
    store.record("new", "routing", 1, "récente", now=now)
    assert [(e.answer_id, e.question) for e in store.entries(now=now)] == [("new", "récente")]
    assert store.summary(now=now) == {"routing": (1, 0)}
    with pytest.raises(ValueError):
        store.record("x", "passage", 5)


# --- admin -----------------------------------------------------------------------------------------


def test_admin_disabled_without_password() -> None:
    gate = AdminGate(resolve_password(Settings(), secrets=None))
    assert not gate.enabled
    assert gate.check("") == gate.check("anything")
    assert gate.check("x").message == DISABLED_MESSAGE


def test_admin_password_from_setting_or_secrets() -> None:
    assert resolve_password(replace(Settings(), admin_password="env")) == "env"
    assert resolve_password(Settings(), {"admin_password": "secret"}) == "secret"

    class Broken:
        def get(self, key: str) -> str:
            raise FileNotFoundError("no secrets.toml")

    assert resolve_password(Settings(), Broken()) == ""  # type: ignore[arg-type]


def test_admin_checks_password_and_rate_limits() -> None:
    gate = AdminGate("s3cret", LoginThrottle(max_failures=3, window=60, lockout=30))
    assert "s3cret" not in repr(gate)
    assert gate.check("s3cret", now=0).ok
    for t in range(3):
        assert gate.check("wrong", now=t).message == "Mot de passe incorrect."
    locked = gate.check("s3cret", now=5)  # even the right password waits during the lockout
    assert not locked.ok and "réessayez dans" in locked.message
    assert gate.check("s3cret", now=40).ok


# --- kiosk and session -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forced", "params", "locked", "expected"),
    [
        (False, {}, False, False),
        (False, {"kiosk": "1"}, False, True),
        (False, {"kiosk": ["oui"]}, False, True),
        (True, {"kiosk": "0"}, False, True),
        (False, {"kiosk": "0"}, True, True),  # a kiosk session cannot be left by changing the URL
        (False, {"admin": "1", "page": "Documents"}, False, False),
    ],
)
def test_kiosk_mode(forced: bool, params: dict, locked: bool, expected: bool) -> None:
    assert kiosk_mode(replace(Settings(), kiosk=forced), params, locked) is expected


def test_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_idle(100.0, 60, now=161.0)
    assert not is_idle(100.0, 60, now=150.0)
    monkeypatch.delenv("CEP_KIOSK_IDLE_SECONDS", raising=False)
    assert idle_seconds() == 120 and idle_check_every(120) == 15
    for value, expected in (("1", 5), ("300", 300), ("abc", 120)):
        monkeypatch.setenv("CEP_KIOSK_IDLE_SECONDS", value)
        assert idle_seconds() == expected
    assert idle_check_every(6) == 2
    assert [label for label, _ in KIOSK_SITUATIONS] == [
        "Je suis salarié·e",
        "Je cherche un emploi",
        "J'ai moins de 26 ans",
        "Je suis en situation de handicap",
    ]


# --- routing form ----------------------------------------------------------------------------------


class StubRouter:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def route_fields(self, status=None, age=None, cadre=None):
        self.calls.append({"status": status, "age": age, "cadre": cadre})
        return Answer("", "routing", "APEC", operators=[OperatorChoice("apec", "APEC", "primary", "cadre")])


class StubAssistant:
    def __init__(self, router: object) -> None:
        self.router = router
        self.asked: list[str] = []

    def ask(self, question: str, qid: str = "") -> Answer:
        self.asked.append(question)
        return Answer(question, "passage", "réponse")


def test_route_passes_only_filled_fields_the_router_accepts() -> None:
    router = StubRouter()
    situation = Situation(status="salarie_prive", cadre=True, disability=None, resigning=False)
    answer = route(StubAssistant(router), situation)  # type: ignore[arg-type]
    assert answer.intent == "routing"
    assert router.calls == [{"status": "salarie_prive", "age": None, "cadre": True}]


def test_route_without_router_asks_the_situation_as_a_question() -> None:
    assistant = StubAssistant(None)
    answer = route(assistant, Situation(status="demandeur_emploi", age=22))  # type: ignore[arg-type]
    assert assistant.asked == [
        "Je suis demandeur·se d'emploi, j'ai 22 ans. Quel opérateur du conseil en évolution professionnelle "
        "peut m'accompagner ?"
    ]
    assert answer.message == NO_ROUTER


# --- documents -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\Windows\\évaluation CEP.PDF", "evaluation-CEP.pdf"),
        ("/abs/path/rapport 2022 (v2).md", "rapport-2022-v2.md"),
        ("....txt.txt", "txt.txt"),
    ],
)
def test_sanitize_filename(name: str, safe: str) -> None:
    assert sanitize_filename(name) == safe


@pytest.mark.parametrize("name", ["virus.exe", "rapport", "notes.txt.exe", ".txt", "../.pdf", "a.docx"])
def test_sanitize_filename_refuses(name: str) -> None:
    with pytest.raises(DocumentRejected):
        sanitize_filename(name)


def test_check_document_refuses_bad_files(settings: Settings) -> None:
    small = replace(settings, max_document_bytes=100)
    cases = {
        ("vide.txt", b""): "vide",
        ("grand.txt", b"x" * 101): "trop volumineux",
        ("blanc.txt", b"   \n\n"): "vide",
        ("casse.pdf", b"%PDF-1.4 pas vraiment un pdf"): "casse.pdf",
        ("binaire.exe", b"MZ\x00"): "non pris en charge",
    }
    for (name, data), expected in cases.items():
        with pytest.raises(DocumentRejected, match=expected):
            check_document(small, name, data)
    assert (
        check_document(settings, "latin1.txt", "Évolution professionnelle à Béziers.".encode("latin-1")) == "latin1.txt"
    )


BEES = "Les abeilles\n\nLes abeilles butinent les fleurs de lavande et produisent un miel parfumé.\n"


def test_add_document_is_answerable_at_once_idempotent_and_removable(settings: Settings) -> None:
    Assistant.load(settings)
    steps: list[str] = []
    change = add_document(
        settings,
        "../abeilles.txt",
        BEES.encode(),
        progress=lambda s, d, t: steps.append(s),
        title="Note sur les abeilles",
    )
    assert change.status == "added" and change.name == "abeilles.txt"
    assert (settings.corpus_dir / "abeilles.txt").read_text(encoding="utf-8") == BEES
    assert not (settings.corpus_dir.parent / "abeilles.txt").exists()
    assert steps and "Index prêt" in steps
    answer = change.assistant.ask("Que produisent les abeilles ?")
    assert answer.citations and answer.citations[0].document == "abeilles.txt"
    assert answer.citations[0].title == "Note sur les abeilles"

    again = add_document(settings, "autre-nom.txt", BEES.encode())
    assert (again.status, again.name, again.assistant) == ("unchanged", "abeilles.txt", None)
    with pytest.raises(DocumentRejected, match="existe déjà"):
        add_document(settings, "abeilles.txt", b"Autre contenu sur les abeilles.")

    removed = remove_document(settings, "abeilles.txt")
    assert not (settings.corpus_dir / "abeilles.txt").exists()
    assert all(c.document != "abeilles.txt" for c in removed.assistant.corpus.chunks)
    with pytest.raises(DocumentRejected, match="pas dans le corpus"):
        remove_document(settings, "../rapport-test.txt")


def test_failed_indexing_puts_the_corpus_back_and_keeps_the_index(settings: Settings, monkeypatch) -> None:
    Assistant.load(settings)
    pointer = (settings.index_dir / CURRENT).read_text()
    manifest_before = sorted(p.name for p in settings.corpus_dir.iterdir())

    def boom(*args, **kwargs):
        raise MemoryError("interrupted")

    monkeypatch.setattr(documents.Assistant, "load", boom)
    with pytest.raises(MemoryError):
        add_document(settings, "abeilles.txt", BEES.encode(), title="Abeilles")
    with pytest.raises(MemoryError):
        remove_document(settings, "enquete-jardins.txt")
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == manifest_before
    assert (settings.index_dir / CURRENT).read_text() == pointer


def test_remove_refuses_the_last_document(settings: Settings) -> None:
    (settings.corpus_dir / "enquete-jardins.txt").unlink()
    with pytest.raises(DocumentRejected, match="dernier document"):
        remove_document(settings, "rapport-test.txt")


def test_title_goes_into_the_manifest(settings: Settings) -> None:
    Assistant.load(settings)
    add_document(settings, "abeilles.txt", BEES.encode(), title="Note <abeilles>")
    data = json.loads((settings.corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    assert {
        "file": "abeilles.txt",
        "title": "Note <abeilles>",
        "kind": "document ajouté",
        "original_name": "abeilles.txt",
    } in data["documents"]


# --- figures explorer ------------------------------------------------------------------------------


def _comparison() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "operator": ["apec", "apec", "pole_emploi", "pole_emploi", "apec"],
            "operator_name": ["APEC", "APEC", "Pôle emploi", "Pôle emploi", "APEC"],
            "scope": ["occitanie", "national", "occitanie", "national", "occitanie"],
            "year": pd.array([2021, 2021, 2021, 2021, 2020], dtype="Int64"),
            "entrants": [6158.0, 97746.0, 175837.0, 1809087.0, 5900.0],
            "sortants": [6123.0, None, 170167.0, 1764816.0, None],
            "beneficiaires": [6828.0, 106741.0, 310985.0, 3174591.0, None],
            "document": ["r.txt"] * 5,
            "section": ["IV › D › 4. L'APEC"] * 5,
            "source_lines": ["2908; 2908; 2908", "2903", "2967", "2962", "3227"],
            "tables": [""] * 5,
        }
    )


def test_comparison_table_and_chart_data() -> None:
    table = explorer.comparison_table(_comparison(), {"r.txt": "Rapport 2021"})
    assert list(table["Opérateur"]) == ["APEC", "Pôle emploi", "APEC", "Pôle emploi"]
    assert list(table["Périmètre"]) == ["France", "France", "Occitanie", "Occitanie"]
    assert table.loc[2, "Source"] == "Rapport 2021 — IV › D › 4. L'APEC — l. 2908"
    chart = explorer.chart_data(_comparison(), "sortants", "national")
    assert chart.to_dict("list") == {"Opérateur": ["Pôle emploi"], "Sortants": [1764816.0]}
    csv = explorer.to_csv(table)
    assert csv.startswith("\ufeffOpérateur;".encode()) and b"Rapport 2021" in csv


def test_facts_table_filters() -> None:
    facts = pd.DataFrame(
        {
            "display": ["12 345", "2,5 heures", "7"],
            "label": ["entrées en CEP", "durée moyenne", "régions"],
            "operator": ["pole_emploi", None, "apec"],
            "scope": ["occitanie", "national", "other:bretagne"],
            "year": pd.array([2021, None, 2020], dtype="Int64"),
            "document": ["r.txt"] * 3,
            "section": ["II", "II", "III"],
            "page": pd.array([3, None, None], dtype="Int64"),
            "first_line": [20, 30, 40],
            "last_line": [22, 30, 40],
            "sentence": ["Pôle Emploi a enregistré 12 345 entrées.", "La durée moyenne est de 2,5 heures.", "x"],
        }
    )
    names = {"pole_emploi": "Pôle emploi", "apec": "APEC"}
    all_rows = explorer.facts_table(facts, {"r.txt": "Rapport"}, names)
    assert list(all_rows["Lignes"]) == ["l. 20-22", "l. 30", "l. 40"]
    assert list(all_rows["Périmètre"]) == ["Occitanie", "France", "Autre région (bretagne)"]
    assert list(explorer.facts_table(facts, {}, names, operators=["pole_emploi"])["Valeur"]) == ["12 345"]
    assert list(explorer.facts_table(facts, {}, names, scopes=["other"])["Opérateur"]) == ["APEC"]
    assert list(explorer.facts_table(facts, {}, names, text="DURÉE")["Valeur"]) == ["2,5 heures"]
    assert explorer.scope_choices(facts) == ["occitanie", "national", "other"]
