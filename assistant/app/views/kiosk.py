"""The job-fair kiosk: big type, situation buttons leading to the documented operator, frequent questions
answered by the documents' own sentences, a reset after inactivity. No admin, upload, review or settings."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from assistant.app import render
from assistant.app.kiosk import Kiosk, check_paths, choose, outcome, question_of, start
from assistant.app.session import Turn, idle_check_every, idle_seconds, is_idle, new_answer_id
from assistant.app.views.common import AppContext, answer_question, log
from assistant.normalize import expand_shorthand
from assistant.records import Answer
from ingest.text import clean_markup

TURNS, STEP, INPUT_GENERATION, LAST_ACTIVITY = "kiosk-turns", "kiosk-step", "kiosk-input-generation", "last-activity"

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


@st.cache_resource(show_spinner=False)
def kiosk_content(fingerprint: str, knowledge_dir: str, _assistant: Any) -> Kiosk:
    """The kiosk content checked against this corpus and these rules, once per corpus."""
    kiosk = Kiosk.load(_assistant.settings.knowledge_dir, _assistant.corpus)
    router = getattr(_assistant, "router", None)
    if router is not None:
        for problem in check_paths(kiosk.data, router):
            log.warning("%s", problem)
    return kiosk


# --- state changes (button callbacks) ------------------------------------------------------------


def touch() -> None:
    st.session_state[LAST_ACTIVITY] = time.time()


def reset_kiosk() -> None:
    """Back to the start: no answer, no pending choice, and an empty text box (a new input widget)."""
    st.session_state[TURNS] = []
    st.session_state.pop(STEP, None)
    st.session_state[INPUT_GENERATION] = st.session_state.get(INPUT_GENERATION, 0) + 1
    touch()


def _add_turn(question: str, answer: Answer) -> None:
    qid = new_answer_id()
    answer.id = qid
    st.session_state.setdefault(TURNS, []).append(Turn(question, answer, qid))


def _finish(ctx: AppContext, step: Any) -> None:
    router = getattr(ctx.assistant, "router", None)
    answer = None
    if router is not None:
        try:
            answer = outcome(router, step)
        except Exception:
            log.exception("Orientation de la borne impossible")
    if answer is None:  # no routing engine: the pipeline answers the situation as a question
        answer = answer_question(ctx.holder, ", ".join(step.path) + " : qui peut m'accompagner ?")
    st.session_state.pop(STEP, None)
    _add_turn("\n".join(step.path), answer)


def press_situation(ctx: AppContext, kiosk: Kiosk, button_id: str) -> None:
    touch()
    step = start(kiosk.data, button_id)
    if step.done:
        _finish(ctx, step)
    else:
        st.session_state[STEP] = step


def press_option(ctx: AppContext, kiosk: Kiosk, option: int) -> None:
    touch()
    step = st.session_state.get(STEP)
    if step is None:
        return
    step = choose(kiosk.data, step, option)
    if step.done:
        _finish(ctx, step)
    else:
        st.session_state[STEP] = step


def press_faq(ctx: AppContext, kiosk: Kiosk, faq_id: str, label: str) -> None:
    touch()
    answer = kiosk.faq_answer(faq_id)
    _add_turn(label, answer if answer is not None else answer_question(ctx.holder, label))


def submit_typed(ctx: AppContext, kiosk: Kiosk, key: str) -> None:
    text = st.session_state.get(key)
    if isinstance(text, str):
        typed(ctx, kiosk, text)


def typed(ctx: AppContext, kiosk: Kiosk, text: str) -> None:
    """A typed question: a frequent one gets the documents' sentences, any other goes to the assistant."""
    touch()
    st.session_state.pop(STEP, None)
    faq = kiosk.match(text, expand_shorthand(text, ctx.assistant.lexicon))
    answer = kiosk.faq_answer(faq.id) if faq is not None else None
    _add_turn(text, answer if answer is not None else answer_question(ctx.holder, text))


@st.fragment(run_every=idle_check_every(idle_seconds()))
def idle_watch() -> None:
    """A kiosk left alone goes back to the start (answers, pending choice and unsent text cleared).

    The server cannot see text being typed, so the reset comes after each idle period since the last
    thing it saw (a button, a sent question, a page load).
    """
    last = st.session_state.get(LAST_ACTIVITY, time.time())
    if is_idle(last, idle_seconds()):
        reset_kiosk()
        st.rerun(scope="app")


# --- the page ------------------------------------------------------------------------------------


def page(ctx: AppContext) -> None:
    st.markdown(KIOSK_CSS, unsafe_allow_html=True)  # static CSS only, never user text
    touch()
    idle_watch()
    assistant = ctx.assistant
    kiosk = kiosk_content(assistant.corpus.fingerprint, str(ctx.settings.knowledge_dir), assistant)
    st.title("Votre avenir professionnel : posez votre question")
    st.markdown(
        "Le **conseil en évolution professionnelle** est gratuit et confidentiel. "
        "Touchez le bouton qui vous ressemble, ou écrivez votre question en bas de l'écran."
    )
    if not ctx.settings.kiosk:
        st.caption("Aperçu du mode borne dans cet onglet. Une borne se lance avec CEP_KIOSK=1.")
    turns: list[Turn] = st.session_state.setdefault(TURNS, [])
    for turn in turns[-3:]:
        with st.chat_message("user"):
            st.markdown(render.escape(turn.question, 600))
        with st.chat_message("assistant"):
            show_answer(turn.answer, ctx.operators, assistant.corpus)
    step = st.session_state.get(STEP)
    choice = question_of(kiosk.data, step) if step is not None else None
    if step is not None and choice is not None:
        with st.container(border=True):
            st.caption(render.escape(" · ".join(step.path)))
            st.subheader(render.inline(choice.question))
            options = st.columns(len(choice.options))
            for i, (col, opt) in enumerate(zip(options, choice.options, strict=True)):
                col.button(opt.label, key=f"kiosk-choice-{i}", on_click=press_option, args=(ctx, kiosk, i))
    if turns or choice is not None:
        st.button("Recommencer", key="kiosk-reset", icon=":material/restart_alt:", on_click=reset_kiosk, type="primary")
    st.subheader("Votre situation")
    cols = st.columns(2)
    for i, b in enumerate(kiosk.data.buttons):
        cols[i % 2].button(
            b.label, key=f"kiosk-situation-{i}", on_click=press_situation, args=(ctx, kiosk, b.id), width="stretch"
        )
    st.subheader("Questions fréquentes")
    for i, faq in enumerate(kiosk.data.faqs):
        st.button(
            faq.label,
            key=f"kiosk-question-{i}",
            on_click=press_faq,
            args=(ctx, kiosk, faq.id, faq.label),
            width="stretch",
        )
    key = f"kiosk-input-{st.session_state.get(INPUT_GENERATION, 0)}"  # a new key after a reset: empty box
    st.chat_input("Écrivez votre question ici", key=key, on_submit=submit_typed, args=(ctx, kiosk, key))


def show_answer(answer: Answer, operators: dict[str, Any], corpus: Any) -> None:
    """An answer in plain words: who can help and how to reach them; sources one tap away, no line numbers."""
    cards = render.kiosk_cards(answer, operators, corpus)
    if cards:
        st.markdown("### Qui peut vous accompagner ?")
        if answer.intent != "routing":
            st.caption("Cela dépend aussi de votre situation : le conseiller vous aidera à choisir.")
    elif answer.intent in ("abstain", "clarify"):
        st.info(render.escape(answer.text))
    else:
        st.markdown(render.escape(answer.text))
    if answer.figure is not None and answer.figure.value is not None:
        st.metric(render.inline(answer.figure.label or "Valeur", 120), answer.figure.display)
    for card in cards:
        with st.container(border=True):
            st.markdown(f"#### {card.name}")
            st.caption(card.role)
            st.markdown(card.why)
            if card.contacts:
                st.markdown("**Comment le joindre**\n\n" + "\n".join(f"- {line}" for line in card.contacts))
            if card.sources:
                with st.expander("D'où viennent ces informations ?"):
                    st.markdown("\n".join(f"- {s}" for s in card.sources))
    if answer.citations:
        with st.expander("D'où vient cette réponse ?"):
            for c in answer.citations[:3]:
                st.markdown(f"**{render.inline(render.plain_source(c))}**")
                if clean_markup(c.quote) != answer.text:  # a frequent question's answer is the quote itself
                    st.markdown(render.quote_markdown(c))
