"""Routing: from a situation to the CEP operator, with the reason and the passages behind it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import InvalidQuestion, KnowledgeError
from assistant.operators import Operator, load_operators, locate_operator_sources
from assistant.query import Query, QueryReader
from assistant.records import Answer
from assistant.routing.answers import AnswerWriter
from assistant.routing.detector import RoutingDetector, bank_vectors
from assistant.routing.examples import load_examples
from assistant.routing.rules import Decision, Question, RuleTable, load_rules
from assistant.routing.situation import (
    FIELD_SPECS,
    NO_OPERATOR,
    Lexicon,
    Situation,
    extract,
    load_lexicon,
    situation_from_fields,
    with_fields,
)
from assistant.routing.slots import SlotReader, merge
from index.encoders import Encoder
from index.queries import Embed, embedder
from ingest.corpus import Corpus

log = logging.getLogger(__name__)
EXAMPLES = "routing_examples.jsonl"
DETECTOR = "models/routing_detector.json"  # fitted by `make fit` (scripts/fit.py)


class Router:
    """Validated routing knowledge (operators, rules, lexicon) and the corpus it cites."""

    def __init__(
        self,
        table: RuleTable,
        lexicon: Lexicon,
        operators: dict[str, Operator],
        corpus: Corpus,
        analyzer: QueryReader,
        detector: RoutingDetector | None = None,
        slots: SlotReader | None = None,
        embed: Embed | None = None,
    ) -> None:
        """analyzer: the one reader of questions; a question given as text is read by it."""
        self.table = table
        self.analyzer = analyzer
        self.lexicon = lexicon
        self.operators = operators
        self.corpus = corpus
        self.detector = detector
        self.slots = slots  # the learned situation slots (make fit), read with the question's embedding
        self.embed = embed  # the question's embedding (the index's query cache in the application)
        self.writer = AnswerWriter(operators, corpus)

    @classmethod
    def load(
        cls,
        knowledge_dir: Path,
        corpus: Corpus,
        encoder: Encoder | None = None,
        embed: Embed | None = None,
        analyzer: QueryReader | None = None,
    ) -> Router:
        """Read and validate operators, rules and lexicon; a KnowledgeError names the file and row.

        With an encoder, the routing-question detector fitted for it by `make fit` (knowledge/models/) is
        loaded; without one, or for a model it was not fitted with, the lexicon's question cues decide.
        embed: the question embedder the detector and the slots read (the application passes the index's
        cached one: one embedding a question); by default, the encoder's query side without a cache.
        analyzer: the question reader the application shares between engines; by default, one for this corpus.
        """
        operators, lost = locate_operator_sources(load_operators(knowledge_dir), corpus)
        table = load_rules(knowledge_dir / "routing_rules.toml", corpus)
        for problem in [*lost, *table.lost]:  # knowledge written for documents this corpus lacks
            log.warning("Orientation : %s", problem)
        if not table.rules:
            raise KnowledgeError("aucune règle d'orientation n'a de source dans ce corpus.")
        lexicon = load_lexicon(knowledge_dir / "routing_lexicon.toml", operators)
        router = cls(table, lexicon, operators, corpus, analyzer or QueryReader.load(knowledge_dir, corpus))
        path = knowledge_dir / DETECTOR
        if encoder is not None:
            if path.exists():
                router.detector = RoutingDetector.load(path, encoder, embed)
            router.embed = embed or (router.detector.vector if router.detector else embedder(encoder))
            router.slots = SlotReader.load(knowledge_dir, encoder.fingerprint)
        return router

    def fit_detector(self, encoder: Encoder, path: Path, cache_dir: Path | None = None) -> RoutingDetector:
        """The detector fitted on the example bank at path (scripts/fit.py; tests)."""
        bank = load_examples(path)
        signals = np.stack([self.signals(t) for t in bank.texts])
        return RoutingDetector.fit(encoder, bank_vectors(encoder, bank, cache_dir), signals, bank.labels)

    # ------------------------------------------------------------ reading the question

    def query(self, question: Query | str) -> Query:
        """A question's reading: given, or made by the shared analyzer."""
        return self.analyzer.of(question)

    def extract(self, question: Query | str) -> Situation:
        """The caller's situation as the lexicon reads it in a question (the detector's signals)."""
        return extract(self.query(question), self.lexicon)

    def read(self, question: Query | str, sit: Situation | None = None) -> Situation:
        """The caller's situation: the lexicon's reading corrected by the learned slots sure of themselves."""
        q = self.query(question)
        sit = sit if sit is not None else self.extract(q)
        if self.slots is None or self.embed is None:
            return sit
        return merge(sit, self.slots.read(q.text, self.embed(q.text), sit))

    def is_routing_question(self, question: Query | str, sit: Situation) -> bool:
        """True when the question asks where / to whom a person in a stated situation should go."""
        q = self.query(question)
        if self.detector is not None:
            return self.detector.is_routing(q.text, self.signals(q, sit))
        return self.cue_detection(q, sit)

    def cue_detection(self, question: Query | str, sit: Situation) -> bool:
        """The lexicon's verdict alone: a stated situation and a where-to-go cue, no figure or definition cue."""
        norm = self.query(question).folded
        if any(p.search(norm) for p in self.lexicon.not_routing):
            return False
        if sit.is_empty():
            return False
        if self.lexicon.either.search(norm):
            return True
        return any(p.search(norm) for p in self.lexicon.routing)

    def signals(self, question: Query | str, sit: Situation | None = None) -> np.ndarray:
        """What the situation extractor and the lexicon see in a question, as numbers in [0, 1] (detector input)."""
        q = self.query(question)
        sit = sit if sit is not None else self.extract(q)
        norm = q.folded
        known = sit.known()
        routing_cue = bool(self.lexicon.either.search(norm)) or any(p.search(norm) for p in self.lexicon.routing)
        return np.array(
            [
                min(len(known), 4) / 4,
                sit.status is not None,
                any(k.startswith("age") for k in known),
                routing_cue,
                any(p.search(norm) for p in self.lexicon.not_routing),
                bool(sit.mentioned),
                sit.current_operator not in (None, NO_OPERATOR),  # a CEP under way: which one to keep?
                self.cue_detection(q, sit),
            ],
            dtype=np.float32,
        )

    # ------------------------------------------------------------ deciding

    def decide(self, sit: Situation) -> Decision:
        """The rules that hold for a situation (completed with the documented defaults)."""
        done = self.table.complete(sit)
        kept, overridden = self.table.fired(done)
        primary = kept[0].primary if kept else None
        return Decision(done, primary, tuple(kept), tuple(overridden))

    def _candidates(self, name: str, sit: Situation) -> list[Any]:
        spec = FIELD_SPECS[name]
        if spec.kind != "int":
            return list(spec.values)
        lo, hi = sit.interval(name)
        values = sorted(v for v in self.table.thresholds(name) | {lo, hi} if lo <= v <= hi)
        return values

    def pending_question(self, sit: Situation) -> tuple[Question, dict[Any, Decision]] | None:
        """The first missing fact whose value would change the operator, with each branch."""
        done = self.table.complete(sit)
        asked: set[str] = set()
        for q in self.table.questions:
            if getattr(done, q.field) is not None or q.field in asked or not q.applies(done):
                continue
            asked.add(q.field)  # the first question that applies speaks for its field
            branches = {v: self.decide(with_fields(done, **{q.field: v})) for v in self._candidates(q.field, done)}
            if len({d.primary for d in branches.values()}) > 1:
                return q, branches
        return None

    def provisional(self, sit: Situation) -> Decision:
        """The decision with every missing decisive fact at its provisional value, one question after another."""
        for _ in range(len(self.table.questions)):
            pending = self.pending_question(sit)
            if pending is None or pending[0].provisional is None:
                break
            q = pending[0]
            sit = with_fields(self.table.complete(sit), **{q.field: q.provisional})
        return self.decide(sit)

    # ------------------------------------------------------------ answering

    def route(self, sit: Situation, question: str = "") -> Answer:
        """Intent routing (or clarify, abstain): operators, 2-3 sentences, the passages behind."""
        pending = self.pending_question(sit)
        if pending is None:
            return self.writer.answer(question, self.decide(sit))
        q, branches = pending
        provisional: Decision | None = self.provisional(sit) if q.provisional is not None else None
        if provisional is None or not provisional.primary:
            provisional = next((d for d in branches.values() if d.primary), self.decide(sit))
        return self.writer.clarify(question, q, provisional, branches)

    def route_fields(self, **fields: Any) -> Answer:
        """The structured entry point (the app's form): same decision as the same facts in text."""
        try:
            sit = situation_from_fields(**fields)
        except ValueError as exc:
            raise InvalidQuestion(str(exc)) from exc
        return self.route(sit, question="")
