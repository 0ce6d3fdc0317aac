"""The staff pages, behind one login: « Avis des utilisateurs » and « Documents (admin) »."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from assistant.app import audit, render
from assistant.app.admin import (
    DISABLED_MESSAGE,
    AdminGate,
    Client,
    LoginThrottle,
    client_address,
    resolve_password,
)
from assistant.app.documents import (
    Change,
    DocumentRejected,
    add_document,
    check_document,
    hidden_documents,
    list_documents,
    remove_document,
    restore_document,
    size_text,
)
from assistant.app.library import ADDED
from assistant.app.views.common import UNEXPECTED, AppContext, log, progress_bar
from assistant.errors import CepError
from assistant.settings import Settings

LOGGED_IN = "staff-ok"


@st.cache_resource(show_spinner=False)
def login_throttle() -> LoginThrottle:
    """One throttle per process; it counts failures per session and per address, never for everyone."""
    return LoginThrottle()


def _secrets() -> Any:
    try:
        return st.secrets
    except Exception:
        return None


def current_client(settings: Settings) -> Client:
    """This browser session and, when the operator names the proxies to trust (CEP_TRUSTED_PROXIES), the
    client's address: the socket's, or behind a trusted proxy the one X-Forwarded-For gives; else none."""
    session = st.session_state.setdefault("client-id", uuid.uuid4().hex)
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get_all("X-Forwarded-For")
    except Exception:
        peer, forwarded = None, []
    return Client(session, client_address(peer, forwarded, settings.trusted_proxies))


def staff_gate(ctx: AppContext) -> bool:
    """True when this session is logged in; otherwise shows the login form (or why the pages are off)."""
    gate = AdminGate(resolve_password(ctx.settings, _secrets()), login_throttle())
    if not gate.enabled:
        st.info(DISABLED_MESSAGE)
        return False
    if st.session_state.get(LOGGED_IN):
        return True
    with st.form("login"):
        attempt = st.text_input("Mot de passe de l'équipe", type="password", key="admin-attempt")
        submitted = st.form_submit_button("Se connecter")
    if submitted:
        result = gate.check(attempt, current_client(ctx.settings))
        audit.record(ctx.settings, "login" if result.ok else ("login_blocked" if result.blocked else "login_failed"))
        if result.ok:
            st.session_state[LOGGED_IN] = True
            st.rerun()
        st.error(result.message)
    return False


def logout_button(ctx: AppContext) -> None:
    def logout() -> None:
        st.session_state.pop(LOGGED_IN, None)
        audit.record(ctx.settings, "logout")

    st.button("Se déconnecter", key="logout", on_click=logout)


# --- Avis des utilisateurs ------------------------------------------------------------------------


def review_page(ctx: AppContext) -> None:
    settings = ctx.settings
    st.title("Avis des utilisateurs")
    kept = "conservées" if settings.feedback_keep_question else "non conservées (réglage CEP_FEEDBACK_KEEP_QUESTION)"
    st.caption(
        f"Les avis (pouce levé ou baissé) donnés sur les réponses. Questions {kept} ; avis effacés après "
        f"{settings.retention_days} jours."
    )
    if not staff_gate(ctx):
        return
    try:
        entries = ctx.store.entries()
    except Exception:
        log.exception("Lecture des avis impossible")
        st.error("Les avis n'ont pas pu être lus.")
        return
    if not entries:
        st.info("Aucun avis pour l'instant.")
    else:
        summary = ctx.store.summary()
        cols = st.columns(max(1, len(summary)))
        for col, (intent, (up, down)) in zip(cols, sorted(summary.items()), strict=False):
            col.metric(
                render.INTENT_LABELS.get(intent, intent),
                f"{render.count_label(up, 'avis', 'avis')} utile{'s' if up > 1 else ''}",
                f"{render.count_label(down, 'avis', 'avis')} pas utile{'s' if down > 1 else ''}",
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
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", placeholder="—")
    logout_button(ctx)


# --- Documents (admin) ----------------------------------------------------------------------------


def documents_page(ctx: AppContext) -> None:
    settings = ctx.settings
    st.title("Documents du corpus")
    st.caption(
        "Les documents intégrés viennent avec l'assistant ; les documents ajoutés ici (PDF, TXT ou MD) sont lus, "
        "indexés et interrogeables aussitôt. Ils sont gardés dans le dossier de données, à part du code : une "
        "mise à jour de l'assistant les conserve."
    )
    if not staff_gate(ctx):
        return
    assistant = ctx.assistant
    flash = st.session_state.pop("admin-flash", None)
    if flash:
        st.success(render.escape(flash))
    rows = list_documents(settings, assistant)
    st.subheader(f"{len(rows)} document(s)")
    # A static table: every column in view (long titles wrap), nothing to scroll sideways.
    st.table(documents_table(rows), hide_index=True)
    for err in assistant.corpus.errors:
        st.warning(render.escape(str(err)))
    _add_section(ctx)
    _remove_section(ctx, rows)
    _restore_section(ctx)
    with st.expander("Journal des actions de l'équipe"):
        lines = audit.read(settings)
        if lines:
            st.dataframe(
                pd.DataFrame(
                    [
                        {"Date": a.time.strftime("%d/%m/%Y %H:%M:%S"), "Action": a.action, "Document": a.document}
                        for a in lines
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
        else:
            st.caption("Aucune action enregistrée.")
    logout_button(ctx)


def documents_table(rows: list[Any]) -> pd.DataFrame:
    """The corpus documents as listed to staff: title, file, origin, publisher, year, size, passages."""
    return pd.DataFrame(
        [
            {
                "Titre": r.title,
                "Fichier": r.name,
                "Origine": r.origin,
                "Éditeur": r.publisher,
                "Année": str(r.year) if r.year else "—",
                "Taille": size_text(r.size_bytes),
                "Passages": render.french_int(r.chunks),
            }
            for r in rows
        ],
        columns=["Titre", "Fichier", "Origine", "Éditeur", "Année", "Taille", "Passages"],
    )


def _add_section(ctx: AppContext) -> None:
    settings = ctx.settings
    st.subheader("Ajouter un document")
    generation = st.session_state.setdefault("upload-generation", 0)  # a new key empties the picker
    # No `type=` filter: Streamlit would refuse other extensions in English; check_document says why in French.
    upload = st.file_uploader("Fichier (PDF, TXT ou MD)", key=f"upload-{generation}")
    refused = None
    if upload is not None:
        refused = _precheck(ctx, upload)
        if refused:
            st.error(render.escape(refused))  # beside the picker, the file stays chosen
    title = st.text_input("Titre affiché dans les sources (facultatif)", key=f"upload-title-{generation}")
    replace = st.checkbox("Remplacer le document ajouté du même nom s'il existe", key=f"upload-replace-{generation}")
    if not st.button("Ajouter et indexer", type="primary", key="upload-add", disabled=bool(refused)):
        return
    if upload is None:
        st.warning("Choisissez d'abord un fichier.")
        return
    data = upload.getvalue()
    change = _run(
        ctx, lambda p: add_document(settings, upload.name, data, ctx.holder.encoder, p, title, replace), "add_refused"
    )
    if change is not None:
        if change.status in ("added", "replaced"):
            audit.record(settings, change.status, change.name)
        st.session_state["upload-generation"] = generation + 1
        st.session_state["admin-flash"] = change.message
        st.rerun()


def _precheck(ctx: AppContext, upload: Any) -> str | None:
    """Why an uploaded file would be refused (checked once per file), or None."""
    key = (getattr(upload, "file_id", None) or upload.name, upload.size)
    cached = st.session_state.get("upload-check")
    if cached and cached[0] == key:
        return cached[1]
    try:
        check_document(ctx.settings, upload.name, upload.getvalue())
        reason = None
    except DocumentRejected as exc:
        reason = str(exc)
    st.session_state["upload-check"] = (key, reason)
    return reason


def _remove_section(ctx: AppContext, rows: list[Any]) -> None:
    settings = ctx.settings
    st.subheader("Retirer un document")
    st.caption("Un document ajouté est supprimé ; un document intégré est seulement écarté, il peut être rétabli.")
    origins = {r.name: r.origin for r in rows}
    with st.form("remove-document"):
        name = st.selectbox(
            "Document",
            list(origins),
            key="remove-name",
            format_func=lambda n: f"{n} ({origins.get(n, '')})",
            placeholder="Choisissez un document",
        )
        confirm = st.checkbox("Je confirme le retrait de ce document", key="remove-confirm")
        remove = st.form_submit_button("Retirer")
    if not remove:
        return
    if not confirm:
        st.warning("Cochez la case de confirmation pour retirer le document.")
        return
    if name:
        change = _run(ctx, lambda p: remove_document(settings, name, ctx.holder.encoder, p))
        if change is not None:
            audit.record(settings, "removed" if origins.get(name) == ADDED else "hidden", change.name)
            st.session_state["admin-flash"] = change.message
            st.rerun()


def _restore_section(ctx: AppContext) -> None:
    settings = ctx.settings
    hidden = hidden_documents(settings)
    if not hidden:
        return
    st.subheader("Rétablir un document intégré")
    with st.form("restore-document"):
        name = st.selectbox("Document intégré retiré", hidden, key="restore-name", placeholder="Choisissez un document")
        restore = st.form_submit_button("Rétablir")
    if restore and name:
        change = _run(ctx, lambda p: restore_document(settings, name, ctx.holder.encoder, p))
        if change is not None:
            audit.record(settings, "restored", change.name)
            st.session_state["admin-flash"] = change.message
            st.rerun()


def _run(ctx: AppContext, action: Callable[[Any], Change], refused_action: str | None = None) -> Change | None:
    """Run a corpus change with a progress bar; a refusal or failure is shown in view, under the form."""
    error = None
    with st.status("Mise à jour du corpus et de l'index…", expanded=True) as status:
        progress = progress_bar("Vérification du document…")
        try:
            change = action(progress)
        except CepError as exc:
            status.update(label="Refusé — l'index existant reste en service", state="error", expanded=False)
            error = str(exc)
        except Exception:
            log.exception("Échec de la mise à jour du corpus")
            status.update(label="Échec — l'index existant reste en service", state="error", expanded=False)
            error = UNEXPECTED
        else:
            status.update(label="Terminé", state="complete")
    if error is not None:
        if refused_action:
            audit.record(ctx.settings, refused_action)
        st.error(render.escape(error))
        return None
    if change.assistant is not None:
        ctx.holder.replace(change.assistant)
    return change
