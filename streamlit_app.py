"""Assistant CEP: the Streamlit shell. Page layout and rendering only; the logic lives in assistant/app.

Run: ``streamlit run streamlit_app.py`` (kiosk: add ``?kiosk=1`` to the address, or set CEP_KIOSK=1).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import streamlit as st

from assistant.app import explorer, render
from assistant.app.admin import DISABLED_MESSAGE, AdminGate, LoginThrottle, resolve_password
from assistant.app.documents import add_document, list_documents, remove_document
from assistant.app.feedback import FeedbackStore
from assistant.app.routing_form import CURRENT_OPERATORS, DIPLOMAS, STATUSES, Situation, route
from assistant.app.service import AssistantHolder
from assistant.app.session import (
    CHAT,
    DOCUMENTS,
    FIGURES,
    KIOSK_QUESTIONS,
    KIOSK_SITUATIONS,
    PAGES,
    REVIEW,
    ROUTING,
    SUGGESTED_QUESTIONS,
    Turn,
    idle_check_every,
    idle_seconds,
    is_idle,
    kiosk_mode,
    new_answer_id,
)
from assistant.errors import CepError
from assistant.operators import load_operators
from assistant.pipeline import Assistant
from assistant.records import Answer
from assistant.settings import Settings

log = logging.getLogger("cep.app")

UNEXPECTED = "Une erreur inattendue est survenue. Réessayez ; si elle persiste, prévenez l'équipe technique."
SHOWN_QUESTION_CHARS = 600

KIOSK_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"], [data-testid="stMain"] { background: #ffffff; color: #000000; }
[data-testid="stAppViewContainer"] p, [data-testid="stAppViewContainer"] li { font-size: 1.45rem; line-height: 1.5; }
h1 { font-size: 2.6rem !important; color: #00205b !important; }
h2, h3 { color: #00205b !important; }
.stButton button { font-size: 1.35rem; min-height: 3.6rem; width: 100%; border: 3px solid #00205b;
  background: #ffffff; color: #00205b; font-weight: 700; }
.stButton button:hover { background: #e6ecf7; color: #00205b; }
.stButton button:active { background: #00205b; color: #ffffff; }
.stButton button[kind="primary"] { background: #00205b; color: #ffffff; }
[data-testid="stChatInput"] textarea { font-size: 1.4rem; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"],
[data-testid="stMainMenu"], [data-testid="stHeader"], footer { display: none !important; }
</style>
"""


# --- resources shared by every session ---------------------------------------------------------


@st.cache_resource(show_spinner=False)
def holder_for(key: str, _settings: Settings) -> AssistantHolder:
    """One loaded Assistant per corpus/index/model (key), for all sessions of this process."""
    return AssistantHolder(_settings)


@st.cache_resource(show_spinner=False)
def login_throttle() -> LoginThrottle:
    return LoginThrottle()


def settings_key(settings: Settings) -> str:
    return f"{settings.corpus_dir}|{settings.index_dir}|{settings.knowledge_dir}|{settings.model_name}"


def optional_select(label: str, choices: tuple[tuple[str, str], ...], key: str) -> str | None:
    """A select box of (value, label) choices with a first "Non renseigné" (None) option."""
    return st.selectbox(
        label,
        (None, *(v for v, _ in choices)),
        key=key,
        format_func=lambda v: "Non renseigné" if v is None else dict(choices)[v],
    )


def ready_assistant(holder: AssistantHolder) -> Assistant:
    """The Assistant; on first start, loads it (building the index if needed) with a visible progress."""
    if holder.ready:
        return holder.get()
    with st.status("Préparation de l'assistant…", expanded=True) as status:
        st.write(
            "Premier démarrage : lecture des documents et préparation de l'index de recherche. "
            "Cela peut prendre une à deux minutes ; les démarrages suivants sont plus rapides."
        )
        bar = st.progress(0.0, text="Démarrage…")

        def progress(step: str, done: int, total: int) -> None:
            bar.progress(min(1.0, done / total) if total else 0.0, text=f"{step} — {done}/{total}")

        try:
            assistant = holder.get(progress)
        except CepError as exc:
            status.update(label="L'assistant n'a pas pu démarrer", state="error")
            st.error(str(exc))
            st.stop()
        except Exception:
            log.exception("Échec du chargement de l'assistant")
            status.update(label="L'assistant n'a pas pu démarrer", state="error")
            st.error(UNEXPECTED)
            st.stop()
        status.update(label=f"Assistant prêt ({holder.load_seconds or 0:.0f} s)", state="complete", expanded=False)
    return assistant


def operators_of(settings: Settings) -> dict[str, Any]:
    try:
        return dict(load_operators(settings.knowledge_dir))
    except CepError:
        return {}


# --- asking --------------------------------------------------------------------------------------


def ask(holder: AssistantHolder, question: str, history_key: str = "turns") -> None:
    """Answer a question and add the turn to the session's history (a callback or a direct call)."""
    settings = holder.settings
    qid = new_answer_id()
    try:
        answer = holder.get().ask(question, qid=qid)
    except Exception:
        log.exception("Échec d'une question (texte non journalisé)")
        answer = Answer(str(question), "abstain", UNEXPECTED, message=UNEXPECTED, id=qid)
    if settings.log_questions:
        log.info("Question %r -> %s (%.0f ms)", question[:500], answer.intent, answer.latency_ms)
    else:
        log.info("Question -> %s (%.0f ms)", answer.intent, answer.latency_ms)
    st.session_state.setdefault(history_key, []).append(Turn(str(question), answer, qid))


def store_feedback(store: FeedbackStore, turn: Turn, key: str) -> None:
    value = st.session_state.get(key)
    if value is None:
        return
    try:
        store.record(turn.id, turn.answer.intent, int(value), turn.question)
    except Exception:
        log.exception("Avis non enregistré")
        st.toast("Votre avis n'a pas pu être enregistré.")


# --- rendering an answer -------------------------------------------------------------------------


def show_answer(answer: Answer, operators: dict[str, Any], kiosk: bool = False) -> None:
    cards = render.operator_cards(answer.operators, operators)
    if kiosk and cards:
        # Plain words for a visitor: who can help, why, how to reach them; no advisor phrasing.
        st.markdown("### Qui peut vous accompagner ?")
        if answer.intent == "clarify":
            st.caption("Cela dépend aussi de votre situation : le conseiller vous aidera à choisir.")
    elif answer.intent in ("abstain", "clarify"):
        st.info(render.escape(answer.text))
    else:
        st.markdown(render.escape(answer.text))
    if answer.message and answer.message != answer.text:
        st.caption(render.escape(answer.message))
    if answer.figure is not None:
        f = answer.figure
        st.metric(render.inline(f.label or "Valeur", 120), f.display, help=render.figure_caption(answer) or None)
        if answer.alternatives:
            others = ", ".join(render.inline(a.display) for a in answer.alternatives)
            st.caption(f"Autres valeurs trouvées dans les documents : {others}")
    for card in cards:
        show_card(card, answer, kiosk)
    if answer.follow_up and not kiosk:
        st.warning(f"**Orientation provisoire.** Question à poser : {render.escape(answer.follow_up)}")
    show_sources(answer, kiosk)


def show_card(card: render.OperatorCard, answer: Answer, kiosk: bool) -> None:
    with st.container(border=True):
        st.markdown(f"#### {card.name}")
        st.caption(card.role)
        if kiosk or card.why_text not in answer.text:  # else the answer above already says it
            st.markdown(card.why)
        for label, lines in card.details:
            if kiosk and label != "Comment le joindre":
                continue  # plain words on a kiosk: who to contact and how
            st.markdown(f"**{render.inline(label)}**\n\n" + "\n".join(f"- {line}" for line in lines))
        if card.more and not kiosk:
            with st.expander("Services et plus d'informations"):
                for label, lines in card.more:
                    st.markdown(f"**{render.inline(label)}**\n\n" + "\n".join(f"- {line}" for line in lines))


def show_sources(answer: Answer, kiosk: bool) -> None:
    if not answer.citations:
        return
    if kiosk:
        label = "D'où vient cette réponse ?"
    elif answer.intent == "abstain":
        label = f"Passages les plus proches ({len(answer.citations)})"
    else:
        label = f"Sources ({len(answer.citations)})"
    # A quote is the answer to a passage or figure question: open. Routing shows the operators first.
    with st.expander(label, expanded=not kiosk and answer.intent in ("passage", "figure")):
        for i, c in enumerate(answer.citations, start=1):
            st.markdown(f"{i}\\. {render.citation_heading(c)}")
            with st.container(border=True, height=160 if len(c.quote) > 500 else "content"):
                st.markdown(render.quote_markdown(c))


def show_turn(turn: Turn, operators: dict[str, Any], store: FeedbackStore | None, kiosk: bool = False) -> None:
    with st.chat_message("user"):
        st.markdown(render.escape(turn.question, SHOWN_QUESTION_CHARS))
    with st.chat_message("assistant"):
        show_answer(turn.answer, operators, kiosk)
        if store is not None:
            key = f"feedback-{turn.id}"
            st.feedback("thumbs", key=key, on_change=store_feedback, args=(store, turn, key))


# --- pages ---------------------------------------------------------------------------------------


def chat_page(holder: AssistantHolder, operators: dict[str, Any], store: FeedbackStore) -> None:
    st.title("Assistant CEP")
    st.caption(
        "Posez une question sur le Conseil en évolution professionnelle : les réponses viennent des documents "
        "du corpus, avec leurs sources (document, section, page ou lignes)."
    )
    prompt = st.chat_input("Votre question sur le CEP…")
    if prompt is not None:
        ask(holder, prompt)
    turns: list[Turn] = st.session_state.setdefault("turns", [])
    if not turns:
        st.markdown("##### Exemples de questions")
        cols = st.columns(2)
        for i, q in enumerate(SUGGESTED_QUESTIONS):
            cols[i % 2].button(q, key=f"suggest-{i}", on_click=ask, args=(holder, q), width="stretch")
    for turn in turns:
        show_turn(turn, operators, store)
    if turns:
        st.button("Effacer la conversation", on_click=lambda: st.session_state.update(turns=[]))


def _tri(label: str, key: str, help: str | None = None) -> bool | None:
    return st.radio(
        label,
        (None, True, False),
        format_func=lambda v: {None: "Non renseigné", True: "Oui", False: "Non"}[v],
        horizontal=True,
        key=key,
        help=help,
    )


def routing_page(holder: AssistantHolder, operators: dict[str, Any]) -> None:
    st.title("Orienter un appelant")
    st.caption(
        "Renseignez ce que l'appelant vous a dit, laissez « Non renseigné » sinon. L'assistant indique l'opérateur "
        "du CEP, la raison tirée des documents et, si l'orientation est provisoire, la question à poser."
    )
    with st.form("routing-form"):
        c1, c2 = st.columns(2)
        with c1:
            status = optional_select("Statut", STATUSES, "f-status")
            age = st.number_input(
                "Âge", min_value=14, max_value=80, value=None, step=1, key="f-age", placeholder="Non renseigné"
            )
            diploma = optional_select("Niveau de diplôme", DIPLOMAS, "f-diploma")
            current = optional_select("Déjà suivi·e par un opérateur du CEP", CURRENT_OPERATORS, "f-current")
            registered = _tri("Inscrit·e à Pôle emploi", "f-registered")
        with c2:
            cadre = _tri("Cadre", "f-cadre")
            young = _tri("Jeune diplômé·e", "f-young")
            disability = _tri("Situation de handicap (RQTH)", "f-disability")
            impact = _tri("Le handicap pèse sur l'emploi ou le projet", "f-impact")
            inaptitude = _tri("Risque d'inaptitude au poste", "f-inaptitude")
            resigning = _tri("Projet de démission", "f-resigning")
        submitted = st.form_submit_button("Trouver l'opérateur", type="primary")
    if submitted:
        situation = Situation(
            status=status,
            age=int(age) if age is not None else None,
            cadre=cadre,
            diploma_level=diploma,
            young_graduate=young,
            disability=disability,
            disability_impact=impact,
            inaptitude_risk=inaptitude,
            current_operator=current,
            resigning=resigning,
            registered_pe=registered,
        )
        try:
            answer = route(holder.get(), situation)
        except Exception:
            log.exception("Échec de l'orientation")
            st.error(UNEXPECTED)
            return
        st.session_state["routing-result"] = (situation, answer)
    result = st.session_state.get("routing-result")
    if result is None:
        st.info("Remplissez le formulaire puis cliquez sur « Trouver l'opérateur ».")
        return
    situation, answer = result
    st.subheader("Orientation")
    show_answer(answer, operators)
    st.subheader("Résumé pour le dossier")
    st.caption("Copiez-le (icône en haut à droite du cadre) ou téléchargez-le. Il n'est enregistré nulle part.")
    text = render.routing_summary(answer, situation.lines(), markdown=False)
    st.code(text, language=None, wrap_lines=True)
    c1, c2 = st.columns(2)
    c1.download_button("Télécharger (texte)", text.encode("utf-8"), "orientation-cep.txt", "text/plain")
    c2.download_button(
        "Télécharger (Markdown)",
        render.routing_summary(answer, situation.lines()).encode("utf-8"),
        "orientation-cep.md",
        "text/markdown",
    )


def figures_page(assistant: Assistant, settings: Settings, operators: dict[str, Any]) -> None:
    st.title("Chiffres")
    st.caption("Les indicateurs cités dans les documents, chacun avec sa source. Filtrez, comparez, téléchargez.")
    tables = explorer.fact_tables(assistant)
    if tables is None:
        st.info("Les tableaux de chiffres ne sont pas encore disponibles pour ce corpus.")
        return
    titles = {name: doc.info.title for name, doc in assistant.corpus.documents.items()}
    names = {oid: getattr(op, "name", oid) for oid, op in operators.items()}
    comparison = getattr(tables, "comparison", None)
    st.subheader("Comparer les opérateurs — 2021")
    if comparison is None or comparison.empty:
        st.info("Aucune donnée de comparaison entre opérateurs dans ces documents.")
    else:
        metric = st.radio(
            "Indicateur", tuple(explorer.METRICS), format_func=explorer.METRICS.get, horizontal=True, key="metric"
        )
        cols = st.columns(2)
        for col, scope in zip(cols, explorer.CHART_SCOPES, strict=True):
            data = explorer.chart_data(comparison, metric, scope)
            with col:
                st.markdown(f"**{render.scope_label(scope)}** — {explorer.METRICS[metric].lower()} en 2021")
                if data.empty:
                    st.caption("Pas de donnée.")
                else:
                    label = explorer.METRICS[metric]
                    st.bar_chart(
                        data, x="Opérateur", y=label, x_label="", horizontal=True, sort=f"-{label}", height=260
                    )
        table = explorer.comparison_table(comparison, titles)
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button(
            "Télécharger la comparaison (CSV)",
            explorer.to_csv(table),
            "comparaison-operateurs-2021.csv",
            "text/csv",
            key="dl-comparison",
        )

    facts = getattr(tables, "facts", None)
    st.subheader("Tous les chiffres des documents")
    if facts is None or facts.empty:
        st.info("Aucun chiffre extrait des documents.")
        return
    c1, c2, c3 = st.columns([2, 2, 3])
    present = [o for o in names if o in set(facts["operator"].dropna().astype(str))]
    chosen_ops = c1.multiselect(
        "Opérateur", present, format_func=names.get, key="fig-ops", placeholder="Tous les opérateurs"
    )
    chosen_scopes = c2.multiselect(
        "Périmètre",
        explorer.scope_choices(facts),
        format_func=explorer.scope_choice_label,
        key="fig-scopes",
        placeholder="Tous les périmètres",
    )
    needle = c3.text_input("Rechercher dans les libellés", key="fig-text", placeholder="ex. entrées, satisfaction…")
    shown = explorer.facts_table(facts, titles, names, chosen_ops, chosen_scopes, needle)
    st.caption(f"{len(shown)} chiffre(s) sur {len(facts)}.")
    if shown.empty:
        st.info("Aucun chiffre ne correspond à ces filtres.")
    else:
        st.dataframe(shown, hide_index=True, width="stretch", height=360)
        st.download_button(
            "Télécharger ces chiffres (CSV)", explorer.to_csv(shown), "chiffres-cep.csv", "text/csv", key="dl-facts"
        )
    records = getattr(tables, "tables", None) or []
    if records:
        st.subheader("Tableaux des documents")
        labels = {
            i: f"{titles.get(t.document, t.document)} — l. {t.first_line}-{t.last_line}"
            + (f" — {t.section}" if t.section else "")
            for i, t in enumerate(records)
        }
        i = st.selectbox("Tableau", tuple(labels), format_func=labels.get, key="fig-table")
        record = records[i]
        if record.caption:
            st.caption(render.inline(record.caption, 300))
        st.dataframe(record.frame, hide_index=True, width="stretch")


def review_page(store: FeedbackStore, settings: Settings) -> None:
    st.title("Avis des utilisateurs")
    kept = "conservées" if settings.feedback_keep_question else "non conservées (réglage CEP_FEEDBACK_KEEP_QUESTION)"
    st.caption(
        f"Les avis (pouce levé ou baissé) donnés sur les réponses. Questions {kept} ; avis effacés après "
        f"{settings.retention_days} jours."
    )
    try:
        entries = store.entries()
    except Exception:
        log.exception("Lecture des avis impossible")
        st.error("Les avis n'ont pas pu être lus.")
        return
    if not entries:
        st.info("Aucun avis pour l'instant.")
        return
    summary = store.summary()
    cols = st.columns(max(1, len(summary)))
    for col, (intent, (up, down)) in zip(cols, sorted(summary.items()), strict=False):
        col.metric(
            render.INTENT_LABELS.get(intent, intent),
            f"{up} utile(s)",
            f"{down} pas utile(s)",
            delta_color="off",
            delta_arrow="off",
        )
    rows = [
        {
            "Date": e.created.strftime("%d/%m/%Y %H:%M"),
            "Type de réponse": render.INTENT_LABELS.get(e.intent, e.intent),
            "Avis": "utile" if e.rating == 1 else "pas utile",
            **({"Question": e.question or ""} if settings.feedback_keep_question else {}),
            "Réponse n°": e.answer_id,
        }
        for e in entries
    ]
    st.dataframe(rows, hide_index=True, width="stretch")


def documents_page(holder: AssistantHolder, settings: Settings) -> None:
    st.title("Documents du corpus")
    st.caption("Ajoutez ou retirez un document (PDF, TXT ou MD) : il est lu, indexé, puis interrogeable aussitôt.")
    gate = AdminGate(resolve_password(settings, _secrets()), login_throttle())
    if not gate.enabled:
        st.info(DISABLED_MESSAGE)
        return
    if not st.session_state.get("admin-ok"):
        with st.form("login"):
            attempt = st.text_input("Mot de passe administrateur", type="password", key="admin-attempt")
            submitted = st.form_submit_button("Se connecter")
        if submitted:
            result = gate.check(attempt)
            st.session_state.pop("admin-attempt", None)
            if result.ok:
                st.session_state["admin-ok"] = True
                st.rerun()
            st.error(result.message)
        return
    assistant = holder.get()
    flash = st.session_state.pop("admin-flash", None)
    if flash:
        st.success(render.escape(flash))
    rows = list_documents(settings, assistant)
    st.subheader(f"{len(rows)} document(s)")
    st.dataframe(
        [
            {
                "Titre": r.title,
                "Fichier": r.name,
                "Éditeur": r.publisher,
                "Année": r.year,
                "Taille": f"{r.size_bytes / 1024:.0f} Ko",
                "Passages indexés": r.chunks,
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )
    for err in assistant.corpus.errors:
        st.warning(render.escape(str(err)))

    st.subheader("Ajouter un document")
    with st.form("add-document", clear_on_submit=True):
        # No `type=` filter: Streamlit would raise on another extension; check_document refuses it in French.
        upload = st.file_uploader("Fichier (PDF, TXT ou MD)", key="upload")
        title = st.text_input("Titre affiché dans les sources (facultatif)", key="upload-title")
        replace = st.checkbox("Remplacer le document du même nom s'il existe", key="upload-replace")
        add = st.form_submit_button("Ajouter et indexer", type="primary")
    if add:
        if upload is None:
            st.warning("Choisissez d'abord un fichier.")
        else:
            _change(
                holder,
                lambda p: add_document(settings, upload.name, upload.getvalue(), holder.encoder, p, title, replace),
            )

    st.subheader("Retirer un document")
    with st.form("remove-document"):
        name = st.selectbox("Document", [r.name for r in rows], key="remove-name")
        confirm = st.checkbox("Je confirme le retrait de ce document", key="remove-confirm")
        remove = st.form_submit_button("Retirer")
    if remove:
        if not confirm:
            st.warning("Cochez la case de confirmation pour retirer le document.")
        elif name:
            _change(holder, lambda p: remove_document(settings, name, holder.encoder, p))
    st.button("Se déconnecter", on_click=lambda: st.session_state.pop("admin-ok", None))


def _change(holder: AssistantHolder, action: Any) -> None:
    with st.status("Mise à jour du corpus et de l'index…", expanded=True) as status:
        bar = st.progress(0.0, text="Vérification du document…")

        def progress(step: str, done: int, total: int) -> None:
            bar.progress(min(1.0, done / total) if total else 0.0, text=f"{step} — {done}/{total}")

        try:
            change = action(progress)
        except CepError as exc:
            status.update(label="Document refusé — l'index existant reste en service", state="error")
            st.error(render.escape(str(exc)))
            return
        except Exception:
            log.exception("Échec de la mise à jour du corpus")
            status.update(label="Échec — l'index existant reste en service", state="error")
            st.error(UNEXPECTED)
            return
        if change.assistant is not None:
            holder.replace(change.assistant)
        status.update(label="Terminé", state="complete")
    st.session_state["admin-flash"] = change.message
    st.rerun()  # redraw the document list with the change


def _secrets() -> Any:
    try:
        return st.secrets
    except Exception:
        return None


# --- kiosk ---------------------------------------------------------------------------------------


def reset_kiosk() -> None:
    st.session_state["kiosk-turns"] = []
    st.session_state["last-activity"] = time.time()


@st.fragment(run_every=idle_check_every(idle_seconds()))
def idle_watch() -> None:
    """Resets a kiosk left alone: the history goes after a few minutes without activity."""
    last = st.session_state.get("last-activity", time.time())
    if st.session_state.get("kiosk-turns") and is_idle(last, idle_seconds()):
        reset_kiosk()
        st.rerun(scope="app")


def kiosk_page(holder: AssistantHolder, operators: dict[str, Any]) -> None:
    """The job-fair kiosk: big type, buttons, plain words; no admin, upload, review or settings."""
    st.markdown(KIOSK_CSS, unsafe_allow_html=True)  # static CSS only, never user text
    st.session_state["last-activity"] = time.time()
    idle_watch()
    st.title("Votre avenir professionnel : posez votre question")
    st.markdown(
        "Le **conseil en évolution professionnelle** est gratuit et confidentiel. "
        "Touchez le bouton qui vous ressemble, ou écrivez votre question en bas de l'écran."
    )
    st.subheader("Votre situation")
    cols = st.columns(2)
    for i, (label, question) in enumerate(KIOSK_SITUATIONS):
        cols[i % 2].button(
            label, key=f"kiosk-situation-{i}", on_click=ask, args=(holder, question, "kiosk-turns"), width="stretch"
        )
    st.subheader("Questions fréquentes")
    for i, q in enumerate(KIOSK_QUESTIONS):
        st.button(q, key=f"kiosk-question-{i}", on_click=ask, args=(holder, q, "kiosk-turns"), width="stretch")
    prompt = st.chat_input("Écrivez votre question ici")
    if prompt is not None:
        ask(holder, prompt, "kiosk-turns")
    turns: list[Turn] = st.session_state.setdefault("kiosk-turns", [])
    for turn in turns[-3:]:
        show_turn(turn, operators, store=None, kiosk=True)
    if turns:
        st.button(
            "Recommencer",
            key="kiosk-reset",
            icon=":material/restart_alt:",
            on_click=reset_kiosk,
            type="primary",
            width="stretch",
        )


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    settings = Settings.from_env()
    kiosk = kiosk_mode(settings, st.query_params.to_dict(), locked=bool(st.session_state.get("kiosk-locked")))
    wide = not kiosk and st.session_state.get("page") in (FIGURES, REVIEW, DOCUMENTS)
    st.set_page_config(
        page_title="Assistant CEP",
        page_icon="🧭",
        layout="wide" if wide else "centered",
        initial_sidebar_state="collapsed" if kiosk else "auto",
    )
    holder = holder_for(settings_key(settings), settings)
    assistant = ready_assistant(holder)
    operators = operators_of(settings)
    if kiosk:
        st.session_state["kiosk-locked"] = True  # nothing in this session leaves kiosk mode any more
        kiosk_page(holder, operators)
        return
    store = FeedbackStore.from_settings(settings)
    with st.sidebar:
        st.markdown("## :material/explore: Assistant CEP")
        page = st.radio("Rubriques", PAGES, key="page")
        st.caption(
            f"{len(assistant.corpus.documents)} document(s) dans le corpus. "
            "Mode borne : ajoutez « ?kiosk=1 » à l'adresse."
        )
    if page == CHAT:
        chat_page(holder, operators, store)
    elif page == ROUTING:
        routing_page(holder, operators)
    elif page == FIGURES:
        figures_page(assistant, settings, operators)
    elif page == REVIEW:
        review_page(store, settings)
    elif page == DOCUMENTS:
        documents_page(holder, settings)


main()
