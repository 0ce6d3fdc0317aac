"""Assistant CEP: the Streamlit shell. Page wiring only; each page is a module of assistant/app/views.

Run: ``streamlit run streamlit_app.py``. A kiosk is deployed with CEP_KIOSK=1; ``?kiosk=1`` in the
address previews kiosk mode in one tab. Streamlit reads .streamlit/config.toml beside this file whatever
the working directory (no English main menu); the page CSS hides or translates the rest of its English.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from assistant.app.feedback import FeedbackStore
from assistant.app.render import count_label
from assistant.app.service import AssistantHolder
from assistant.app.session import CHAT, DOCUMENTS, FIGURES, PAGES, REVIEW, ROUTING, kiosk_mode
from assistant.app.views import chat, figures, kiosk, routing, staff
from assistant.app.views.common import AppContext, french_chrome, ready_assistant
from assistant.errors import CepError
from assistant.operators import load_operators
from assistant.settings import Settings


@st.cache_resource(show_spinner=False)
def holder_for(key: str, _settings: Settings) -> AssistantHolder:
    """One loaded Assistant per corpus/data/index/model (key), for all sessions of this process."""
    return AssistantHolder(_settings)


def settings_key(settings: Settings) -> str:
    return "|".join(
        str(p)
        for p in (
            settings.corpus_dir,
            settings.data_dir,
            settings.index_dir,
            settings.knowledge_dir,
            settings.model_name,
        )
    )


def operators_of(settings: Settings) -> dict[str, Any]:
    try:
        return dict(load_operators(settings.knowledge_dir))
    except CepError:
        return {}


def main() -> None:
    settings = Settings.from_env()
    is_kiosk = kiosk_mode(settings, st.query_params.to_dict(), locked=bool(st.session_state.get("kiosk-locked")))
    wide = not is_kiosk and st.session_state.get("page") in (FIGURES, REVIEW, DOCUMENTS)
    st.set_page_config(
        page_title="Assistant CEP",
        page_icon="🧭",
        layout="wide" if wide else "centered",
        initial_sidebar_state="collapsed" if is_kiosk else "auto",
        menu_items={"Get help": None, "Report a bug": None, "About": None},  # no English menu entries
    )
    french_chrome()
    holder = holder_for(settings_key(settings), settings)
    assistant = ready_assistant(holder)
    ctx = AppContext(settings, holder, operators_of(settings), FeedbackStore.from_settings(settings))
    if is_kiosk:
        st.session_state["kiosk-locked"] = True  # nothing in this page session leaves kiosk mode any more
        kiosk.page(ctx)
        return
    with st.sidebar:
        st.markdown("## :material/explore: Assistant CEP")
        page = st.radio("Rubriques", PAGES, key="page")
        st.caption(
            f"{count_label(len(assistant.corpus.documents), 'document')} dans le corpus. "
            "Aperçu du mode borne : « ?kiosk=1 » dans l'adresse (une borne se lance avec CEP_KIOSK=1)."
        )
    pages = {
        CHAT: chat.page,
        ROUTING: routing.page,
        FIGURES: figures.page,
        REVIEW: staff.review_page,
        DOCUMENTS: staff.documents_page,
    }
    pages[page](ctx)


main()
