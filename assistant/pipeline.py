"""The question pipeline: normalize, classify the intent, retrieve, answer (routing, figure, passage, abstain)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.citations import Scored, answer_sentences, cite, quote_text, sentence_scores
from assistant.contacts import ContactDesk
from assistant.errors import IndexUnavailable, InvalidQuestion, KnowledgeError
from assistant.figures import FigureEngine
from assistant.normalize import clean_input
from assistant.query import Query, QueryReader
from assistant.questions import defines, definition_strength
from assistant.records import Answer, Hit
from assistant.routing import Router
from assistant.settings import Settings
from index.encoders import Encoder, make_encoder
from index.queries import Embed
from index.store import HybridIndex, build_atomically, current_build, is_fresh, top_rows
from ingest.corpus import Corpus, fingerprint, load_corpus
from ingest.facts import FactTables, extract_facts
from ingest.text import fold, stem, words

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]

ABSTAIN_TEXT = (
    "Les documents ne permettent pas de répondre à cette question. "
    "Voici les passages les plus proches, à titre de piste."
)


UNEXPECTED = "Une erreur inattendue m'empêche de répondre. Reformulez la question ou réessayez plus tard."
WARM_UP_QUESTION = "Combien de bénéficiaires du conseil en évolution professionnelle en 2021 ?"
DEFINITION_BOOST = 0.3  # on the fused score scale (a perfect match on both sides weighs 1)
RETRIEVAL_POOL = 30  # hits re-ranked for definitions and handed to the figure engine
# A definition proper comes first, per kind it is of: the acronym spelled out ("CHEOPS (Conseil National Handicap
# et Emploi…)"), "X est un/une/le/la …" (questions.definition_strength).
EXPANSION_BOOST = 1.0
DEFINITION_ROWS = 500  # passages holding a defined term that are checked for its definition
SOURCE_SENTENCE_WEIGHT = 0.0  # tune_retrieval.py --answers --source 0,0.25,0.5,1: no gain over the first hit


@dataclass
class Retrieval:
    """What retrieval found for a question, and how well it covers the question's words."""

    query: str  # what the lexical index read (filler out, synonyms in)
    hits: list[Hit]
    coverage: float
    dense_query: str = ""  # what the dense index read (the question as typed)


class Assistant:
    """Everything needed to answer: corpus, hybrid index, routing and figure engines. Load once."""

    def __init__(
        self,
        settings: Settings,
        corpus: Corpus,
        index: HybridIndex,
        analyzer: QueryReader,
        router: Router | None = None,
        figures: FigureEngine | None = None,
    ) -> None:
        """The engines come wired to the index's question embedder and to `analyzer`, the one reader of questions
        (`_engines`): one reading and one embedding a question."""
        self.settings = settings
        self.corpus = corpus
        self.index = index
        self.analyzer = analyzer
        self.router = router
        self.figures = figures
        self.contacts = _contacts(settings, corpus, analyzer)

    # -- loading -----------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        encoder: Encoder | None = None,
        progress: Progress | None = None,
        rebuild: bool = False,
    ) -> Assistant:
        """Load the index, building it first when missing, stale (documents or model changed) or damaged."""
        settings = settings or Settings.from_env()
        encoder = encoder or make_encoder(settings.model_name)
        corpus = load_corpus(settings.corpus_dir, progress=progress)
        if rebuild or not is_fresh(settings.index_dir, encoder.name, corpus.fingerprint):
            build_index(settings, corpus, encoder, progress)
        folder = current_build(settings.index_dir)
        try:
            if folder is None:
                raise IndexUnavailable("Aucun index construit.")
            index = HybridIndex.load(folder, encoder, settings.dense_weight)
        except IndexUnavailable as exc:
            log.warning("%s Reconstruction de l'index.", exc)
            folder = build_index(settings, corpus, encoder, progress)
            index = HybridIndex.load(folder, encoder, settings.dense_weight)
        analyzer = QueryReader.load(settings.knowledge_dir, corpus)
        router, figures = _engines(settings, corpus, folder, index.encoder, index.query_vector, analyzer)
        assistant = cls(settings, corpus, index, analyzer, router, figures)
        assistant.ask(WARM_UP_QUESTION)  # loads the model and fills caches now, not on the first user question
        return assistant

    # -- answering ---------------------------------------------------------------------------
    def retrieve(self, question: Query | str, k: int = 8, spelled_out: bool = False) -> Retrieval:
        """Hybrid search for a question (its reading, or the question cleaned, as typed), with the coverage of its
        words by the best hits.

        The meaning side reads the question as typed, the vector the detectors read too (one embedding a
        question): the adapted model was fitted on questions as people type them. With the shorthand
        spelled out instead, passages cited@3 on the bank's train sections read 0.767, not 0.789.
        The words side reads it normalized, acronyms spelled out ("PTP projet de transition
        professionnelle"); there the words the lexicon adds weigh less than the question's own
        (Fusion.added_weight): spelled out in full, common words ("projet", "professionnelle") weigh as much
        as the acronym and pull passages about any project. spelled_out: added words weigh in full, as the
        figure ranker was fitted (left out, its cross-validated wrong rate rose from 2.1 % to 2.9 %).

        A definition question ("qu'est-ce que X ?") also weighs every passage holding X (a term named in
        many passages may be defined in none of the best ones), and the passages defining X come first.
        """
        q = self.analyzer.of(question)
        query = q.search
        index = self.index
        if spelled_out:
            scores = index.scores(query, dense_query=q.text)
        else:
            scores = index.scores(q.own, dense_query=q.text, added=query)
        rows = top_rows(scores, max(k, RETRIEVAL_POOL))
        term = q.definition
        if term:  # a definition question: passages that define the term come first
            seen = set(rows)
            rows += [int(i) for i in index.lexical.rows_with(term)[:DEFINITION_ROWS] if int(i) not in seen]
            boosted = {
                i: float(scores[i])
                + DEFINITION_BOOST * defines(index.chunks[i].quote, term)
                + EXPANSION_BOOST * definition_strength(index.chunks[i].quote, term)
                for i in rows
            }
            rows = sorted(rows, key=lambda i: -boosted[i])  # stable: ties keep the retrieval order
            hits = [Hit(index.chunks[i], boosted[i]) for i in rows[:k]]
        else:
            hits = [Hit(index.chunks[i], float(scores[i])) for i in rows[:k]]
        coverage = 0.0
        for hit in hits[:3]:
            coverage = max(coverage, index.lexical.coverage(query, index.row_of(hit.chunk.id)))
        return Retrieval(query, hits, coverage, q.text)

    def ask(self, question: str, qid: str = "", previous: Answer | None = None) -> Answer:
        """Answer one question; bad input gets a French message in an abstain answer, never an exception.

        previous: the answer before it in the same conversation, for elliptic follow-ups ("et en 2020 ?").
        """
        started = time.perf_counter()
        try:
            text = clean_input(question, self.settings.max_question_chars)
        except InvalidQuestion as exc:
            return _done(Answer(str(question or ""), "abstain", str(exc), message=str(exc), id=qid), started)
        query = self.analyzer.read(text, previous)
        try:
            answer = self._follow_up(query) or self._answer(query)
        except Exception:  # a defect must not reach the user as a stack trace; it is logged in full
            log.exception("Erreur en répondant à une question")
            answer = Answer(text, "abstain", UNEXPECTED, message=UNEXPECTED)
        answer.id = qid
        answer.question = text
        answer.normalized_question = query.normalized
        return _done(answer, started)

    def _answer(self, query: Query) -> Answer:
        text = query.text
        if self.contacts is not None:
            contact = self.contacts.answer(query)
            if contact is not None:
                return contact
        if self.router is not None:
            # The router's cues read the question's folded reading; its detector and learned slots, fitted on
            # questions as people type them, read the question as typed.
            situation = self.router.extract(query)
            if self.router.is_routing_question(query, situation):
                return self.router.route(self.router.read(query, situation), text)
        # A figure question always gets a figure answer: one number, candidates, or "not in the documents".
        if self.figures is not None and self.figures.is_figure_question(query):
            return self.figures.answer(query, self.retrieve(query, spelled_out=True).hits)
        return self.passage_answer(text, self.retrieve(query))

    def _follow_up(self, query: Query) -> Answer | None:
        """An elliptic follow-up of a figure question ("et en 2020 ?", "et pour l'APEC ?"), answered as the
        previous question with the slot it changes; None when the question stands on its own."""
        text, previous = query.text, query.previous
        if previous is None:
            return None
        router = self.router
        routing = previous.intent in ("routing", "clarify") and _elliptic(text)
        if router is not None and routing and not router.extract(query).is_empty():
            # "et s'il a 30 ans ?": the caller's situation so far, with what this message adds
            combined = f"{previous.question}. {text}"
            return router.route(router.read(combined), combined)
        if self.figures is None or previous.intent not in ("figure", "abstain"):
            return None
        if previous.figure is None and previous.intent == "abstain":
            return None
        earlier = previous.query
        if earlier is None:
            if not self.figures.is_figure_question(previous.question):
                return None
            earlier = self.figures.parse(previous.question)
        figure = self.figures.reader.follow_up(query, earlier)
        if figure is None:
            return None
        retrieval = self.retrieve(figure.text, spelled_out=True)
        return self.figures.answer(figure.text, retrieval.hits, query=figure)

    def passage_answer(self, question: str, retrieval: Retrieval) -> Answer:
        """Extractive French answer: whole sentences of one passage, in their order, or abstain with leads.

        The citations are the retrieved passages in retrieval order (the quoted one first), so they hold
        what retrieval found; each highlights its answering sentence.
        """
        hits = retrieval.hits
        scorer = self._sentence_scorer(retrieval)
        if not hits or retrieval.coverage < self.settings.abstain_threshold:
            return Answer(question, "abstain", ABSTAIN_TEXT, citations=cite(hits, retrieval.query, scorer=scorer))
        scored = {h.chunk.id: scorer(h) for h in hits[:3]}
        source = _quoted_passage(hits[:3], scored)
        picked = answer_sentences(scored[source.chunk.id])
        if not picked:
            return Answer(question, "abstain", ABSTAIN_TEXT, citations=cite(hits, retrieval.query, scorer=scorer))
        highlights = {cid: max(s, key=lambda x: x.score).text for cid, s in scored.items() if s}
        highlights[source.chunk.id] = max(picked, key=lambda x: x.score).text
        order = [source, *(h for h in hits if h is not source)]
        citations = cite(order, retrieval.query, highlights=highlights, scorer=scorer)
        return Answer(question, "passage", f"D'après les documents : « {quote_text(picked)} »", citations=citations)

    def _sentence_scorer(self, retrieval: Retrieval) -> Callable[[Hit], list[Scored]]:
        """Scores the sentences of a hit against the question: idf-weighted shared words and sentence cosine."""
        lexical = self.index.lexical
        weights: dict[str, float] = {}
        for w in words(retrieval.query):
            s = stem(w)
            col = lexical.vocab.get(s)
            weights[s] = max(weights.get(s, 0.0), float(lexical.idf[col]) if col is not None else 0.0)

        def score(hit: Hit) -> list[Scored]:
            dense = self.index.sentence_similarities(retrieval.dense_query or retrieval.query, hit.chunk.id)
            return sentence_scores(hit.chunk.quote, weights, dense)

        return score

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Hybrid search with the question normalization applied."""
        text = clean_input(query, self.settings.max_question_chars)
        return self.retrieve(text, k=k).hits


_CONTINUES = re.compile(r"^\W*(?:et|mais|si|s'|sinon|aussi|pareil|idem|ah|non|oui)\b|\ben fait\b|\bplutot\b")


def _elliptic(text: str) -> bool:
    """A message that only continues the previous one: "et …", "mais …", "s'il …", "… en fait"."""
    return bool(_CONTINUES.search(fold(text).replace("\u2019", "'").strip()))


def _quoted_passage(hits: list[Hit], scored: dict[str, list[Scored]]) -> Hit:
    """The passage an answer quotes: the best hit, unless another of the first three holds a sentence that
    answers clearly better (its retrieval score relative to the best, plus SOURCE_SENTENCE_WEIGHT times its
    best sentence's score)."""

    def value(hit: Hit) -> float:
        best = max((s.score for s in scored.get(hit.chunk.id, [])), default=0.0)
        return hit.score / (hits[0].score or 1.0) + SOURCE_SENTENCE_WEIGHT * best

    return max(hits, key=value) if SOURCE_SENTENCE_WEIGHT > 0 else hits[0]


def _done(answer: Answer, started: float) -> Answer:
    answer.latency_ms = (time.perf_counter() - started) * 1000
    return answer


def build_index(settings: Settings, corpus: Corpus, encoder: Encoder, progress: Progress | None = None) -> Path:
    """Build the index of a corpus (and its figure tables) atomically; returns its folder."""

    def facts(folder: Path) -> None:
        extract_facts(corpus, settings.knowledge_dir).save(folder / "facts")

    return build_atomically(
        settings.index_dir,
        corpus.chunks,
        encoder,
        corpus.fingerprint or fingerprint(settings.corpus_dir),
        settings.dense_weight,
        progress,
        (facts,),
    )


def _contacts(settings: Settings, corpus: Corpus, analyzer: QueryReader) -> ContactDesk | None:
    try:
        return ContactDesk(settings.knowledge_dir, corpus, analyzer)
    except KnowledgeError as exc:
        log.warning("Questions de contact désactivées : %s", exc)
        return None


def _engines(
    settings: Settings, corpus: Corpus, folder: Path, encoder: Encoder, embed: Embed, analyzer: QueryReader
) -> tuple[Router | None, FigureEngine | None]:
    """The routing and figure engines of a corpus, both reading questions through `analyzer` (one reading a
    question) and `embed` (the index's cached embedder: one model in memory, one embedding a question). An
    engine whose knowledge does not hold for this corpus is switched off with a warning that says why."""
    router = figures = None
    try:
        router = Router.load(settings.knowledge_dir, corpus, encoder, embed, analyzer)
    except KnowledgeError as exc:  # e.g. the documents the rules cite are not in this corpus
        log.warning("Orientation désactivée : %s", exc)
    try:
        facts_dir = folder / "facts"
        try:
            facts = FactTables.load(facts_dir)
        except KnowledgeError as exc:  # absent or from another version: extract again, in memory
            log.warning("%s", exc)
            facts = extract_facts(corpus, settings.knowledge_dir)
        figures = FigureEngine(
            facts, corpus, settings.knowledge_dir, encoder, facts_dir, embed=embed, analyzer=analyzer
        )
    except KnowledgeError as exc:  # e.g. no fitted ranker: figure questions get passage answers
        log.warning("Chiffres désactivés : %s", exc)
    return router, figures


_shared: dict[str, Assistant] = {}
_lock = threading.Lock()


def shared_assistant(settings: Settings | None = None) -> Assistant:
    """One Assistant per process (the CLI's lazy singleton)."""
    settings = settings or Settings.from_env()
    key = f"{settings.corpus_dir}|{settings.index_dir}|{settings.model_name}"
    with _lock:
        if key not in _shared:
            _shared[key] = Assistant.load(settings)
        return _shared[key]
