"""The app's logic without the UI: escaping, highlights, feedback store, staff login, user data, documents,
kiosk, figures, the routing form."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from assistant.app import audit, documents, explorer, render
from assistant.app.admin import DISABLED_MESSAGE, AdminGate, Backoff, Client, LoginThrottle, resolve_password
from assistant.app.documents import (
    DocumentRejected,
    add_document,
    check_document,
    hidden_documents,
    list_documents,
    remove_document,
    restore_document,
    sanitize_filename,
)
from assistant.app.feedback import FeedbackStore
from assistant.app.library import Library, corpus_settings
from assistant.app.routing_form import NO_ROUTER, Situation, inconsistencies, parse_age, route
from assistant.app.session import idle_check_every, idle_seconds, is_idle, kiosk_mode
from assistant.operators import Operator, OperatorFact
from assistant.pipeline import Assistant
from assistant.records import Answer, Citation, OperatorChoice
from assistant.settings import KNOWLEDGE_DIR, Settings, default_data_dir
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


def test_admin_checks_password_and_slows_down_the_failing_session() -> None:
    gate = AdminGate("s3cret", LoginThrottle(session=Backoff(free=3, base=30, cap=300)))
    attacker, admin = Client("session-a"), Client("session-b")
    assert "s3cret" not in repr(gate)
    assert gate.check("s3cret", attacker, now=0).ok
    for t in range(4):
        assert gate.check("wrong", attacker, now=t).message == "Mot de passe incorrect."
    locked = gate.check("s3cret", attacker, now=5)  # the failing session waits, even with the right password
    assert not locked.ok and locked.blocked and "réessayez dans" in locked.message
    assert gate.check("s3cret", admin, now=5).ok  # another session is never kept out
    assert gate.check("s3cret", attacker, now=40).ok


def test_throttle_by_address_stops_new_sessions_but_not_other_addresses() -> None:
    gate = AdminGate("pw", LoginThrottle(address=Backoff(free=19, base=60, cap=600)))
    # an attacker opening a new session for every try is slowed by its address (known behind a trusted proxy)
    t = 0.0
    for i in range(20):
        t += 31.0  # past the account's delay each time
        assert not gate.check("x", Client(f"s{i}", "203.0.113.7"), now=t).blocked
    assert gate.check("pw", Client("new", "203.0.113.7"), now=t + 31).blocked
    assert gate.check("pw", Client("admin", "198.51.100.2"), now=t + 31).ok
    assert gate.check("pw", Client("local", None), now=t + 31).ok  # no known address: session and account only


def test_throttle_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.app import admin

    monkeypatch.setattr(admin, "MAX_BUCKETS", 50)
    throttle = LoginThrottle()
    for i in range(500):
        throttle.failed(Client(f"s{i}", f"198.51.100.{i % 250}"), now=float(i))
    assert len(throttle._buckets) <= 50
    assert "account:équipe" in throttle._buckets  # the account is never dropped


def test_audit_lines_have_time_action_and_document_only(tmp_path: Path) -> None:
    settings = replace(Settings(), data_dir=tmp_path)
    audit.record(settings, "login_failed")
    audit.record(settings, "added", "abeilles.txt")
    audit.record(settings, "added", "../x\n<script>")
    lines = (tmp_path / audit.FILE_NAME).read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[1:] for line in lines] == [
        ["connexion refusée", ""],
        ["document ajouté", "abeilles.txt"],
        ["document ajouté", "..?x??script?"],
    ]
    assert [a.action for a in audit.read(settings)] == ["document ajouté", "document ajouté", "connexion refusée"]
    with pytest.raises(ValueError):
        audit.record(settings, "whatever")


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


# --- routing form ----------------------------------------------------------------------------------


class StubRouter:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def route_fields(self, **fields):
        self.calls.append(fields)
        return Answer("", "routing", "APEC", operators=[OperatorChoice("apec", "APEC", "primary", "cadre")])


class StubAssistant:
    def __init__(self, router: object) -> None:
        self.router = router
        self.asked: list[str] = []

    def ask(self, question: str, qid: str = "") -> Answer:
        self.asked.append(question)
        return Answer(question, "passage", "réponse")


def test_route_passes_only_filled_fields() -> None:
    router = StubRouter()
    situation = Situation(status="salarie_prive", cadre=True, disability=None, resigning=False)
    answer = route(StubAssistant(router), situation)  # type: ignore[arg-type]
    assert answer.intent == "routing"
    assert router.calls == [{"status": "salarie_prive", "cadre": True, "resigning": False}]


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


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("virus.exe", "format « .exe » non pris en charge"),
        ("rapport", "fichier sans extension non pris en charge"),
        ("notes.txt.exe", "format « .exe »"),
        (".txt", "n'a pas de nom avant l'extension « .txt »"),
        ("../.pdf", "n'a pas de nom avant l'extension « .pdf »"),
        ("....pdf", "n'a pas de nom avant l'extension « .pdf »"),
        ("a.docx", "format « .docx »"),
    ],
)
def test_sanitize_filename_refuses_in_french(name: str, message: str) -> None:
    with pytest.raises(DocumentRejected, match=message):
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


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_default_data_dir_is_outside_the_source_tree(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from assistant.settings import PROJECT_ROOT

    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert PROJECT_ROOT not in default_data_dir().parents
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("CEP_DATA_DIR", raising=False)
    monkeypatch.delenv("CEP_INDEX_DIR", raising=False)
    s = Settings.from_env()
    assert s.data_dir == tmp_path / "cep-assistant" and s.index_dir == tmp_path / "cep-assistant" / "index"
    monkeypatch.setenv("CEP_DATA_DIR", str(tmp_path / "d"))
    assert Settings.from_env().index_dir == tmp_path / "d" / "index"
    monkeypatch.setenv("CEP_INDEX_DIR", str(tmp_path / "i"))
    assert Settings.from_env().index_dir == tmp_path / "i"


def test_nothing_added_nothing_hidden_reads_the_built_in_folder_and_writes_nothing(settings: Settings) -> None:
    assert corpus_settings(settings) == settings
    assert not settings.data_dir.exists()


def test_add_document_is_answerable_at_once_idempotent_and_removable(settings: Settings) -> None:
    built_in = _tree(settings.corpus_dir)
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
    assert (settings.data_dir / "documents" / "abeilles.txt").read_text(encoding="utf-8") == BEES
    assert _tree(settings.corpus_dir) == built_in  # the built-in corpus is never written to
    assert not (settings.data_dir / "abeilles.txt").exists()
    assert steps and "Index prêt" in steps
    answer = change.assistant.ask("Que produisent les abeilles ?")
    assert answer.citations and answer.citations[0].document == "abeilles.txt"
    assert answer.citations[0].title == "Note sur les abeilles"
    rows = {r.name: r.origin for r in list_documents(settings, change.assistant)}
    assert rows == {"rapport-test.txt": "intégré", "enquete-jardins.txt": "intégré", "abeilles.txt": "ajouté"}

    again = add_document(settings, "autre-nom.txt", BEES.encode())
    assert (again.status, again.name, again.assistant) == ("unchanged", "abeilles.txt", None)
    with pytest.raises(DocumentRejected, match="existe déjà"):
        add_document(settings, "abeilles.txt", b"Autre contenu sur les abeilles.")
    with pytest.raises(DocumentRejected, match="nom d'un document intégré"):
        add_document(settings, "rapport-test.txt", b"Un autre rapport sur les abeilles.")

    removed = remove_document(settings, "abeilles.txt")
    assert removed.status == "removed"
    assert not (settings.data_dir / "documents" / "abeilles.txt").exists()
    assert all(c.document != "abeilles.txt" for c in removed.assistant.corpus.chunks)
    with pytest.raises(DocumentRejected, match="pas dans le corpus"):
        remove_document(settings, "../rapport-test.txt")
    assert _tree(settings.corpus_dir) == built_in


def test_added_documents_survive_a_new_copy_of_the_code(settings: Settings, tmp_path: Path) -> None:
    add_document(settings, "abeilles.txt", BEES.encode(), title="Abeilles")
    # the same data directory under another checkout of the code (another built-in folder, same files)
    other_checkout = tmp_path / "checkout-2" / "documents"
    other_checkout.parent.mkdir()
    import shutil

    shutil.copytree(settings.corpus_dir, other_checkout)
    moved = replace(settings, corpus_dir=other_checkout)
    assistant = Assistant.load(corpus_settings(moved))
    assert set(assistant.corpus.documents) == {"rapport-test.txt", "enquete-jardins.txt", "abeilles.txt"}
    assert assistant.corpus.documents["abeilles.txt"].info.title == "Abeilles"
    view = Library(moved).view_dir
    assert all(p.resolve().parent == other_checkout.resolve() for p in view.iterdir() if p.name.startswith("r"))


def test_removing_a_built_in_document_is_a_recorded_hide_and_can_be_undone(settings: Settings) -> None:
    built_in = _tree(settings.corpus_dir)
    change = remove_document(settings, "enquete-jardins.txt")
    assert change.status == "hidden" and "rétabli" in change.message
    assert _tree(settings.corpus_dir) == built_in
    assert json.loads((settings.data_dir / "hidden.json").read_text())["hidden"] == ["enquete-jardins.txt"]
    assert set(change.assistant.corpus.documents) == {"rapport-test.txt"}
    assert hidden_documents(settings) == ["enquete-jardins.txt"]
    assert [r.name for r in list_documents(settings)] == ["rapport-test.txt"]
    with pytest.raises(DocumentRejected, match="dernier document"):
        remove_document(settings, "rapport-test.txt")

    back = restore_document(settings, "enquete-jardins.txt")
    assert back.status == "restored" and set(back.assistant.corpus.documents) == {
        "rapport-test.txt",
        "enquete-jardins.txt",
    }
    assert hidden_documents(settings) == []
    with pytest.raises(DocumentRejected, match="n'est pas un document intégré retiré"):
        restore_document(settings, "enquete-jardins.txt")


def test_failed_indexing_puts_the_data_back_and_keeps_the_index(settings: Settings, monkeypatch) -> None:
    Assistant.load(settings)
    pointer = (settings.index_dir / CURRENT).read_text()
    built_in = _tree(settings.corpus_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    data_before = _tree(settings.data_dir)

    def boom(*args, **kwargs):
        raise MemoryError("interrupted")

    monkeypatch.setattr(documents.Assistant, "load", boom)
    with pytest.raises(MemoryError):
        add_document(settings, "abeilles.txt", BEES.encode(), title="Abeilles")
    with pytest.raises(MemoryError):
        remove_document(settings, "enquete-jardins.txt")
    assert _tree(settings.corpus_dir) == built_in
    assert {k: v for k, v in _tree(settings.data_dir).items() if not k.startswith("corpus")} == data_before
    assert not (settings.data_dir / "documents" / "abeilles.txt").exists()
    assert (settings.index_dir / CURRENT).read_text() == pointer


def test_remove_refuses_the_last_document(settings: Settings) -> None:
    (settings.corpus_dir / "enquete-jardins.txt").unlink()
    with pytest.raises(DocumentRejected, match="dernier document"):
        remove_document(settings, "rapport-test.txt")


def test_title_goes_into_the_data_manifest(settings: Settings) -> None:
    Assistant.load(settings)
    add_document(settings, "abeilles.txt", BEES.encode(), title="Note <abeilles>")
    data = json.loads((settings.data_dir / "documents" / "manifest.json").read_text(encoding="utf-8"))
    assert data["documents"] == [
        {"file": "abeilles.txt", "title": "Note <abeilles>", "kind": "document ajouté", "original_name": "abeilles.txt"}
    ]
    assert not (settings.corpus_dir / "manifest.json").exists()


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
    assert chart.to_dict("list") == {"Opérateur": ["Pôle emploi"], "Sortants": [1764816]}
    assert str(chart["Sortants"].dtype) == "Int64"  # counts are whole numbers
    csv = explorer.to_csv(table).decode("utf-8-sig")
    assert csv.startswith("Opérateur;Périmètre;Année;Entrants;Sortants;Bénéficiaires;Source")
    assert "APEC;France;2021;97746;;106741;" in csv  # no "97746.0", empty cell when unknown
    assert ".0;" not in csv


def test_french_numbers_in_csv_tables_and_charts() -> None:
    df = pd.DataFrame({"Opérateur": ["A", "B"], "Taux": [62.59, 2.5], "Entrants": [1234567.0, None]})
    assert explorer.to_csv(df).decode("utf-8-sig").splitlines() == [
        "Opérateur;Taux;Entrants",
        "A;62,59;1234567",
        "B;2,5;",
    ]
    nbsp = explorer.THOUSANDS
    assert explorer.french_number(1234567) == f"1{nbsp}234{nbsp}567"
    assert explorer.french_number(62.59) == "62,59" and explorer.french_number(2.5) == "2,5"
    assert explorer.french_number(None) == "" and explorer.french_number(float("nan")) == ""
    html = explorer.styled(df).to_html()
    assert f"1{nbsp}234{nbsp}567" in html and "62,59" in html and "1234567.0" not in html
    spec = explorer.bar_chart(explorer.chart_data(_comparison(), "entrants", "occitanie"), "Entrants").to_dict()
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert spec["config"]["locale"]["number"]["thousands"] == nbsp
    assert spec["encoding"]["x"]["title"] == "Entrants" and spec["encoding"]["y"]["title"] is None


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
    # the label search ignores accents and case: "entrees" finds "entrées", "pole" finds "Pôle"
    assert list(explorer.facts_table(facts, {}, names, text="entrees")["Valeur"]) == ["12 345"]
    assert list(explorer.facts_table(facts, {}, names, text="  POLE   emploi ")["Valeur"]) == ["12 345"]
    assert explorer.scope_choices(facts) == ["occitanie", "national", "other"]


# --- routing form ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [(None, None), ("", None), (45, 45), (45.0, 45), ("26", 26), (14, 14), (80, 80)],
)
def test_parse_age(typed: object, expected: int | None) -> None:
    assert parse_age(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (120, "entre 14 et 80 ans"),
        (-3, "entre 14 et 80 ans"),
        (13, "entre 14 et 80 ans"),
        (45.5, "nombre entier"),
        ("quarante", "nombre entier"),
    ],
)
def test_parse_age_refuses_in_french(typed: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_age(typed)


class RulesRouter:
    """A router whose rules send ages up to 25 to the Missions locales (as routing_rules.toml does)."""

    class table:
        rules = (
            type("Rule", (), {"primary": "mission_locale", "when": (type("C", (), {"field": "age", "hi": 25})(),)})(),
            type("Rule", (), {"primary": "apec", "when": ()})(),
        )


def test_routing_form_notes_inconsistencies_in_french() -> None:
    old_student = Situation(status="etudiant", age=79, current_operator="mission_locale")
    [note] = inconsistencies(old_student, RulesRouter())
    assert "79 ans, étudiant·e," in note and "Mission locale" in note and "moins de 26 ans" in note
    assert inconsistencies(Situation(status="etudiant", age=22, current_operator="mission_locale"), RulesRouter()) == []
    assert inconsistencies(Situation(age=79, current_operator="mission_locale"), None) == []  # no rule, no claim
    [note] = inconsistencies(Situation(disability=False, disability_impact=True))
    assert "handicap" in note


def test_age_limit_comes_from_the_routing_rules() -> None:
    from assistant.app.routing_form import age_limit
    from assistant.routing import Router
    from ingest.corpus import load_corpus

    router = Router.load(KNOWLEDGE_DIR, load_corpus(KNOWLEDGE_DIR / "documents"))
    assert age_limit(router, "mission_locale") == 25


# --- kiosk -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_in_router():
    from assistant.routing import Router
    from ingest.corpus import load_corpus

    corpus = load_corpus(KNOWLEDGE_DIR / "documents")
    return Router.load(KNOWLEDGE_DIR, corpus), corpus


def test_kiosk_buttons_and_questions_are_data() -> None:
    from assistant.app.kiosk import load_kiosk

    data = load_kiosk(KNOWLEDGE_DIR)
    assert [b.label for b in data.buttons] == [
        "Je suis salarié·e",
        "Je cherche un emploi",
        "J'ai moins de 26 ans",
        "Je suis en situation de handicap",
    ]
    assert data.choices["handicap_travail"].question == "Votre handicap a-t-il des conséquences sur votre travail ?"
    assert data.choices["emploi_jeune"].question == "Avez-vous un emploi ?"
    assert [f.label for f in data.faqs] == ["Qu'est-ce que le CEP ?", "C'est combien ?", "Est-ce confidentiel ?"]


def test_every_kiosk_path_ends_on_an_operator_the_rules_name(built_in_router) -> None:
    from assistant.app.kiosk import check_paths, load_kiosk, outcome, paths

    router, _ = built_in_router
    data = load_kiosk(KNOWLEDGE_DIR)
    assert check_paths(data, router) == []
    first = {step.path: outcome(router, step).operators[0].id for b in data.buttons for step in paths(data, b.id)}
    assert first[("J'ai moins de 26 ans", "Avez-vous un emploi ? Non, je cherche un emploi")] == "mission_locale"
    assert first[("J'ai moins de 26 ans", "Avez-vous un emploi ? Oui, je suis salarié·e", "Êtes-vous cadre ? Non")] == (
        "reseau_eva"
    )
    assert first[
        ("J'ai moins de 26 ans", "Avez-vous un emploi ? Oui, je suis salarié·e", "Êtes-vous cadre ? Oui, je suis cadre")
    ] == ("apec")
    handicap = [k for k in first if k[0] == "Je suis en situation de handicap"]
    impact_employee = next(k for k in handicap if "travail ? Oui" in k[1] and "salarié" in k[2])
    assert first[impact_employee] == "cap_emploi"


def test_kiosk_frequent_questions_quote_the_documents(built_in_router) -> None:
    from assistant.app.kiosk import Kiosk

    _, corpus = built_in_router
    kiosk = Kiosk.load(KNOWLEDGE_DIR, corpus)
    assert kiosk.problems == []
    price = kiosk.faq_answer("prix")
    assert price.text == "Le conseil en évolution professionnelle est un service gratuit. Vous n'avez rien à payer."
    [c] = price.citations
    assert (c.document, c.lines, c.page) == ("rapport-annuel-cep-occitanie-2021.txt", [394, 394], 16)
    assert render.plain_source(c) == "Rapport annuel 2021 — Suivi de la mise en œuvre du CEP en Occitanie, page 16"
    definition = kiosk.faq_answer("definition")
    assert "gratuit, confidentiel et personnalisé" in definition.text
    for typed in ("c'est combien ?", "C’est combien", "cest combien", "ça coûte combien ?", "Le CEP est-il gratuit ?"):
        assert kiosk.match(typed).id == "prix", typed
    assert kiosk.match("Qu'est-ce que le CEP ?").id == "definition"
    for other in ("c'est combien de conseillers en Occitanie ?", "qui est le CEP", "Je suis cadre", ""):
        assert kiosk.match(other) is None, other


def test_kiosk_quotes_are_checked_against_the_corpus(tmp_path: Path, built_in_router) -> None:
    from assistant.app.kiosk import Kiosk, load_kiosk, locate
    from assistant.errors import KnowledgeError

    _, corpus = built_in_router
    (tmp_path / "kiosk.toml").write_text(
        '[[faq]]\nid = "x"\nlabel = "X ?"\nquote = "Le CEP coûte 500 euros."\n', encoding="utf-8"
    )
    kiosk = Kiosk.load(tmp_path, corpus)
    assert kiosk.faq_answer("x") is None and "citation introuvable" in kiosk.problems[0]
    with pytest.raises(KnowledgeError, match="citation introuvable"):
        locate(corpus, "Le CEP coûte 500 euros.")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "kiosk.toml").write_text(
        '[[button]]\nid = "a"\nlabel = "A"\nnext = "nulle_part"\n', encoding="utf-8"
    )
    with pytest.raises(KnowledgeError, match="choix suivant inconnu « nulle_part »"):
        load_kiosk(tmp_path / "bad")


def test_kiosk_cards_show_contacts_without_line_numbers_and_no_operator_to_contact_before_the_rules_decide(
    built_in_router,
) -> None:
    from assistant.operators import load_operators

    router, corpus = built_in_router
    operators = load_operators(KNOWLEDGE_DIR)
    decided = router.route_fields(status="salarie_prive", cadre=False)
    [card] = render.kiosk_cards(decided, operators, corpus)[:1]
    assert card.role == "Opérateur à contacter"
    text = " ".join(card.contacts + card.sources)
    assert "09 72 01 02 03" in text.replace("\\", "")
    assert "l\\." not in text and "source" not in text.lower()
    assert any("page" in s for s in card.sources)
    undecided = router.route_fields(disability=True)
    assert undecided.intent == "clarify"
    assert {c.role for c in render.kiosk_cards(undecided, operators, corpus)} == {render.UNDECIDED_LABEL}
