"""Page « Orienter un appelant »: the advisor's form, the operator with its reason and sources, a summary."""

from __future__ import annotations

import streamlit as st

from assistant.app import render
from assistant.app.routing_form import (
    CURRENT_OPERATORS,
    DIPLOMAS,
    STATUSES,
    Situation,
    inconsistencies,
    parse_age,
    route,
)
from assistant.app.views.common import UNEXPECTED, AppContext, log, optional_select, show_answer, yes_no


def page(ctx: AppContext) -> None:
    st.title("Orienter un appelant")
    st.caption(
        "Renseignez ce que l'appelant vous a dit, laissez « Non renseigné » sinon. L'assistant indique l'opérateur "
        "du CEP, la raison tirée des documents et, si l'orientation est provisoire, la question à poser."
    )
    with st.form("routing-form"):
        c1, c2 = st.columns(2)
        with c1:
            status = optional_select("Statut", STATUSES, "f-status")
            # No min/max: Streamlit would refuse out-of-range values in English; parse_age says it in French.
            age = st.number_input("Âge", value=None, step=1, key="f-age", placeholder="Non renseigné")
            diploma = optional_select("Niveau de diplôme", DIPLOMAS, "f-diploma")
            current = optional_select("Déjà suivi·e par un opérateur du CEP", CURRENT_OPERATORS, "f-current")
            registered = yes_no("Inscrit·e à Pôle emploi", "f-registered")
        with c2:
            cadre = yes_no("Cadre", "f-cadre")
            young = yes_no("Jeune diplômé·e", "f-young")
            disability = yes_no("Situation de handicap (RQTH)", "f-disability")
            impact = yes_no("Le handicap pèse sur l'emploi ou le projet", "f-impact")
            inaptitude = yes_no("Risque d'inaptitude au poste", "f-inaptitude")
            resigning = yes_no("Projet de démission", "f-resigning")
        submitted = st.form_submit_button("Trouver l'opérateur", type="primary")
    if submitted:
        try:
            age_value = parse_age(age)
        except ValueError as exc:
            st.error(str(exc))
            st.session_state.pop("routing-result", None)
            return
        situation = Situation(
            status=status,
            age=age_value,
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
            answer = route(ctx.assistant, situation)
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
    for note in inconsistencies(situation, ctx.assistant.router):
        st.warning(render.escape(note))
    st.subheader("Orientation")
    show_answer(answer, ctx.operators)
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
