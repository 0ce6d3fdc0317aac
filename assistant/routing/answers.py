"""A routing decision in words: the operators to name, the passages to cite, sentences their quotes back."""

from __future__ import annotations

import re
from typing import Any

from assistant.operators import Operator
from assistant.records import Answer, Citation, OperatorChoice
from assistant.routing.rules import Decision, Question, Rule, Source, test_all
from ingest.corpus import Corpus

MAX_CITATIONS = 6
_NUM = re.compile(r"\d+(?:[.,]\d+)?")


class AnswerWriter:
    """Writes a routing decision (or a pending question) as an answer with its operators and passages."""

    def __init__(self, operators: dict[str, Operator], corpus: Corpus) -> None:
        self.operators = operators
        self.corpus = corpus

    def _name(self, op: str) -> str:
        return self.operators[op].name

    def _call(self, op: str) -> str:
        return self.operators[op].call

    def _choices(self, decision: Decision) -> list[OperatorChoice]:
        rule = decision.rule
        if rule is None or not decision.primary:
            return []
        out = [OperatorChoice(decision.primary, self._name(decision.primary), "primary", rule.why)]
        seen = {decision.primary}
        for r in decision.rules:
            for alt in r.alternatives:
                if alt.operator not in seen and test_all(alt.when, decision.situation) is True:
                    seen.add(alt.operator)
                    out.append(OperatorChoice(alt.operator, self._name(alt.operator), "alternative", alt.why))
        return out

    def _sources(self, decision: Decision) -> list[tuple[Source, Rule]]:
        """Passages best first: each deciding rule's matching `when` sources, then the others."""
        ranked: list[tuple[Source, Rule]] = []
        for rules in (decision.rules, decision.overridden):
            queues = []
            for r in rules:
                hit = [s for s in r.sources if s.when and test_all(s.when, decision.situation) is True]
                plain = [s for s in r.sources if not s.when]
                queues.append([(s, r) for s in (*hit, *plain)])
            # Round robin: the first passage of every deciding rule before the second of any.
            while any(queues):
                for q in queues:
                    if q:
                        ranked.append(q.pop(0))
        return ranked

    def _citations(self, sources: list[Source]) -> list[Citation]:
        out: list[Citation] = []
        seen: set[tuple[str, int, int]] = set()
        for s in sources:
            key = (s.document, s.first, s.last)
            if key in seen:
                continue
            seen.add(key)
            out.append(self.corpus.citation(s.document, s.first, s.last, highlight=s.quote))
            if len(out) >= MAX_CITATIONS:
                break
        return out

    def _says(self, decision: Decision) -> list[str]:
        return [
            s.say
            for r in decision.rules
            for s in r.sources
            if s.say and s.when and test_all(s.when, decision.situation) is True
        ]

    def answer(self, question: str, decision: Decision) -> Answer:
        """The operators of a decision, 2-3 sentences and the passages behind (or an honest abstention)."""
        ranked = self._sources(decision)
        citations = self._citations([s for s, _ in ranked])
        choices = self._choices(decision)
        rule = decision.rule
        if rule is None or not decision.primary:
            why = (
                rule.why
                if rule
                else "Les documents ne permettent pas de désigner un opérateur du CEP pour cette situation."
            )
            text = _faithful([why, "Aucun opérateur n'est désigné par les documents pour ce cas."], citations, question)
            return Answer(question, "abstain", text, citations, [], message="Cas non tranché par les documents.")
        sentences = [f"Orientez vers {self._call(decision.primary)}. {rule.why}"]
        alts = choices[1:]
        if len(alts) == 1:
            sentences.append(f"Autre possibilité : {alts[0].name}. {alts[0].why}")
        elif alts:
            sentences.append(f"Autres possibilités : {', '.join(a.name for a in alts)}.")
        sentences.extend(self._says(decision)[:1])
        text = _faithful(sentences, citations, question)
        return Answer(question, "routing", text, citations, choices)

    def clarify(self, question: str, q: Question, provisional: Decision, branches: dict[Any, Decision]) -> Answer:
        """A provisional answer and the question whose answer may change the operator."""
        choices = self._choices(provisional)
        seen = {c.id for c in choices}
        for d in branches.values():
            if d.primary and d.primary not in seen and d.rule:
                seen.add(d.primary)
                choices.append(OperatorChoice(d.primary, self._name(d.primary), "alternative", d.rule.why))
        ranked = [s for s, _ in self._sources(provisional)]
        others = [s for d in branches.values() if d.primary != provisional.primary for s, _ in self._sources(d)[:1]]
        citations = self._citations([*ranked[:3], *q.sources, *others, *ranked[3:]])
        if choices:
            first = f"Réponse provisoire : orientez vers {self._call(choices[0].id)}. {choices[0].why}"
        else:
            first = "Les documents ne désignent pas d'opérateur sans cette précision."
        text = _faithful([first, f"À vérifier avant de confirmer : {q.text}"], citations, question)
        return Answer(question, "clarify", text, citations, choices, follow_up=q.text)


def _faithful(sentences: list[str], citations: list[Citation], question: str) -> str:
    """Join sentences, leaving out any that states a number no cited quote nor the question holds."""
    known = {n.replace(",", ".") for c in citations for n in _NUM.findall(c.quote)}
    known |= {n.replace(",", ".") for n in _NUM.findall(question)}
    kept = [s for s in sentences if all(n.replace(",", ".") in known for n in _NUM.findall(s))]
    return " ".join(kept)
