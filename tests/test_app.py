"""The Streamlit app driven headless by AppTest, on a copy of the corpus with the fake encoder.

Every test also checks that the source tree is left as it was (``git status`` stays clean).
"""

from __future__ import annotations

import re
import shutil
import subprocess
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


def _source_tree_state() -> str:
    """What git sees of the source tree: tracked changes and untracked files (not ignored)."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "knowledge", ".gitignore"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout


@pytest.fixture()
def env(app_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CEP_CORPUS_DIR", str(app_dirs["corpus"]))
    monkeypatch.setenv("CEP_INDEX_DIR", str(app_dirs["index"]))
    monkeypatch.setenv("CEP_DATA_DIR", str(app_dirs["data"]))
    monkeypatch.setenv("CEP_MODEL", "hash-fake")
    for name in ("CEP_KIOSK", "CEP_ADMIN_PASSWORD", "CEP_FEEDBACK_KEEP_QUESTION", "CEP_LOG_QUESTIONS"):
        monkeypatch.delenv(name, raising=False)
    before = _source_tree_state()
    yield monkeypatch
    assert _source_tree_state() == before, "the app wrote into the source tree"


def login(at: AppTest, password: str = "pw") -> AppTest:
    at.text_input(key="admin-attempt").input(password)
    next(b for b in at.button if b.label == "Se connecter").click().run()
    assert not at.exception, at.exception
    return at


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
    env.setenv("CEP_ADMIN_PASSWORD", "pw")
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
    assert not at.dataframe, "the reviews are behind the staff login"
    login(at)
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
    ({"kiosk": "1", "admin": "1", "page": DOCUMENTS}, {}, {"page": DOCUMENTS, "staff-ok": True}),
    ({"kiosk": "0"}, {"CEP_KIOSK": "1", "CEP_ADMIN_PASSWORD": "pw"}, {"page": DOCUMENTS, "staff-ok": True}),
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
    at.button(key="kiosk-question-1").click().run()  # "C'est combien ?"
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
    assert not at.dataframe and not at.table  # no feedback review, no document list
    assert not at.get("feedback")
    page = texts(at)
    for forbidden in ("Documents du corpus", "Avis des utilisateurs", "Mot de passe", "administration"):
        assert forbidden not in page


def test_staff_pages_disabled_without_password(env: pytest.MonkeyPatch) -> None:
    for page in (DOCUMENTS, REVIEW):
        at = start(page)
        assert "pages de l'équipe (documents, avis) sont désactivées" in texts(at)
        assert not at.get("file_uploader") and not at.text_input and not at.dataframe and not at.table


def test_admin_refuses_a_wrong_password_then_accepts_the_right_one(env: pytest.MonkeyPatch) -> None:
    env.setenv("CEP_ADMIN_PASSWORD", "bon-mot-de-passe")
    at = start(DOCUMENTS)
    assert not at.get("file_uploader")
    login(at, "mauvais")
    assert at.error[0].value == "Mot de passe incorrect."
    assert not at.get("file_uploader")
    login(at, "bon-mot-de-passe")
    assert at.get("file_uploader")
    table = at.table[0].value
    assert "rapport-annuel-cep-occitanie-2021.txt" in list(table["Fichier"])
    assert set(table["Origine"]) == {"intégré"}
    at.sidebar.radio[0].set_value(REVIEW).run()  # the same login opens the other staff page
    assert not [t for t in at.text_input if t.type == "password"]
    assert "Aucun avis" in texts(at) or at.dataframe


def test_five_wrong_passwords_lock_that_session_only(env: pytest.MonkeyPatch, app_dirs: dict[str, Path]) -> None:
    env.setenv("CEP_ADMIN_PASSWORD", "pw")
    attacker = start(DOCUMENTS)
    for _ in range(5):
        login(attacker, "devine")
    login(attacker, "pw")
    assert "réessayez dans" in attacker.error[0].value and not attacker.get("file_uploader")
    admin = start(DOCUMENTS)  # another session: the right password opens the page
    login(admin, "pw")
    assert admin.get("file_uploader")
    audit_log = (app_dirs["data"] / "audit.log").read_text(encoding="utf-8")
    assert "connexion refusée" in audit_log and "connexion bloquée" in audit_log and "\tconnexion\t" in audit_log
    assert "devine" not in audit_log


BEES = "Les abeilles\n\nLes abeilles butinent les fleurs de lavande et produisent un miel parfumé.\n"


def test_admin_adds_a_document_answerable_at_once_then_removes_it(
    env: pytest.MonkeyPatch, corpus_dir: Path, tmp_path: Path
) -> None:
    env.setenv("CEP_CORPUS_DIR", str(corpus_dir))  # a corpus and data of its own: this test changes them
    env.setenv("CEP_INDEX_DIR", str(tmp_path / "index-admin"))
    env.setenv("CEP_DATA_DIR", str(tmp_path / "data-admin"))
    env.setenv("CEP_ADMIN_PASSWORD", "pw")
    built_in = sorted(p.name for p in corpus_dir.iterdir())
    at = login(start(DOCUMENTS))

    # a refused file: the reason is shown at once, beside the picker, which keeps the file
    at.get("file_uploader")[0].set_value(("virus.exe", b"MZ\x00", "application/octet-stream")).run()
    assert not at.exception
    assert "virus.exe" in plain(at.error[0].value) and "non pris en charge" in at.error[0].value
    assert at.button(key="upload-add").disabled
    at.get("file_uploader")[0].set_value(("....pdf", b"%PDF-1.4", "application/pdf")).run()
    assert "n'a pas de nom avant l'extension" in plain(at.error[0].value)

    at.get("file_uploader")[0].set_value(("../../abeilles.txt", BEES.encode(), "text/plain")).run()
    assert not at.error
    at.text_input(key="upload-title-0").input("Note sur les abeilles")
    at.button(key="upload-add").click().run()
    assert not at.exception, at.exception
    assert "abeilles.txt" in plain(at.success[0].value) and "interrogeable" in at.success[0].value
    assert (tmp_path / "data-admin" / "documents" / "abeilles.txt").exists()
    assert sorted(p.name for p in corpus_dir.iterdir()) == built_in  # nothing written in the built-in corpus
    table = at.table[0].value
    assert dict(zip(table["Fichier"], table["Origine"], strict=True))["abeilles.txt"] == "ajouté"
    assert list(table.columns) == ["Titre", "Fichier", "Origine", "Éditeur", "Année", "Taille", "Passages"]

    at.sidebar.radio[0].set_value(CHAT).run()
    at.chat_input[0].set_value("Que produisent les abeilles ?").run()
    assert "Note sur les abeilles" in at.expander[0].markdown[0].value

    at.sidebar.radio[0].set_value(DOCUMENTS).run()
    at.selectbox(key="remove-name").set_value("abeilles.txt")
    at.checkbox(key="remove-confirm").check()
    next(b for b in at.button if b.label == "Retirer").click().run()
    assert not at.exception
    assert "retiré" in at.success[0].value
    assert not (tmp_path / "data-admin" / "documents" / "abeilles.txt").exists()

    # a built-in document is hidden, not deleted, and can be put back
    at.selectbox(key="remove-name").set_value("enquete-jardins.txt")
    at.checkbox(key="remove-confirm").check()
    next(b for b in at.button if b.label == "Retirer").click().run()
    assert "Document intégré" in at.success[0].value
    assert sorted(p.name for p in corpus_dir.iterdir()) == built_in
    assert "enquete-jardins.txt" not in list(at.table[0].value["Fichier"])
    at.selectbox(key="restore-name").set_value("enquete-jardins.txt")
    next(b for b in at.button if b.label == "Rétablir").click().run()
    assert "rétabli" in at.success[0].value
    assert "enquete-jardins.txt" in list(at.table[0].value["Fichier"])
    audit_log = (tmp_path / "data-admin" / "audit.log").read_text(encoding="utf-8")
    for action in ("document ajouté\tabeilles.txt", "document ajouté retiré\tabeilles.txt", "document intégré retiré"):
        assert action in audit_log
    assert "Note sur les abeilles" not in audit_log  # no user text


# --- kiosk: situation buttons, choices, frequent questions -----------------------------------------


def kiosk() -> AppTest:
    at = start(kiosk="1")
    _assert_kiosk(at)
    return at


def press(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def rules_operator(button: str, choices: list[str]) -> str:
    """The first operator the routing engine names for the facts a kiosk path gathers."""
    from assistant.app.kiosk import choose, load_kiosk, question_of, start
    from assistant.routing import Router
    from ingest.corpus import load_corpus

    data = load_kiosk(KNOWLEDGE_DIR)
    step = start(data, next(b.id for b in data.buttons if b.label == button))
    for label in choices:
        options = [o.label for o in question_of(data, step).options]
        step = choose(data, step, options.index(label))
    router = Router.load(KNOWLEDGE_DIR, load_corpus(KNOWLEDGE_DIR / "documents"))
    return router.route_fields(**step.fact_dict()).operators[0].name


def pending_question(at: AppTest) -> str:
    return plain(at.subheader[0].value)


def first_card(at: AppTest) -> tuple[str, str]:
    """The first operator card of the last answer: (name, role)."""
    answer = at.chat_message[-1]
    names = [m.value.removeprefix("#### ") for m in answer.markdown if m.value.startswith("#### ")]
    roles = [c.value for c in answer.caption if c.value in ("Opérateur à contacter", "Autre possibilité")]
    return names[0], roles[0]


@pytest.mark.parametrize(
    ("button", "question"),
    [
        ("Je suis salarié·e", "Êtes-vous cadre ?"),
        ("Je cherche un emploi", "Avez-vous moins de 26 ans ?"),
        ("J'ai moins de 26 ans", "Avez-vous un emploi ?"),
        ("Je suis en situation de handicap", "Votre handicap a-t-il des conséquences sur votre travail ?"),
    ],
)
def test_each_kiosk_button_asks_its_short_question(env: pytest.MonkeyPatch, button: str, question: str) -> None:
    at = press(kiosk(), button)
    assert pending_question(at) == question
    assert not at.chat_message  # no operator before the choice
    _assert_kiosk(at)


@pytest.mark.parametrize(
    ("button", "choices", "operator"),
    [
        ("Je suis salarié·e", ["Non"], "Réseau EVA"),
        ("Je suis salarié·e", ["Oui, je suis cadre"], "APEC"),
        ("Je cherche un emploi", ["Oui"], "Missions Locales"),
        ("Je cherche un emploi", ["Non, 26 ans ou plus"], "Pôle emploi"),
        ("J'ai moins de 26 ans", ["Non, je cherche un emploi"], "Missions Locales"),
        ("J'ai moins de 26 ans", ["Oui, je suis salarié·e", "Non"], "Réseau EVA"),
        ("J'ai moins de 26 ans", ["Oui, je suis salarié·e", "Oui, je suis cadre"], "APEC"),
        ("Je suis en situation de handicap", ["Oui", "Oui, je suis salarié·e"], "Cap emploi"),
        ("Je suis en situation de handicap", ["Non", "Oui, je suis salarié·e"], "Réseau EVA"),
        # a disabled job seeker: Pôle emploi's single place (LUA) or Cap emploi, as the rules say
        ("Je suis en situation de handicap", ["Oui", "Non, je cherche un emploi"], None),
        ("Je suis en situation de handicap", ["Non", "Non, je cherche un emploi"], None),
    ],
)
def test_kiosk_button_choices_lead_to_the_operator_of_the_rules(
    env: pytest.MonkeyPatch, button: str, choices: list[str], operator: str | None
) -> None:
    if operator is None:
        operator = rules_operator(button, choices)
    at = press(kiosk(), button)
    if button == "J'ai moins de 26 ans" and choices[0].startswith("Oui"):
        press(at, choices[0])
        assert pending_question(at) == "Êtes-vous cadre ?"
        choices = choices[1:]
    for label in choices:
        press(at, label)
    name, role = first_card(at)
    assert (plain(name), role) == (operator, "Opérateur à contacter")
    answer = at.chat_message[-1]
    contact = "\n".join(m.value for m in answer.markdown)
    assert "Comment le joindre" in contact
    assert not re.search(r"\bl\. ?\d", plain(contact)) and "source :" not in contact  # no "l. 402" for a visitor
    assert any(e.label == "D'où viennent ces informations ?" for e in answer.expander)
    assert at.button(key="kiosk-reset")
    _assert_kiosk(at)


def test_kiosk_frequent_questions_quote_the_documents(env: pytest.MonkeyPatch) -> None:
    at = press(kiosk(), "Qu'est-ce que le CEP ?")
    answer = at.chat_message[-1]
    assert "gratuit, confidentiel et personnalisé" in plain(answer.markdown[0].value)
    sources = next(e for e in answer.expander if e.label == "D'où vient cette réponse ?")
    assert "Rapport annuel 2021" in plain(sources.markdown[0].value)
    at.chat_input[0].set_value("c'est combien ?").run()
    answer = at.chat_message[-1]
    assert plain(answer.markdown[0].value) == (
        "Le conseil en évolution professionnelle est un service gratuit. Vous n'avez rien à payer."
    )
    assert "page 16" in plain(answer.expander[0].markdown[0].value)
    assert not re.search(r"\bl\. ?\d", plain("\n".join(m.value for m in answer.markdown)))


def test_kiosk_reset_clears_answers_choice_and_draft(env: pytest.MonkeyPatch) -> None:
    at = press(kiosk(), "Je suis en situation de handicap")
    at.chat_input[0].set_value("c'est combien ?").run()
    first_key = at.chat_input[0].key
    press(at, "Recommencer")
    assert not at.chat_message and at.subheader[0].value == "Votre situation"
    assert at.chat_input[0].key != first_key  # a new, empty text box


# --- routing form, figures ----------------------------------------------------------------------------


def test_routing_form_checks_the_age_and_notes_inconsistencies_in_french(env: pytest.MonkeyPatch) -> None:
    at = start(ROUTING)
    at.number_input(key="f-age").set_value(120)
    at.button[0].click().run()
    assert not at.exception
    assert at.error[0].value == "L'âge doit être compris entre 14 et 80 ans (vous avez saisi 120)."
    at.selectbox(key="f-status").set_value("etudiant")
    at.number_input(key="f-age").set_value(79)
    at.selectbox(key="f-current").set_value("mission_locale")
    at.button[0].click().run()
    assert not at.exception and not at.error
    notes = [plain(w.value) for w in at.warning if w.value.startswith("Incohérence")]
    assert len(notes) == 1 and "79 ans" in notes[0] and "moins de 26 ans" in notes[0]


def test_figures_search_ignores_accents_and_counts_are_whole(env: pytest.MonkeyPatch) -> None:
    at = start(FIGURES)
    at.text_input(key="fig-text").input("entrees").run()
    without = len(at.dataframe[1].value)
    at.text_input(key="fig-text").input("entrées").run()
    assert without == len(at.dataframe[1].value) > 0
    comparison = at.dataframe[0].value
    assert str(comparison["Entrants"].dtype) == "Int64"  # no "97746.0" anywhere it is shown or exported
