"""The job-fair kiosk: big type, situation buttons leading to the documented operator, frequent questions
answered by the documents' own sentences, a reset after inactivity. No admin, upload, review or settings."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import streamlit as st

from assistant.app import render
from assistant.app.kiosk import Kiosk, check_paths, choose, outcome, question_of, start
from assistant.app.session import Turn, idle_check_every, idle_seconds, is_idle, new_answer_id
from assistant.app.views.common import AppContext, answer_question, log
from assistant.contacts import channel_gaps, load_contact_kinds, where_to_look
from assistant.records import Answer, OperatorChoice
from ingest.text import clean_markup

TURNS, STEP, INPUT_GENERATION, LAST_ACTIVITY = "kiosk-turns", "kiosk-step", "kiosk-input-generation", "last-activity"
FACTS, FOCUS = "kiosk-facts", "kiosk-focus-generation"  # facts of each path's answer (by answer id); a tap counter

# Static CSS, never user text. Type and buttons sized for a screen read standing; the content uses the
# screen's width. Landscape: situation buttons in a column beside the answers (it stays in view while
# they scroll); portrait: one column, situation buttons first. Status boxes are not for visitors.
KIOSK_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"], [data-testid="stMain"] { background: #ffffff; color: #000000; }
[data-testid="stMainBlockContainer"] { max-width: min(96vw, 1840px) !important; padding: 2rem 2.5vw 8rem 2.5vw; }
[data-testid="stAppViewContainer"] p, [data-testid="stAppViewContainer"] li { font-size: 1.6rem; line-height: 1.45; }
[data-testid="stCaptionContainer"] p { font-size: 1.3rem; }
h1 { font-size: 2.7rem !important; color: #00205b !important; padding-top: 0 !important; }
h2, h3, h4 { color: #00205b !important; text-wrap: balance; }
h3 { font-size: 2.1rem !important; }
h4 { font-size: 1.9rem !important; }
.stButton button { font-size: 1.5rem; min-height: 4.2rem; width: 100%; border: 3px solid #00205b;
  background: #ffffff; color: #00205b; font-weight: 700; }
.stButton button p { font-size: 1.5rem !important; text-wrap: balance; }
.stButton button:hover { background: #e6ecf7; color: #00205b; }
.stButton button:active { background: #00205b; color: #ffffff; }
.stButton button[kind="primary"] { background: #00205b; color: #ffffff; }
.st-key-kiosk-choice .stButton button { min-height: 5.5rem; }
.st-key-kiosk-choice .stButton button p { font-size: 1.9rem !important; }
[data-testid="stChatInput"] textarea { font-size: 1.5rem; }
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"],
[data-testid="stMainMenu"], [data-testid="stHeader"], footer, .st-key-kiosk-scroll,
[data-testid="stLayoutWrapper"]:has(> [data-testid="stExpander"] [data-testid="stExpanderIconCheck"]) {
  display: none !important; }
.st-key-kiosk-focus { scroll-margin-top: 1rem; min-height: 82vh; }
@media (orientation: landscape) {
  .st-key-kiosk-layout > div > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:nth-child(1) {
    order: 2; }
  .st-key-kiosk-layout > div > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:nth-child(2) {
    order: 1; position: sticky; top: 1rem; align-self: flex-start; }
}
@media (orientation: portrait) {
  .st-key-kiosk-layout > div > [data-testid="stHorizontalBlock"] { flex-direction: column; }
  .st-key-kiosk-layout > div > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
    width: 100% !important; flex: 1 1 auto !important; }
  .st-key-kiosk-layout > div > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:nth-child(1) {
    order: 2; }
  .st-key-kiosk-layout > div > [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:nth-child(2) {
    order: 1; }
  .st-key-kiosk-situations, .st-key-kiosk-faqs { display: grid !important; grid-template-columns: 1fr 1fr; }
}
</style>
"""

# Static script (no user text; the only value written in is an integer): after each tap, bring the newest
# answer's first card, or the pending question, to the top of the screen. Streamlit keeps a page with a
# chat input scrolled to its bottom: a synthetic wheel event ends that, then the scroll is held for a
# moment while the page settles, unless the visitor touches the screen.
SCROLL_JS = """
<script>
(() => {
  const tap = __TAP__;
  const main = document.querySelector('[data-testid="stAppScrollToBottomContainer"]')
    || document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
  if (!main || window.__kioskTap === tap) return;
  window.__kioskTap = tap;
  let touched = false;
  const stop = (e) => { if (e.isTrusted) touched = true; };
  for (const t of ['pointerdown', 'touchstart', 'wheel', 'keydown']) main.addEventListener(t, stop, {passive: true});
  const started = performance.now();
  let still = 0;
  const step = () => {
    if (touched || window.__kioskTap !== tap) return;
    const focus = document.querySelector('.st-key-kiosk-focus');
    const before = main.scrollTop;
    let want = 0;
    if (focus) {
      const margin = 16;
      want = before + focus.getBoundingClientRect().top - main.getBoundingClientRect().top - margin;
    }
    want = Math.max(0, Math.min(want, main.scrollHeight - main.clientHeight));
    if (Math.abs(main.scrollTop - want) > 2) {
      main.dispatchEvent(new WheelEvent('wheel', {bubbles: true}));
      main.scrollTop = want;
      still = 0;
    } else {
      still += 1;
    }
    if (still < 30 && performance.now() - started < 5000) requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})();
</script>
"""


@st.cache_resource(show_spinner=False)
def kiosk_content(fingerprint: str, knowledge_dir: str, _assistant: Any) -> Kiosk:
    """The kiosk content checked against this corpus and these rules, once per corpus."""
    kiosk = Kiosk.load(_assistant.settings.knowledge_dir, _assistant.corpus)
    router = _assistant.router
    if router is not None:
        for problem in check_paths(kiosk.data, router):
            log.warning("%s", problem)
    return kiosk


# --- state changes (button callbacks) ------------------------------------------------------------


def touch() -> None:
    st.session_state[LAST_ACTIVITY] = time.time()


def tapped() -> None:
    """A tap that changes what the visitor should see first: the page brings it into view."""
    touch()
    st.session_state[FOCUS] = st.session_state.get(FOCUS, 0) + 1


def reset_kiosk() -> None:
    """Back to the start: no answer, no pending choice, and an empty text box (a new input widget)."""
    st.session_state[TURNS] = []
    st.session_state[FACTS] = {}
    st.session_state.pop(STEP, None)
    st.session_state[INPUT_GENERATION] = st.session_state.get(INPUT_GENERATION, 0) + 1
    tapped()


def _add_turn(question: str, answer: Answer, facts: dict[str, Any] | None = None) -> None:
    qid = new_answer_id()
    answer.id = qid
    st.session_state.setdefault(TURNS, []).append(Turn(question, answer, qid))
    st.session_state.setdefault(FACTS, {})[qid] = dict(facts or {})


def _finish(ctx: AppContext, step: Any) -> None:
    router = ctx.assistant.router
    answer = None
    if router is not None:
        try:
            answer = outcome(router, step)
        except Exception:
            log.exception("Orientation de la borne impossible")
    if answer is None:  # no routing engine: the pipeline answers the situation as a question
        answer = answer_question(ctx.holder, ", ".join(step.path) + " : qui peut m'accompagner ?")
    st.session_state.pop(STEP, None)
    _add_turn("\n".join(step.path), answer, step.fact_dict())


def press_situation(ctx: AppContext, kiosk: Kiosk, button_id: str) -> None:
    tapped()
    step = start(kiosk.data, button_id)
    if step.done:
        _finish(ctx, step)
    else:
        st.session_state[STEP] = step


def press_option(ctx: AppContext, kiosk: Kiosk, option: int) -> None:
    tapped()
    step = st.session_state.get(STEP)
    if step is None:
        return
    step = choose(kiosk.data, step, option)
    if step.done:
        _finish(ctx, step)
    else:
        st.session_state[STEP] = step


def press_faq(ctx: AppContext, kiosk: Kiosk, faq_id: str, label: str) -> None:
    tapped()
    answer = kiosk.faq_answer(faq_id)
    _add_turn(label, answer if answer is not None else answer_question(ctx.holder, label))


def submit_typed(ctx: AppContext, kiosk: Kiosk, key: str) -> None:
    text = st.session_state.get(key)
    if isinstance(text, str):
        typed(ctx, kiosk, text)


def typed(ctx: AppContext, kiosk: Kiosk, text: str) -> None:
    """A typed question: a frequent one gets the documents' sentences, any other goes to the assistant.

    A question on how to reach an operator, or where it is, also gets that operator's contact card.
    """
    tapped()
    st.session_state.pop(STEP, None)
    query = ctx.assistant.analyzer.read(text)
    faq = kiosk.match(text, query.normalized)
    answer = kiosk.faq_answer(faq.id) if faq is not None else None
    if answer is None:
        answer = answer_question(ctx.holder, text)
        desk = ctx.assistant.contacts
        _, named = desk.asked(query) if desk is not None else ([], [])
        if named and not answer.operators and answer.intent in ("passage", "abstain"):
            answer.operators = [OperatorChoice(op.id, op.name, "primary", "") for op in named]
    _add_turn(text, answer)


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
    with st.container(key="kiosk-layout"):
        # The answers come first in the page's order (read first by a screen reader); CSS shows the
        # situation buttons beside them (landscape) or above them (portrait).
        answers, situations = st.columns([3, 2], gap="large")
    with answers:
        show_answers(ctx, kiosk)
    with situations:
        st.subheader("Votre situation")
        with st.container(key="kiosk-situations"):
            for i, b in enumerate(kiosk.data.buttons):
                st.button(
                    b.label,
                    key=f"kiosk-situation-{i}",
                    on_click=press_situation,
                    args=(ctx, kiosk, b.id),
                    width="stretch",
                )
        st.subheader("Questions fréquentes")
        with st.container(key="kiosk-faqs"):
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
    with st.container(key="kiosk-scroll"):
        tap = int(st.session_state.get(FOCUS, 0))
        st.html(SCROLL_JS.replace("__TAP__", str(tap)), unsafe_allow_javascript=True)  # static code, an integer


def show_answers(ctx: AppContext, kiosk: Kiosk) -> None:
    """Earlier answers, then the newest one or the pending question (the part brought into view)."""
    turns: list[Turn] = st.session_state.setdefault(TURNS, [])
    facts: dict[str, dict[str, Any]] = st.session_state.setdefault(FACTS, {})
    step = st.session_state.get(STEP)
    choice = question_of(kiosk.data, step) if step is not None else None
    shown = turns[-3:]
    if choice is None and shown:
        *earlier, newest = shown
    else:
        earlier, newest = shown, None
    for turn in earlier:
        show_turn(turn, facts.get(turn.id, {}), ctx, kiosk)
    if not turns and choice is None:
        return
    with st.container(key="kiosk-focus"):
        if step is not None and choice is not None:
            with st.container(border=True, key="kiosk-choice"):
                st.caption(render.escape(" · ".join(step.path)))
                st.subheader(render.inline(choice.question))
                options = st.columns(len(choice.options))
                for i, (col, opt) in enumerate(zip(options, choice.options, strict=True)):
                    col.button(
                        opt.label,
                        key=f"kiosk-choice-{i}",
                        on_click=press_option,
                        args=(ctx, kiosk, i),
                        width="stretch",
                    )
        elif newest is not None:
            show_turn(newest, facts.get(newest.id, {}), ctx, kiosk)
        st.button("Recommencer", key="kiosk-reset", icon=":material/restart_alt:", on_click=reset_kiosk, type="primary")


def show_turn(turn: Turn, facts: dict[str, Any], ctx: AppContext, kiosk: Kiosk) -> None:
    with st.chat_message("user"):
        st.markdown(render.escape(turn.question, 600))
    with st.chat_message("assistant"):
        show_answer(turn.answer, ctx.operators, ctx.assistant.corpus, kiosk, facts)


def kiosk_card(
    card: render.KioskCard, operator: Any, kiosk: Kiosk, facts: dict[str, Any], corpus: Any
) -> render.KioskCard:
    """The card in a visitor's words: who the operator is for (a sentence of kiosk.toml, with its sources),
    and what the documents do not give (address, phone, website) with where to look instead."""
    why, sources = card.why, list(card.sources)
    said = kiosk.say(operator.id, facts) if operator is not None else None
    if said is not None:
        say, citations = said
        why = render.escape(say.text)
        sources = [*dict.fromkeys([*(render.inline(render.plain_source(c)) for c in citations), *sources])]
    contacts = list(card.contacts)
    if operator is not None:
        gaps = channel_gaps(operator, load_contact_kinds(kiosk_knowledge(kiosk)), ("adresse", "telephone", "site"))
        if gaps:
            labels = [k.label for k in gaps]
            missing = labels[0] if len(labels) == 1 else " ni ".join(labels)
            line = f"Les documents ne donnent {'pas' if len(labels) == 1 else 'ni'} {missing}"
            if any(k.name == "site" for k in gaps):
                line += " : " + where_to_look(operator)
            else:
                line += " : voyez son site internet ci-dessus."
            contacts.append(render.escape(line[0].upper() + line[1:]))
    return replace(card, why=why, sources=sources, contacts=contacts)


def kiosk_knowledge(kiosk: Kiosk) -> Path:
    return kiosk.data.path.parent


def show_answer(
    answer: Answer,
    operators: dict[str, Any],
    corpus: Any,
    kiosk: Kiosk | None = None,
    facts: dict[str, Any] | None = None,
) -> None:
    """An answer in plain words: who can help and how to reach them; sources one tap away, no line numbers."""
    contact = answer.intent in ("passage", "abstain") and bool(answer.operators)  # "où est … ?", "téléphone de …"
    cards = render.kiosk_cards(answer, operators, corpus)
    if kiosk is not None:
        cards = [
            kiosk_card(c, operators.get(o.id), kiosk, facts or {}, corpus)
            for c, o in zip(cards, answer.operators, strict=False)
        ]
    if contact:
        (st.info if answer.intent == "abstain" else st.markdown)(render.escape(answer.text))
        cards = [replace(c, role="Ce que disent les documents", why="") for c in cards]
    elif cards:
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
            if card.why:
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
