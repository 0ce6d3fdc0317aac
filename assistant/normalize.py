"""Question normalization: control characters, shorthand and informal spellings, search expansion."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from assistant.clauses import Negation, Subject, negation_of, subject_of
from assistant.errors import InvalidQuestion, KnowledgeError
from ingest.text import fold

_WORD = re.compile(r"[\w\u00c0-\u024f%²]+", re.UNICODE)
_SHORT = re.compile(r"[\w\u00c0-\u024f%²]+(?!['\u2019\w])", re.UNICODE)  # not "c" of "c'est": an elision
_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
# Terminal escape sequences (colours, cursor moves, titles) go whole, not just their ESC byte: "\x1b[31m"
# would otherwise leave "[31m" in the question. CSI, OSC (ended by BEL or ESC \), then two-byte escapes.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]")
# NUL and invisible format characters may sit inside a word ("gra\x00tuit"): removed, not made a space.
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile(r"[\u0000\u00ad\u200b-\u200d\u2060-\u2064\ufeff]")


@dataclass(frozen=True)
class Lexicon:
    """How people write, from knowledge/lexicon.toml: spellings, shorthand (folded and case-sensitive), informal forms,
    the typo policy, synonyms, filler words, negations and the person a question is about."""

    shorthand: dict[str, str]
    shorthand_case: dict[str, str]
    synonyms: dict[str, tuple[str, ...]]
    filler: frozenset[str]
    spellings: dict[str, str] = field(default_factory=dict)  # kiosk spellings of asking words: « cb » -> « combien »
    rewrites: tuple[tuple[re.Pattern[str], str], ...] = ()  # informal forms on the folded text, in order
    max_edits: tuple[tuple[int, int], ...] = ()  # the typo policy: (word length from, edits allowed)
    negation: Negation = field(default_factory=Negation)  # what a negator scopes
    subject: Subject = field(default_factory=Subject)  # whose situation a question tells

    @cached_property
    def spelled(self) -> re.Pattern[str] | None:
        """The spellings as one pattern (whole words, any case); None when there are none."""
        if not self.spellings:
            return None
        alternatives = "|".join(map(re.escape, sorted(self.spellings, key=len, reverse=True)))
        return re.compile(rf"\b(?:{alternatives})\b", re.I)

    def rewrite(self, folded: str) -> str:
        """A folded text with its informal forms rewritten (« chui au chomdu » -> « je suis au chomage »);
        « » as ", ` as ', spaces squeezed."""
        text = _SPACES.sub(" ", folded.replace("«", ' " ').replace("»", ' " ').replace("`", "'"))
        for pattern, repl in self.rewrites:
            text = pattern.sub(repl, text)
        return text


@lru_cache(maxsize=8)
def load_lexicon(knowledge_dir: Path) -> Lexicon:
    """The lexicon, validated: every value a string (or list of strings for synonyms)."""
    path = knowledge_dir / "lexicon.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path} : lecture impossible ({exc}).") from exc
    for table in ("shorthand", "shorthand_case", "spellings"):
        for key, value in data.get(table, {}).items():
            if not isinstance(value, str):
                raise KnowledgeError(f"{path}, [{table}] « {key} » : la valeur doit être un texte.")
    rewrites: list[tuple[re.Pattern[str], str]] = []
    for i, rule in enumerate(data.get("rewrite", {}).get("rules", []), start=1):
        try:
            pattern, repl = rule
            rewrites.append((re.compile(pattern), str(repl)))
        except (ValueError, TypeError, re.error) as exc:
            raise KnowledgeError(f"{path}, [rewrite] règle n°{i} : invalide ({exc}).") from exc
    edits = data.get("spelling", {}).get("max_edits", [])
    try:
        max_edits = tuple((int(a), int(b)) for a, b in edits)
    except (ValueError, TypeError) as exc:
        raise KnowledgeError(f"{path}, [spelling] max_edits : paires [longueur, fautes] attendues ({exc}).") from exc
    for key, value in data.get("synonyms", {}).items():
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise KnowledgeError(f"{path}, [synonyms] « {key} » : la valeur doit être une liste de textes.")
    return Lexicon(
        shorthand={fold(k): v for k, v in data.get("shorthand", {}).items()},
        shorthand_case=dict(data.get("shorthand_case", {})),
        synonyms={fold(k): tuple(v) for k, v in data.get("synonyms", {}).items()},
        filler=frozenset(fold(w) for w in data.get("filler", {}).get("words", [])),
        spellings={fold(k): v for k, v in data.get("spellings", {}).items()},
        rewrites=tuple(rewrites),
        max_edits=max_edits,
        negation=negation_of(path, data),
        subject=subject_of(path, data),
    )


def clean_input(text: str, max_chars: int) -> str:
    """Validate a raw question: no control characters, not blank, not too long, has letters or digits."""
    if text is None:
        raise InvalidQuestion("Veuillez saisir une question.")
    text = unicodedata.normalize("NFC", str(text))
    text = _INVISIBLE.sub("", _ANSI.sub(" ", text))
    text = _CONTROL.sub(" ", text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise InvalidQuestion("Veuillez saisir une question : le champ est vide.")
    if len(text) > max_chars:
        raise InvalidQuestion(
            f"Votre question est trop longue ({len(text)} caractères, {max_chars} au plus). "
            "Reformulez-la en quelques phrases."
        )
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuestion("Je n'ai trouvé aucun mot dans votre question. Pouvez-vous la reformuler ?")
    return text


def respell(text: str, lexicon: Lexicon) -> str:
    """The question with its kiosk spellings of asking words written out (« cb de jeunes » -> « combien de
    jeunes »): asked as a count, and « cb » not taken for what is counted. Read before anything else."""
    pattern = lexicon.spelled
    if pattern is None:
        return text
    return pattern.sub(lambda m: lexicon.spellings.get(fold(m.group(0)), m.group(0)), text)


def expand_shorthand(text: str, lexicon: Lexicon) -> str:
    """Replace shorthand and informal spellings by the words of the documents."""

    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        if word in lexicon.shorthand_case:
            return lexicon.shorthand_case[word]
        return lexicon.shorthand.get(fold(word), word)

    return _SHORT.sub(repl, text)


def contract_shorthand(text: str, lexicon: Lexicon) -> str:
    """Undo the expansions that keep the abbreviation ("CEP conseil en évolution professionnelle" -> "CEP"):
    the question as asked, for reading its shape (what a definition question asks about)."""
    for value in sorted(set(lexicon.shorthand.values()), key=len, reverse=True):
        head, _, rest = value.partition(" ")
        if rest and fold(head) in lexicon.shorthand and lexicon.shorthand[fold(head)] == value:
            text = re.sub(re.escape(value), head, text, flags=re.IGNORECASE)
    return text


def search_query(normalized: str, lexicon: Lexicon) -> str:
    """The text to search with: filler words out, synonyms in."""
    out: list[str] = []
    for m in _WORD.finditer(normalized):
        word = m.group(0)
        key = fold(word)
        if key in lexicon.filler:
            continue
        out.append(word)
        out.extend(lexicon.synonyms.get(key, ()))
    return " ".join(out)
