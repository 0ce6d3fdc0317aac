"""Is this a figure question? A text classifier learned from labeled questions, beside the lexicon's cues.

The cues of knowledge/figure_lexicon.toml ("combien", "taux", "part"…) catch every figure question but
also questions that only contain such a word ("dans les temps", "l'arrêté du 29 mars 2019"). The
classifier, fitted by `make fit` (scripts/fit.py) on the figure questions of
knowledge/training/figure_questions.jsonl, the labeled questions of knowledge/routing_examples.jsonl and the
questions of the bank's train sections (a figure or a near miss asks a number, a passage question does not),
and saved in knowledge/models/, must agree. Its cross-validated accuracy is in the artefact's manifest
(tests/test_figures.py keeps a floor).
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant import learned
from assistant.errors import KnowledgeError
from assistant.learned import Logistic
from ingest.text import fold

FIGURE_QUESTIONS = Path("training") / "figure_questions.jsonl"
EXAMPLES = "routing_examples.jsonl"
C = 10.0  # inverse regularization, the best of 1 / 10 / 100 in 5-fold cross-validation on the same questions


def labeled_questions(knowledge_dir: Path) -> tuple[list[str], list[int]]:
    """Questions and 1 (asks a figure) / 0 (routing, explanation, contact), from the knowledge files."""
    texts: list[str] = []
    labels: list[int] = []
    for name, kind_of in ((FIGURE_QUESTIONS, lambda r: "figure"), (EXAMPLES, lambda r: r.get("kind"))):
        path = knowledge_dir / name
        try:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, ValueError) as exc:
            raise KnowledgeError(f"{path} : questions annotées illisibles ({exc}).") from exc
        for r in rows:
            kind = kind_of(r)
            if kind == "out_of_scope":
                continue  # a figure the documents lack, or no figure at all: it says nothing of the kind
            texts.append(str(r.get("question") or r.get("text") or ""))
            labels.append(1 if kind == "figure" else 0)
    return texts, labels


def make_classifier():
    """Character and word n-grams of the folded question (typos, no accents), logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    return make_pipeline(make_union(*_vectorizers()), LogisticRegression(C=C, max_iter=3000, class_weight="balanced"))


DETECTOR = Path("models") / "figure_detector.json"  # fitted by `make fit` (scripts/fit.py)


def _vectorizers():
    """Character n-grams (typos, no accents) and words of the folded question, TF-IDF weighted."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return (
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), preprocessor=fold, sublinear_tf=True, min_df=2),
        TfidfVectorizer(preprocessor=fold, ngram_range=(1, 2), sublinear_tf=True),
    )


class FigureQuestionDetector:
    """P(the question asks for a number): TF-IDF n-grams and a logistic regression, fitted by `make fit`."""

    def __init__(self, vectorizers: tuple, classifier: Logistic) -> None:
        self.vectorizers = vectorizers
        self.classifier = classifier

    @classmethod
    def fit(cls, texts: list[str], labels: list[int]) -> FigureQuestionDetector:
        if len(set(labels)) < 2:
            raise KnowledgeError("Questions annotées : il faut des questions chiffrées et d'autres.")
        model = make_classifier().fit(texts, labels)
        union = model.steps[0][1]
        vectorizers = tuple(v for _, v in union.transformer_list)
        return cls(vectorizers, Logistic.of(model.steps[-1][1]))

    def params(self) -> dict:
        """Vocabularies (sorted by column), idf weights and the classifier's weights, as JSON."""
        return {**self.classifier.params(), **learned.tfidf_params(self.vectorizers)}

    @classmethod
    def load(cls, knowledge_dir: Path) -> FigureQuestionDetector:
        """The detector saved by `make fit`; KnowledgeError when missing or unreadable."""
        _, params = learned.load(knowledge_dir / DETECTOR)
        return cls(learned.restore_tfidf(_vectorizers(), params), Logistic.from_params(params))

    def probability(self, text: str) -> float:
        from scipy.sparse import hstack

        x = hstack([learned.tfidf_transform(v, [text]) for v in self.vectorizers]).tocsr()
        return float(self.classifier.probability(x)[0])
