"""Page « Chiffres »: the operators compared (chart and table), every figure with its source, CSV exports."""

from __future__ import annotations

import streamlit as st

from assistant.app import explorer, render
from assistant.app.views.common import AppContext
from ingest.numbers import DATE_UNITS


def page(ctx: AppContext) -> None:
    st.title("Chiffres")
    st.caption("Les indicateurs cités dans les documents, chacun avec sa source. Filtrez, comparez, téléchargez.")
    assistant = ctx.assistant
    tables = explorer.fact_tables(assistant)
    if tables is None:
        st.info("Les tableaux de chiffres ne sont pas encore disponibles pour ce corpus.")
        return
    titles = {name: doc.info.title for name, doc in assistant.corpus.documents.items()}
    names = {oid: getattr(op, "name", oid) for oid, op in ctx.operators.items()}
    comparison = tables.comparison
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
                    st.altair_chart(explorer.bar_chart(data, explorer.METRICS[metric]), width="stretch")
        table = explorer.comparison_table(comparison, titles)
        st.dataframe(explorer.styled(table), hide_index=True, width="stretch", placeholder="—")
        st.download_button(
            "Télécharger la comparaison (CSV)",
            explorer.to_csv(table),
            "comparaison-operateurs-2021.csv",
            "text/csv",
            key="dl-comparison",
        )

    facts = tables.facts
    if facts is not None:  # the dates the engine answers « en quelle année ? » with are not figures to browse
        facts = facts[~facts["unit"].isin(DATE_UNITS)]
    st.subheader("Tous les chiffres des documents")
    if facts is None or facts.empty:
        st.info("Aucun chiffre extrait des documents.")
        return
    c1, c2, c3 = st.columns([2, 2, 3])
    present = [o for o in names if o in set(facts["operator"].dropna().astype(str))]
    chosen_ops = c1.multiselect(
        "Opérateur", present, format_func=lambda o: names.get(o, o), key="fig-ops", placeholder="Tous les opérateurs"
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
    st.caption(f"{render.count_label(len(shown), 'chiffre')} sur {explorer.french_number(len(facts))}.")
    if shown.empty:
        st.info("Aucun chiffre ne correspond à ces filtres.")
    else:
        st.dataframe(explorer.styled(shown), hide_index=True, width="stretch", placeholder="—", height=360)
        st.download_button(
            "Télécharger ces chiffres (CSV)", explorer.to_csv(shown), "chiffres-cep.csv", "text/csv", key="dl-facts"
        )
    records = tables.tables
    if records:
        st.subheader("Tableaux des documents")
        labels = {
            i: f"{titles.get(t.document, t.document)} — l. {t.first_line}-{t.last_line}"
            + (f" — {t.section}" if t.section else "")
            for i, t in enumerate(records)
        }
        i = st.selectbox(
            "Tableau",
            list(labels),
            format_func=lambda i: labels.get(i, ""),
            key="fig-table",
            placeholder="Choisissez un tableau",
        )
        record = records[i or 0]
        if record.caption:
            st.caption(render.inline(record.caption, 300))
        frame = explorer.plain_cells(record.frame)
        st.dataframe(explorer.styled(frame), hide_index=True, width="stretch", placeholder="—")
