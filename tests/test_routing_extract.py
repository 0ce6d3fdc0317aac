"""Situation extraction (shorthand, first person, typos, negations, numbers), question kind, and
the form/text equivalence property."""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.routing import Router
from assistant.settings import Settings
from ingest.corpus import load_corpus


@lru_cache(maxsize=1)
def router() -> Router:
    return Router.load(Settings().knowledge_dir, load_corpus(Settings().corpus_dir))


def facts(text: str) -> dict:
    return router().extract(text).known()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # advisor shorthand
        (
            "Appelant 24 ans, CDI, veut changer de métier",
            {"status": "salarie_prive", "age": 24, "needs": ["reconversion"]},
        ),
        (
            "DE 52 ans, cadre, inscrit depuis 14 mois",
            {"status": "demandeur_emploi", "cadre": True, "age": 52, "job_search_months": 14},
        ),
        ("Appelant DE, TH, 40 ans", {"status": "demandeur_emploi", "disability": True, "age": 40}),
        ("Appelante salariée RQTH", {"status": "salarie_prive", "disability": True}),
        ("agent de la fonction publique territoriale", {"status": "agent_public"}),
        ("auto-entrepreneur", {"status": "independant"}),
        # first person, kiosk, typos, no accents
        ("jsuis au chomage j'ai 23 ans", {"status": "demandeur_emploi", "age": 23}),
        ("jsuis au chaumage g 19 ans", {"status": "demandeur_emploi", "age": 19}),
        ("je sui independent", {"status": "independant"}),
        ("je suis agriculteur a mon compte", {"status": "independant"}),
        ("chui etudiante 20 ans", {"status": "etudiant", "age": 20}),
        ("je trouve pas de travail", {"status": "demandeur_emploi"}),
    ],
)
def test_extraction(text: str, expected: dict) -> None:
    got = facts(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize(
    "text",
    [
        "Je suis auto-entrepreneur",
        "je suis micro entrepreneur depuis 3 ans",
        "je suis freelance dans le graphisme",
        "gérant de sa SARL de plomberie",
        "Une infirmière exerçant en libéral",
        "Un commerçant qui veut céder son commerce",
        "exploitant agricole, 55 ans",
        "je suis mon propre patron",
        "chef d'entreprise",
    ],
)
def test_self_employed_vocabulary(text: str) -> None:
    assert router().extract(text).status == "independant"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("je suis apprenti de 19 ans dans un garage", "salarie_prive"),
        ("je bosse dans un resto", "salarie_prive"),
        ("mon handicap me gêne dans mon travail", "salarie_prive"),
        ("aide-soignante à l'hôpital public", "agent_public"),
        ("agent administratif d'une mairie", "agent_public"),
        ("fonctionnaire territorial", "agent_public"),
        ("g 24 ans et pas de boulot", "demandeur_emploi"),
        ("un garçon de 16 ans déscolarisé", "demandeur_emploi"),
        ("j'ai arrêté mes études et je trouve rien", "demandeur_emploi"),
        ("elle cherche un premier emploi", "demandeur_emploi"),
        ("j'ai été licencié le mois dernier", "demandeur_emploi"),
        ("mon fils a 17 ans, il a arrêté le lycée et il fait rien", "demandeur_emploi"),
    ],
)
def test_status_vocabulary(text: str, status: str) -> None:
    assert router().extract(text).status == status


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        # a negator stays in its clause: "sans diplôme" does not negate "cherche du travail"
        ("un jeune de 19 ans sans diplôme qui cherche du travail", "status", "demandeur_emploi"),
        # the negation belongs to the noun it precedes: "aucun impact du handicap" keeps the handicap
        ("CDI, RQTH, aucun impact du handicap sur son activité", "disability", True),
        ("CDI, RQTH, aucun impact du handicap sur son activité", "disability_impact", False),
        # negation after the verb
        ("salarié RQTH dont le handicap ne pèse pas sur son travail", "disability_impact", False),
        ("salarié avec une rqth mais ça change rien à mon boulot", "disability_impact", False),
        ("travailleur handicapé, handicap sans incidence sur son poste", "disability_impact", False),
        ("RQTH, son handicap l'empêche de tenir son poste", "disability_impact", True),
        ("RQTH, je peux plus porter les patients", "disability_impact", True),
        ("maladie avec des répercussions importantes sur son activité", "disability_impact", True),
        # "sans logement" states the need
        ("22 ans, sans logement stable", "needs", frozenset({"social"})),
        ("besoin d'aide pour se loger", "needs", frozenset({"social"})),
        # durations: a job search only after job-search words
        ("serveur en cdi depuis 6 ans", "job_search_months", None),
        ("DE depuis 8 mois", "job_search_months", 8),
        ("au chômage depuis 2 ans", "job_search_months", 24),
        ("je viens d'avoir mon master en droit", "young_graduate", True),
    ],
)
def test_clauses_negations_and_durations(text: str, field: str, value: object) -> None:
    assert getattr(router().extract(text), field) == value


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("salarié non cadre", "cadre", False),
        ("salarié (non-cadre)", "cadre", False),
        ("il n'est pas cadre", "cadre", False),
        ("cadre dans une banque", "cadre", True),
        ("dans le cadre du CEP", "cadre", None),
        ("RQTH sans impact sur son travail", "disability_impact", False),
        ("RQTH, son handicap n'a pas d'impact sur son projet", "disability_impact", False),
        ("RQTH sans aucun retentissement sur son travail", "disability_impact", False),
        ("RQTH, handicap avec un fort retentissement sur son poste", "disability_impact", True),
        ("pas de RQTH", "disability", False),
        ("n'est pas inscrit à Pôle emploi", "registered_pe", False),
        ("inscrite à Pôle Emploi", "registered_pe", True),
        ("sans projet clairement identifié", "project_clear", False),
        ("pas de CEP en cours", "current_operator", "aucun"),
        ("déjà accompagné par le Réseau EVA", "current_operator", "reseau_eva"),
        ("en CEP niveau 1 au Réseau EVA", "current_operator", "reseau_eva"),
        ("suivi par Pôle emploi", "current_operator", None),
        ("l'offre de l'APEC serait plus adaptée", "better_fit", "apec"),
        ("veut démissionner", "resigning", True),
        ("sans démissionner", "resigning", False),
        ("risque d'être déclaré inapte à son poste", "inaptitude_risk", True),
        ("jeune diplômé d'un master", "diploma_level", 7),
        ("jeune diplômée bac+3", "diploma_level", 6),
        ("titulaire d'un CAP", "diploma_level", 3),
    ],
)
def test_negations_and_values(text: str, field: str, value: object) -> None:
    assert getattr(router().extract(text), field) == value


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("jeune de moins de 26 ans", (14, 25)),
        ("salariés de 25 ans et moins", (14, 25)),
        ("cadre de plus de 50 ans", (51, 80)),
        ("demandeur d'emploi depuis 2 ans", (14, 80)),  # a duration, not an age
        ("Un jeune réfugié de 21 ans", (21, 21)),
    ],
)
def test_age_numbers(text: str, interval: tuple[int, int]) -> None:
    assert router().extract(text).interval("age") == interval


def test_job_seeker_of_unknown_age_is_sent_to_pole_emploi_provisionally() -> None:
    r = router()
    answer = r.route(r.extract("je suis au chomage, ou aller ?"))
    assert answer.intent == "clarify" and "âge" in answer.follow_up
    assert [o.id for o in answer.operators][:2] == ["pole_emploi", "mission_locale"]


def test_age_bound_decides_without_question() -> None:
    r = router()
    answer = r.route(r.extract("demandeur d'emploi de moins de 26 ans"))
    assert answer.intent == "routing" and answer.operators[0].id == "mission_locale"


@pytest.mark.parametrize(
    "text",
    [
        "c ou que je dois aller, je suis au chomage j'ai 23 ans",
        "Appelant salarié RQTH sans impact : Réseau EVA ou Cap Emploi ?",
        "Salarié cadre : vers qui l'orienter ?",
        "je suis cadre, qui m'accompagne pour le CEP ?",
        "Appelant 24 ans, CDI, veut changer de métier",
        "mon medecin du travail dit que je risque d'etre inapte, qui peut m'aider ?",
        "Demandeur d'emploi de 40 ans : le Réseau EVA est-il la bonne porte d'entrée ?",
        # a situation and a request for help / a place / an organisation, in any wording
        "je sais pas quoi faire de ma vie pro, je suis salarié dans un resto, vous pouvez m'aider ?",
        "un jeune de 19 ans sans diplôme qui cherche du travail, on l'envoie où ?",
        "Je suis auto-entrepreneur, est-ce que j'ai droit au CEP et où ?",
        "je suis en poste comme comptable, pas cadre, j'ai envie d'autre chose, je fais comment ?",
        "vendeuse dans un magasin, je fais comment pour avoir un conseiller ?",
        "chomeur de longue duree 55 ans, ou je m'adresse ?",
        "ancien cadre licencié, je vais où ?",
        "serveur en cdi, ou je peux me renseigner ?",
        "handicapée et sans emploi, on me dit cap emploi, c'est toujours eux ?",
        "déjà suivi par le réseau eva, je peux aussi prendre un conseiller à pôle emploi ?",
        "En CEP au Réseau EVA quand il était salarié, il a perdu son emploi : doit-il changer d'opérateur ?",
        "je suis salarié, mes horaires de nuit ne me conviennent plus, vers qui aller ?",
        "en arrêt maladie, le médecin du travail parle d'inaptitude, je peux voir qui ?",
        "je suis en intérim depuis 3 ans, j'aimerais un conseil pour ma carrière",
    ],
)
def test_routing_questions(text: str) -> None:
    r = router()
    assert r.is_routing_question(text, r.extract(text))


@pytest.mark.parametrize(
    "text",
    [
        "Combien de conseillers Pôle Emploi sont mobilisés sur le CEP en Occitanie ?",
        "au reseau eva en 2021 combien de % des gens accompagnés etaient inscrits a pole emploi",
        "Quelle part des cadres connaissent le CPF ?",
        "Nombre de demandeurs d'emploi en situation de handicap inscrits à Pôle emploi ?",
        "Qu'est-ce que la prestation Activ'Projet de Pôle Emploi ?",
        "c quoi le CEP ? c'est payant ?",
        "je suis nul en informatique et au chomage, pole emploi peut m'aider pour le numérique ?",
        "À quelles structures le CEP a-t-il été confié dès sa création ?",
        "il va faire beau a toulouse ce week end ?",
        # contact questions, even with a situation, go to the operators' stated channels
        "quel est le numéro de téléphone de l'APEC ?",
        "adresse de la mission locale de Toulouse ?",
        "je suis cadre, quel est le numero de l'apec ?",
        "quelles sont les horaires de la mission locale de Nimes ? j'ai 20 ans",
        "Comment joindre Cap emploi par téléphone ?",
        # a situation, but a question about a service, a figure or a definition
        "je suis au chomage, pole emploi peut m'aider pour passer le permis ?",
        "Est-ce que je peux avoir des aides de Pôle emploi pour la garde d'enfant ? je suis au chomage",
        "je suis au chomage, je peux passer a pole emploi pour mettre a jour mon dossier ?",
        "je suis en cdi, comment je fais pour utiliser mon cpf ?",
        "Salarié en CDI depuis 10 ans : combien d'heures de CPF ?",
        "je suis handicapé, c'est quoi le LUA ?",
        "Quel est le rôle de Cap emploi pour les salariés en risque d'inaptitude ?",
    ],
)
def test_not_routing_questions(text: str) -> None:
    r = router()
    assert not r.is_routing_question(text, r.extract(text))


# ---------------------------------------------------------------- form and text give the same decision

STATUS_TEXT = {
    "salarie_prive": "salarié en CDI",
    "demandeur_emploi": "demandeur d'emploi",
    "independant": "travailleur indépendant",
    "agent_public": "agent de la fonction publique",
    "etudiant": "étudiant",
}


@st.composite
def situations(draw: st.DrawFn) -> dict:
    f: dict = {"status": draw(st.sampled_from(sorted(STATUS_TEXT))), "age": draw(st.integers(18, 64))}
    for name in ("cadre", "disability"):
        v = draw(st.one_of(st.none(), st.booleans()))
        if v is not None:
            f[name] = v
    if f.get("disability"):
        v = draw(st.one_of(st.none(), st.booleans()))
        if v is not None:
            f["disability_impact"] = v
    if f["status"] == "salarie_prive" and draw(st.booleans()):
        f["resigning"] = True
    if draw(st.booleans()):
        f["current_operator"] = draw(
            st.sampled_from(["reseau_eva", "apec", "pole_emploi", "mission_locale", "cap_emploi"])
        )
    return f


CURRENT_TEXT = {
    "reseau_eva": "déjà accompagné par le Réseau EVA",
    "apec": "déjà accompagné par l'APEC",
    "pole_emploi": "déjà en CEP à Pôle emploi",
    "mission_locale": "déjà accompagné par la Mission Locale",
    "cap_emploi": "déjà accompagné par Cap emploi",
}


def render(f: dict) -> str:
    parts = [f"Appelant {f['age']} ans", STATUS_TEXT[f["status"]]]
    if "cadre" in f:
        parts.append("cadre" if f["cadre"] else "non cadre")
    if f.get("disability") is True:
        impact = f.get("disability_impact")
        parts.append(
            "RQTH"
            + {
                None: "",
                True: " avec un fort retentissement sur son travail",
                False: " sans retentissement sur son travail",
            }[impact]
        )
    elif f.get("disability") is False:
        parts.append("pas de RQTH")
    if f.get("resigning"):
        parts.append("veut démissionner")
    if "current_operator" in f:
        parts.append(CURRENT_TEXT[f["current_operator"]])
    return ", ".join(parts) + " : quel opérateur ?"


@settings(max_examples=200, deadline=None)
@given(situations())
def test_form_and_text_give_the_same_decision(f: dict) -> None:
    r = router()
    text = render(f)
    by_form = r.route_fields(**f)
    by_text = r.route(r.extract(text), text)
    assert by_form.intent == by_text.intent, text
    assert [o.id for o in by_form.operators[:1]] == [o.id for o in by_text.operators[:1]], text
