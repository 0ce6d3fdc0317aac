"""Is this a figure question? A text classifier learned from labeled questions, beside the lexicon's cues.

The cues of knowledge/figure_lexicon.toml ("combien", "taux", "part"…) catch every figure question but
also questions that only contain such a word ("dans les temps", "l'arrêté du 29 mars 2019"). The
classifier, fitted when the engine loads (a fraction of a second) on the figure questions of
knowledge/training/figure_questions.jsonl and the labeled questions of knowledge/routing_examples.jsonl,
must agree. Cross-validated accuracy on those 687 questions: 0.968 (tests/test_figures.py keeps a floor).
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.errors import KnowledgeError
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
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), preprocessor=fold, sublinear_tf=True, min_df=2),
        TfidfVectorizer(preprocessor=fold, ngram_range=(1, 2), sublinear_tf=True),
    )
    return make_pipeline(features, LogisticRegression(C=C, max_iter=3000, class_weight="balanced"))


class FigureQuestionDetector:
    """P(the question asks for a number), fitted on the labeled questions."""

    def __init__(self, knowledge_dir: Path) -> None:
        texts, labels = labeled_questions(knowledge_dir)
        if len(set(labels)) < 2:
            raise KnowledgeError("Questions annotées : il faut des questions chiffrées et d'autres.")
        self.model = make_classifier().fit(texts, labels)

    def probability(self, text: str) -> float:
        return float(self.model.predict_proba([text])[0, 1])
