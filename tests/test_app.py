"""The Streamlit app driven headless by AppTest, on a copy of the corpus with the fake encoder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.app.session import CHAT, DOCUMENTS, FIGURES, REVIEW, ROUTING
from assistant.settings import KNOWLEDGE_DIR, PROJECT_ROOT

APP = str(PROJECT_ROOT / "streamlit_app.py")


@pytest.fixture(scope="module")
def app_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of the built-in corpus and an index folder shared by the module (built once)."""
    root = tmp_path_factory.mktemp("app")
    corpus = root / "documents"
    shutil.copytree(KNOWLEDGE_DIR / "documents", corpus)
    return {"corpus": corpus, "index": root / "index", "data": root / "data"}


@pytest.fixture()
def env(app_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("CEP_CORPUS_DIR", str(app_dirs["corpus"]))
    monkeypatch.setenv("CEP_INDEX_DIR", str(app_dirs["index"]))
    monkeypatch.setenv("CEP_DATA_DIR", str(app_dirs["data"]))
    monkeypatch.setenv("CEP_MODEL", "hash-fake")
    for name in ("CEP_KIOSK", "CEP_ADMIN_PASSWORD", "CEP_FEEDBACK_KEEP_QUESTION", "CEP_LOG_QUESTIONS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def start(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    if page is not None:
        at.sidebar.radio[0].set_value(page).run()
        assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything readable on the page, for assertions."""
    parts = [e.value for e in (*at.title, *at.markdown, *at.caption, *at.info, *at.warning, *at.error, *at.success)]
    parts += [e.label for e in (*at.expander, *at.button)]
    return "\n".join(str(p) for p in parts)


def plain(markdown: str) -> str:
    """Escaped markdown back to its text."""
    return markdown.replace("\\", "")


def test_chat_answers_with_sources_and_feedback(env: pytest.MonkeyPatch, app_dirs: dict[str, Path]) -> None:
    at = start()
    assert at.title[0].value == "Assistant CEP"
    assert len(at.button) >= 4  # suggested questions on an empty chat
    at.chat_input[0].set_value("Combien d'entrées en CEP pour l'APEC en Occitanie en 2021 ?").run()
    assert not at.exception
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    sources = at.expander[0]
    assert sources.label.startswith("Sources (")
    source_md = "\n".join(m.value for m in sources.markdown)
    assert "Rapport annuel 2021 — Suivi de la mise en œuvre du CEP en Occitanie" in source_md
    assert ":orange-background[" in source_md  # the answering sentence is highlighted
    assert len(at.get("feedback")) == 1

    # thumbs up is stored (answer id, intent, rating), not the question
    at.get("feedback")[0].set_value(1).run()
    assert not at.exception
    at.sidebar.radio[0].set_value(REVIEW).run()
    assert not at.exception
    assert "Aucun avis" not in texts(at)
    assert "Question" not in at.dataframe[0].value.columns


def test_suggested_question_button_and_injection_shown_as_text(env: pytest.MonkeyPatch) -> None:
    at = start()
    at.button[0].click().run()
    assert not at.exception
    assert len(at.chat_message) == 2
    at.chat_input[0].set_value("<script>alert(1)</script> ![x](http://evil.example/x.png)").run()
    assert not at.exception
    user = at.chat_message[2].markdown[0].value
    assert user == (
        "\\<script\\>alert\\(1\\)\\<\\/script\\> \\!\\[x\\]\\(http\u2060\\:\\/\\/evil\\.example\\/x\\.png\\)"
    )


@pytest.mark.parametrize("question", ["", "   ", "🙂🙂🙂", "x" * 20_000])
def test_bad_questions_get_a_french_message(env: pytest.MonkeyPatch, question: str) -> None:
    at = start()
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    if question:  # an empty chat input sends nothing
        assert at.chat_message[1].info, "a French message is shown"


def test_routing_form_gives_an_answer_and_a_summary(env: pytest.MonkeyPatch) -> None:
    at = start(ROUTING)
    assert at.title[0].value == "Orienter un appelant"
    assert "Remplissez le formulaire" in texts(at)
    at.selectbox(key="f-status").set_value("salarie_prive")
    at.number_input(key="f-age").set_value(45)
    at.radio(key="f-cadre").set_value(True)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert at.subheader[0].value == "Orientation"
    summary = at.code[0].value
    assert "- Statut : Salarié·e du secteur privé" in summary
    assert "- Âge : 45 ans" in summary and "- Cadre : oui" in summary
    assert len(at.get("download_button")) == 2
    cards = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert cards[0] == "#### APEC"  # the routing engine's operator card
    assert "APEC" in summary


def test_chat_routing_answer_shows_operator_cards_and_the_question_to_ask(env: pytest.MonkeyPatch) -> None:
    at = start()
    at.chat_input[0].set_value("Je suis demandeur d'emploi, qui peut m'accompagner ?").run()
    assert not at.exception
    answer = at.chat_message[1]
    assert [m.value for m in answer.markdown if m.value.startswith("#### ")], "operator cards"
    assert any("Question à poser" in w.value for w in answer.warning)


def test_figures_page_compares_operators_with_sources(env: pytest.MonkeyPatch) -> None:
    at = start(FIGURES)
    assert at.title[0].value == "Chiffres"
    comparison = at.dataframe[0].value
    assert set(comparison["Périmètre"]) == {"Occitanie", "France"}
    assert set(comparison["Année"]) == {2021}
    row = comparison[(comparison["Opérateur"] == "APEC") & (comparison["Périmètre"] == "Occitanie")].iloc[0]
    assert row["Entrants"] == 6158 and "Rapport annuel 2021" in row["Source"] and "l. " in row["Source"]
    facts = at.dataframe[1].value
    assert {"Valeur", "Document", "Lignes", "Phrase source"} <= set(facts.columns)
    n = len(facts)
    at.multiselect(key="fig-ops").set_value(["apec"]).run()
    filtered = at.dataframe[1].value
    assert 0 < len(filtered) < n and set(filtered["Opérateur"]) == {"APEC"}
    assert len(at.get("download_button")) >= 2  # comparison and facts as CSV


KIOSK_CASES = [
    ({"kiosk": "1"}, {}, {}),
    ({"kiosk": "1", "admin": "1", "page": DOCUMENTS}, {}, {"page": DOCUMENTS, "admin-ok": True}),
    ({"kiosk": "0"}, {"CEP_KIOSK": "1", "CEP_ADMIN_PASSWORD": "pw"}, {"page": DOCUMENTS, "admin-ok": True}),
    ({}, {"CEP_KIOSK": "true", "CEP_ADMIN_PASSWORD": "pw"}, {"page": REVIEW}),
]


@pytest.mark.parametrize(("params", "environ", "state"), KIOSK_CASES)
def test_kiosk_never_shows_admin_upload_review_or_settings(
    env: pytest.MonkeyPatch, params: dict, environ: dict, state: dict
) -> None:
    for k, v in environ.items():
        env.setenv(k, v)
    at = AppTest.from_file(APP, default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception
    _assert_kiosk(at)
    at.button(key="kiosk-situation-0").click().run()  # "Je suis salarié·e"
    assert not at.exception
    assert len(at.chat_message) == 2
    _assert_kiosk(at)
    at.button(key="kiosk-reset").click().run()
    assert not at.chat_message
    _assert_kiosk(at)


def _assert_kiosk(at: AppTest) -> None:
    assert at.title[0].value == "Votre avenir professionnel : posez votre question"
    assert {b.label for b in at.button} >= {
        "Je suis salarié·e",
        "Je cherche un emploi",
        "J'ai moins de 26 ans",
        "Je suis en situation de handicap",
    }
    assert not at.sidebar.radio and not at.sidebar.markdown  # no navigation to other pages
    assert not at.get("file_uploader")
    assert not [t for t in at.text_input if t.type == "password"]
    assert not at.dataframe  # no feedback review, no document list
    assert not at.get("feedback")
    page = texts(at)
    for forbidden in ("Documents du corpus", "Avis des utilisateurs", "Mot de passe", "administration"):
        assert forbidden not in page


def test_admin_disabled_without_password(env: pytest.MonkeyPatch) -> None:
    at = start(DOCUMENTS)
    assert "administration des documents est désactivée" in texts(at)
    assert not at.get("file_uploader") and not at.text_input


def test_admin_refuses_a_wrong_password_then_accepts_the_right_one(env: pytest.MonkeyPatch) -> None:
    env.setenv("CEP_ADMIN_PASSWORD", "bon-mot-de-passe")
    at = start(DOCUMENTS)
    assert not at.get("file_uploader")
    at.text_input[0].input("mauvais")
    at.button[0].click().run()
    assert not at.exception
    assert at.error[0].value == "Mot de passe incorrect."
    assert not at.get("file_uploader")
    at.text_input[0].input("bon-mot-de-passe")
    at.button[0].click().run()
    assert not at.exception
    assert at.get("file_uploader")
    names = list(at.dataframe[0].value["Fichier"])
    assert "rapport-annuel-cep-occitanie-2021.txt" in names


BEES = "Les abeilles\n\nLes abeilles butinent les fleurs de lavande et produisent un miel parfumé.\n"


def test_admin_adds_a_document_answerable_at_once_then_removes_it(
    env: pytest.MonkeyPatch, corpus_dir: Path, tmp_path: Path
) -> None:
    env.setenv("CEP_CORPUS_DIR", str(corpus_dir))  # a corpus of its own: this test changes it
    env.setenv("CEP_INDEX_DIR", str(tmp_path / "index-admin"))
    env.setenv("CEP_ADMIN_PASSWORD", "pw")
    at = start(DOCUMENTS)
    at.text_input[0].input("pw")
    at.button[0].click().run()

    at.get("file_uploader")[0].set_value(("virus.exe", b"MZ\x00", "application/octet-stream"))
    next(b for b in at.button if b.label == "Ajouter et indexer").click().run()
    assert not at.exception
    assert "virus.exe" in plain(at.error[0].value) and "non pris en charge" in at.error[0].value
    assert not (corpus_dir / "virus.exe").exists()

    at.get("file_uploader")[0].set_value(("../../abeilles.txt", BEES.encode(), "text/plain"))
    at.text_input(key="upload-title").input("Note sur les abeilles")
    next(b for b in at.button if b.label == "Ajouter et indexer").click().run()
    assert not at.exception, at.exception
    assert "abeilles.txt" in plain(at.success[0].value) and "interrogeable" in at.success[0].value
    assert (corpus_dir / "abeilles.txt").exists()
    assert "abeilles.txt" in list(at.dataframe[0].value["Fichier"])

    at.sidebar.radio[0].set_value(CHAT).run()
    at.chat_input[0].set_value("Que produisent les abeilles ?").run()
    assert "Note sur les abeilles" in at.expander[0].markdown[0].value

    at.sidebar.radio[0].set_value(DOCUMENTS).run()
    at.selectbox(key="remove-name").set_value("abeilles.txt")
    at.checkbox(key="remove-confirm").check()
    next(b for b in at.button if b.label == "Retirer").click().run()
    assert not at.exception
    assert "retiré" in at.success[0].value
    assert not (corpus_dir / "abeilles.txt").exists()
