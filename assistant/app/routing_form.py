"""The advisors' routing form: its fields, a French description of the situation, and the routing call."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from assistant.errors import CepError
from assistant.pipeline import Assistant
from assistant.records import Answer
from assistant.routing import Router

log = logging.getLogger(__name__)

# (value, label) pairs; the values are those of the routing rules (knowledge/routing_rules.toml).
STATUSES = (
    ("salarie_prive", "Salarié·e du secteur privé"),
    ("independant", "Travailleur·se indépendant·e"),
    ("agent_public", "Agent public"),
    ("demandeur_emploi", "Demandeur·se d'emploi"),
    ("etudiant", "Étudiant·e"),
)
DIPLOMAS = (
    (3, "CAP, BEP (niveau 3)"),
    (4, "Baccalauréat (niveau 4)"),
    (5, "Bac+2 : BTS, DUT (niveau 5)"),
    (6, "Bac+3 : licence, BUT (niveau 6)"),
    (7, "Bac+5 : master, ingénieur (niveau 7)"),
    (8, "Doctorat (niveau 8)"),
)
CURRENT_OPERATORS = (
    ("aucun", "Aucun"),
    ("reseau_eva", "Réseau EVA"),
    ("apec", "APEC"),
    ("pole_emploi", "Pôle emploi"),
    ("mission_locale", "Mission locale"),
    ("cap_emploi", "Cap emploi"),
)
_LABELS = {
    "status": "Statut",
    "age": "Âge",
    "cadre": "Cadre",
    "diploma_level": "Diplôme",
    "young_graduate": "Jeune diplômé·e",
    "disability": "Situation de handicap (RQTH)",
    "disability_impact": "Le handicap pèse sur l'emploi ou le projet",
    "inaptitude_risk": "Risque d'inaptitude",
    "current_operator": "Déjà suivi·e par",
    "resigning": "Projet de démission",
    "registered_pe": "Inscrit·e à Pôle emploi",
}


@dataclass(frozen=True)
class Situation:
    """What the advisor filled in; None means "not asked / unknown" and is not sent to routing."""

    status: str | None = None
    age: int | None = None
    cadre: bool | None = None
    diploma_level: int | None = None
    young_graduate: bool | None = None
    disability: bool | None = None
    disability_impact: bool | None = None
    inaptitude_risk: bool | None = None
    current_operator: str | None = None
    resigning: bool | None = None
    registered_pe: bool | None = None

    def fields(self) -> dict[str, Any]:
        """The filled-in fields, as keyword arguments of the routing engine."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) in French, for the summary."""
        out = []
        for key, value in self.fields().items():
            out.append((_LABELS[key], _value_text(key, value)))
        return out

    def sentence(self) -> str:
        """The situation as a caller would say it, for the question pipeline when no routing engine is there."""
        parts = []
        if self.status:
            parts.append(f"je suis {dict(STATUSES)[self.status].lower()}")
        if self.age is not None:
            parts.append(f"j'ai {self.age} ans")
        if self.cadre:
            parts.append("je suis cadre")
        if self.disability:
            parts.append("je suis en situation de handicap")
        if self.inaptitude_risk:
            parts.append("je risque une inaptitude")
        if self.resigning:
            parts.append("je veux démissionner")
        if self.current_operator and self.current_operator != "aucun":
            parts.append(f"je suis suivi par {dict(CURRENT_OPERATORS)[self.current_operator]}")
        head = ", ".join(parts)
        head = head[:1].upper() + head[1:] + ". " if head else ""
        return f"{head}Quel opérateur du conseil en évolution professionnelle peut m'accompagner ?"


def _value_text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key == "status":
        return dict(STATUSES).get(value, str(value))
    if key == "diploma_level":
        return dict(DIPLOMAS).get(value, str(value))
    if key == "current_operator":
        return dict(CURRENT_OPERATORS).get(value, str(value))
    if key == "age":
        return f"{value} ans"
    return str(value)


AGE_BOUNDS = (14, 80)  # the routing engine's bounds for an age (assistant/routing/situation.py FIELD_SPECS)


def parse_age(value: object) -> int | None:
    """The age typed in the form, or None when left empty; ValueError with a French message otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise ValueError("L'âge doit être un nombre entier (par exemple 45).") from None
    lo, hi = AGE_BOUNDS
    if number != int(number):
        raise ValueError("L'âge doit être un nombre entier d'années (par exemple 45).")
    if not lo <= number <= hi:
        raise ValueError(f"L'âge doit être compris entre {lo} et {hi} ans (vous avez saisi {int(number)}).")
    return int(number)


def age_limit(router: Router | None, operator: str) -> int | None:
    """The highest age the routing rules send to an operator (25 for the Missions locales), if any rule says."""
    limits = []
    for rule in router.table.rules if router is not None else ():
        if rule.primary != operator:
            continue
        for cond in rule.when:
            if cond.field == "age" and isinstance(cond.hi, int):
                limits.append(cond.hi)
    return max(limits) if limits else None


def inconsistencies(situation: Situation, router: Router | None = None) -> list[str]:
    """Facts of the form that contradict each other or the operators' public, in French (for the advisor)."""
    notes = []
    age = situation.age
    if situation.current_operator == "mission_locale" and age is not None:
        limit = age_limit(router, "mission_locale")
        if limit is not None and age > limit:
            who = f"{age} ans" + (", étudiant·e," if situation.status == "etudiant" else "")
            notes.append(
                f"Incohérence : l'appelant a {who} et serait suivi·e par une Mission locale, alors que les Missions "
                f"locales accompagnent les jeunes de moins de {limit + 1} ans. Vérifiez l'âge ou l'opérateur qui "
                "le suit avant de conclure."
            )
    if situation.disability is False and situation.disability_impact is not None:
        notes.append(
            "Incohérence : « Le handicap pèse sur l'emploi ou le projet » est renseigné alors que la situation de "
            "handicap est « Non »."
        )
    return notes


NO_ROUTER = (
    "Le moteur d'orientation n'est pas disponible : réponse tirée des documents à partir de la situation décrite."
)


def route(assistant: Assistant, situation: Situation) -> Answer:
    """The routing answer for a situation: the routing engine's structured entry when there is one."""
    router = assistant.router
    if router is None:
        answer = assistant.ask(situation.sentence())
        answer.message = answer.message or NO_ROUTER
        return answer
    try:
        answer = router.route_fields(**situation.fields())
    except (CepError, TypeError, ValueError) as exc:
        log.warning("Orientation structurée impossible (%s) ; repli sur la question.", type(exc).__name__)
        answer = assistant.ask(situation.sentence())
        answer.message = answer.message or NO_ROUTER
    return answer
