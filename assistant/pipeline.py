"""The question pipeline: normalize, classify the intent, retrieve, answer (routing, figure, passage, abstain)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.citations import cite, sentence_scores
from assistant.contacts import ContactDesk
from assistant.errors import IndexUnavailable, InvalidQuestion, KnowledgeError
from assistant.normalize import Lexicon, clean_input, expand_shorthand, load_lexicon, search_query
from assistant.questions import defines, definition_term
from assistant.records import Answer, Hit
from assistant.settings import Settings
from assistant.text import stem, words
from index.encoders import Encoder, make_encoder
from index.store import HybridIndex, build_atomically, current_build, is_fresh
from ingest.corpus import Corpus, fingerprint, load_corpus

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]

ABSTAIN_TEXT = (
    "Les documents ne permettent pas de répondre à cette question. "
    "Voici les passages les plus proches, à titre de piste."
)


UNEXPECTED = "Une erreur inattendue m'empêche de répondre. Reformulez la question ou réessayez plus tard."
WARM_UP_QUESTION = "Combien de bénéficiaires du conseil en évolution professionnelle en 2021 ?"
DEFINITION_BOOST = 0.3  # on the fused score scale (a perfect lexical match weighs 0.7)


@dataclass
class Retrieval:
    """What retrieval found for a question, and how well it covers the question's words."""

    query: str
    hits: list[Hit]
    coverage: float


class Assistant:
    """Everything needed to answer: corpus, hybrid index, routing and figure engines. Load once."""

    def __init__(
        self,
        settings: Settings,
        corpus: Corpus,
        index: HybridIndex,
        lexicon: Lexicon,
        router: Any = None,
        figures: Any = None,
    ) -> None:
        self.settings = settings
        self.corpus = corpus
        self.index = index
        self.lexicon = lexicon
        self.router = router
        self.figures = figures
        self.contacts = _contacts(settings, corpus)

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
        lexicon = load_lexicon(settings.knowledge_dir)
        assistant = cls(settings, corpus, index, lexicon, *_engines(settings, corpus, folder))
        assistant.ask(WARM_UP_QUESTION)  # loads the model and fills caches now, not on the first user question
        return assistant

    # -- answering ---------------------------------------------------------------------------
    def retrieve(self, normalized: str, k: int = 8) -> Retrieval:
        """Hybrid search for a normalized question, with the coverage of its words by the best hits."""
        query = search_query(normalized, self.lexicon)
        hits = self.index.search(query, k=max(k, 30), dense_query=normalized)
        term = definition_term(normalized)
        if term:  # a definition question: passages that define the term come first
            hits = sorted(hits, key=lambda h: -(h.score + DEFINITION_BOOST * defines(h.chunk.quote, term)))
        hits = hits[:k]
        coverage = 0.0
        for hit in hits[:3]:
            coverage = max(coverage, self.index.lexical.coverage(query, self.index.row_of(hit.chunk.id)))
        return Retrieval(query, hits, coverage)

    def ask(self, question: str, qid: str = "") -> Answer:
        """Answer one question; bad input gets a French message in an abstain answer, never an exception."""
        started = time.perf_counter()
        try:
            text = clean_input(question, self.settings.max_question_chars)
        except InvalidQuestion as exc:
            return _done(Answer(str(question or ""), "abstain", str(exc), message=str(exc), id=qid), started)
        normalized = expand_shorthand(text, self.lexicon)
        try:
            answer = self._answer(text, normalized)
        except Exception:  # a defect must not reach the user as a stack trace; it is logged in full
            log.exception("Erreur en répondant à une question")
            answer = Answer(text, "abstain", UNEXPECTED, message=UNEXPECTED)
        answer.id = qid
        answer.question = text
        answer.normalized_question = normalized
        return _done(answer, started)

    def _answer(self, text: str, normalized: str) -> Answer:
        if self.contacts is not None:
            contact = self.contacts.answer(normalized)
            if contact is not None:
                return contact
        if self.router is not None:
            situation = self.router.extract(normalized)
            if self.router.is_routing_question(normalized, situation):
                return self.router.route(situation, normalized)
        retrieval = self.retrieve(normalized)
        # The figure engine parses the question as typed (it has its own typo and alias matching).
        if self.figures is not None and self.figures.is_figure_question(text):
            answer = self.figures.answer(text, retrieval.hits)
            if answer is not None:
                return answer
        return self.passage_answer(text, retrieval)

    def passage_answer(self, question: str, retrieval: Retrieval) -> Answer:
        """Short extractive French answer from the best passages, or abstain with leads."""
        hits = retrieval.hits
        citations = cite(hits, retrieval.query)
        if not hits or retrieval.coverage < self.settings.abstain_threshold:
            return Answer(question, "abstain", ABSTAIN_TEXT, citations=citations)
        q = {stem(w) for w in words(retrieval.query)}
        scored = sentence_scores(hits[0].chunk.quote, q)
        for hit in hits[1:2]:
            scored += [(s * 0.8, t) for s, t in sentence_scores(hit.chunk.quote, q)]
        best = [t for s, t in sorted(scored, key=lambda x: -x[0])[:2] if s > 0]
        if not best:
            return Answer(question, "abstain", ABSTAIN_TEXT, citations=citations)
        text = f"D'après les documents : « {' '.join(best)} »"
        return Answer(question, "passage", text, citations=citations)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Hybrid search with the question normalization applied."""
        text = clean_input(query, self.settings.max_question_chars)
        return self.retrieve(expand_shorthand(text, self.lexicon), k=k).hits


def _done(answer: Answer, started: float) -> Answer:
    answer.latency_ms = (time.perf_counter() - started) * 1000
    return answer


def build_index(settings: Settings, corpus: Corpus, encoder: Encoder, progress: Progress | None = None) -> Path:
    """Build the index of a corpus (and its figure tables) atomically; returns its folder."""
    hooks = []
    try:
        from ingest.facts import extract_facts

        hooks.append(lambda folder: extract_facts(corpus).save(folder / "facts"))
    except ImportError:  # figures engine not installed
        pass
    return build_atomically(
        settings.index_dir,
        corpus.chunks,
        encoder,
        corpus.fingerprint or fingerprint(settings.corpus_dir),
        settings.dense_weight,
        progress,
        tuple(hooks),
    )


def _contacts(settings: Settings, corpus: Corpus) -> ContactDesk | None:
    try:
        return ContactDesk(settings.knowledge_dir, corpus)
    except KnowledgeError as exc:
        log.warning("Questions de contact désactivées : %s", exc)
        return None


def _engines(settings: Settings, corpus: Corpus, folder: Path) -> tuple[Any, Any]:
    router = figures = None
    try:
        from assistant.routing import Router

        router = Router.load(settings.knowledge_dir, corpus)
    except ImportError:
        log.info("Moteur d'orientation absent.")
    except KnowledgeError as exc:  # e.g. the documents the rules cite are not in this corpus
        log.warning("Orientation désactivée : %s", exc)
    try:
        from assistant.figures import FigureEngine
        from ingest.facts import FactTables, extract_facts

        facts_dir = folder / "facts"
        try:
            facts = FactTables.load(facts_dir)
        except KnowledgeError as exc:  # absent or from another version: extract again, in memory
            log.warning("%s", exc)
            facts = extract_facts(corpus)
        figures = FigureEngine(facts, corpus, settings.knowledge_dir)
    except ImportError:
        log.info("Moteur des chiffres absent.")
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
