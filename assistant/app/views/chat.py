"""Page « Poser une question »: a conversation with cited sources and thumbs feedback."""

from __future__ import annotations

import streamlit as st

from assistant.app.session import SUGGESTED_QUESTIONS, Turn
from assistant.app.views.common import AppContext, ask, show_turn


def page(ctx: AppContext) -> None:
    st.title("Assistant CEP")
    st.caption(
        "Posez une question sur le Conseil en évolution professionnelle : les réponses viennent des documents "
        "du corpus, avec leurs sources (document, section, page ou lignes)."
    )
    prompt = st.chat_input("Votre question sur le CEP…")
    if prompt is not None:
        ask(ctx.holder, prompt)
    turns: list[Turn] = st.session_state.setdefault("turns", [])
    if not turns:
        st.markdown("##### Exemples de questions")
        cols = st.columns(2)
        for i, q in enumerate(SUGGESTED_QUESTIONS):
            cols[i % 2].button(q, key=f"suggest-{i}", on_click=ask, args=(ctx.holder, q), width="stretch")
    for turn in turns:
        show_turn(turn, ctx.operators, ctx.store)
    if turns:
        st.button("Effacer la conversation", on_click=lambda: st.session_state.update(turns=[]))
