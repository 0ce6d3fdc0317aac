"""cep-assistant: a thin command line over the library (build, ask, search, batch, eval, bench).

Whatever comes in (bytes that are not UTF-8, control characters, terminal escape sequences, NUL), the
command answers or says in French why it cannot, with an exit status a script can test:

    0  answered (an answer that says the documents do not cover the question is an answer)
    1  a question could not be answered (refused as typed, or a defect while answering)
    2  the command or its setup is wrong (arguments, files, corpus, index, knowledge files)
    130 interrupted

Python tracebacks are shown only with ``-v``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from assistant.errors import CepError, InvalidQuestion
from assistant.records import Answer
from assistant.settings import Settings
from ingest.errors import os_reason

OK, NOT_ANSWERED, USAGE, INTERRUPTED = 0, 1, 2, 130
UNEXPECTED = "Une erreur inattendue a empêché de répondre (détails avec -v)."
_SURROGATE = re.compile("[\ud800-\udfff]")

log = logging.getLogger("cep.cli")


# --- input and output that never crash ---------------------------------------------------------------


def clean_arg(text: str) -> tuple[str, bool]:
    """An argument as valid text: bytes that were not UTF-8 (kept by Python as surrogates) become "�".

    Returns the text and whether something had to be replaced.
    """
    try:
        fixed = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # surrogates that do not come from undecodable bytes
        fixed = text
    fixed = _SURROGATE.sub("\ufffd", fixed)
    return fixed, fixed != text


def _safe_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")


def say(message: str) -> None:
    """A message for the person at the terminal (stderr), never mixed with the answers on stdout."""
    print(message, file=sys.stderr, flush=True)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current sys.stderr (tests and callers may swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        pass


class _Formatter(logging.Formatter):
    """Log lines without tracebacks unless verbose: a user gets the French message, not Python's."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("%(levelname)s %(message)s")
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        if not self.verbose and (record.exc_info or record.exc_text or record.stack_info):
            # a copy: another handler may have cached the traceback text on the record itself
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
        return super().format(record)


def _setup_logging(verbose: bool) -> None:
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(_Formatter(verbose))
    root.setLevel(logging.INFO if verbose else logging.WARNING)


def _progress(step: str, done: int, total: int) -> None:
    bar = ""
    if total:
        width = 24
        filled = int(width * done / total)
        bar = f" [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
    end = "\n" if total and done >= total else "\r"
    sys.stderr.write(f"\x1b[2K{step}{bar}{end}" if sys.stderr.isatty() else f"{step}{bar}\n")
    sys.stderr.flush()


def _corpus_settings(settings: Settings) -> Settings:
    """The same corpus as the app: built-in documents (minus hidden ones) and those staff added."""
    from assistant.app.library import corpus_settings

    return corpus_settings(settings)


def _assistant(settings: Settings, rebuild: bool = False) -> Any:
    """The assistant, from its snapshot beside a current index (assistant.snapshot), else loaded and built."""
    from assistant.snapshot import load_assistant

    return load_assistant(_corpus_settings(settings), progress=_progress, rebuild=rebuild)


def _failed(answer: Answer) -> bool:
    """True when the pipeline could not answer because of a defect (it then says so in French)."""
    from assistant import pipeline

    return answer.intent == "abstain" and answer.text == getattr(pipeline, "UNEXPECTED", None)


def render(answer: Answer) -> str:
    """An answer as plain French text with its sources."""
    from assistant.citations import locator

    lines = [answer.text]
    if answer.operators:
        lines.append("")
        for op in answer.operators:
            role = "Opérateur conseillé" if op.role == "primary" else "Autre possibilité"
            lines.append(f"• {role} : {op.name} — {op.why}")
    if answer.follow_up:
        lines.append(f"\nÀ demander : {answer.follow_up}")
    if answer.citations:
        lines.append("\nSources :")
        for i, c in enumerate(answer.citations, start=1):
            quote = c.highlight or c.quote
            quote = quote if len(quote) <= 400 else quote[:400] + "…"
            lines.append(f"[{i}] {c.title} — {locator(c)}\n    « {quote} »")
    return "\n".join(lines)


def _question(raw: str, settings: Settings) -> str:
    """The question as the assistant will read it; InvalidQuestion (French) when it cannot be answered."""
    from assistant.normalize import clean_input

    text, replaced = clean_arg(raw)
    if replaced:
        say("Attention : la question contenait des octets qui ne sont pas du texte UTF-8 ; ils ont été remplacés.")
    return clean_input(text, settings.max_question_chars)


# --- commands ----------------------------------------------------------------------------------------


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    assistant = _assistant(settings, rebuild=True)
    for err in assistant.corpus.errors:
        say(f"Attention : {err}")
    print(
        f"Index construit : {len(assistant.corpus.documents)} document(s), {len(assistant.index.chunks)} passages, "
        f"en {time.perf_counter() - started:.1f} s → {assistant.index.folder}"
    )
    return OK


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    try:
        question = _question(args.question, settings)
    except InvalidQuestion as exc:
        say(f"Question refusée : {exc}")
        return NOT_ANSWERED
    answer = _assistant(settings).ask(question)
    print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1) if args.json else render(answer))
    if _failed(answer):
        say(UNEXPECTED)
        return NOT_ANSWERED
    return OK


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.citations import locator

    try:
        query = _question(args.query, settings)
    except InvalidQuestion as exc:
        say(f"Recherche refusée : {exc}")
        return NOT_ANSWERED
    if args.k < 1:
        say("Le nombre de passages (-k) doit être au moins 1.")
        return USAGE
    hits = _assistant(settings).search(query, k=args.k)
    if not hits:
        say("Aucun passage trouvé.")
    for i, hit in enumerate(hits, start=1):
        c = hit.chunk.citation()
        print(f"{i}. [{hit.score:.3f}] {c.title} — {locator(c)}\n   {hit.chunk.text[:300]}")
    return OK


def _lines(source: IO[bytes]) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of a byte stream; text None when the line is not UTF-8."""
    for n, raw in enumerate(source, start=1):
        try:
            yield n, raw.decode("utf-8-sig" if n == 1 else "utf-8")
        except UnicodeDecodeError:
            yield n, None


def cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.normalize import clean_input

    try:
        source = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")  # noqa: SIM115
    except OSError as exc:
        say(f"Erreur : impossible de lire « {clean_arg(args.input)[0]} » ({os_reason(exc)}).")
        return USAGE
    assistant = _assistant(settings)
    answered = unanswered = 0
    conversations: dict[str, Answer] = {}
    with source:
        for n, line in _lines(source):
            if line is None:
                say(f"Ligne {n} ignorée : elle n'est pas en UTF-8.")
                unanswered += 1
                continue
            if not line.strip():
                continue
            try:
                item = json.loads(line, strict=False)  # a raw control character inside a string is accepted
                qid, question = str(item.get("id", n)), item.get("question", "")
            except (ValueError, AttributeError):
                say(f'Ligne {n} ignorée : JSON invalide (attendu : {{"id": …, "question": …}}).')
                unanswered += 1
                continue
            if not isinstance(question, str):
                say(f"Ligne {n} ignorée : « question » doit être un texte.")
                unanswered += 1
                continue
            question = clean_arg(question)[0]
            # a conversation: with --session every line follows the one before; a "session" key groups lines
            session = str(item.get("session", "")) if "session" in item else ("" if args.session else None)
            previous = conversations.get(session) if session is not None else None
            answer = assistant.ask(question, qid=qid, previous=previous)
            if session is not None:
                conversations[session] = answer
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
            try:
                clean_input(question, settings.max_question_chars)
            except InvalidQuestion as exc:
                say(f"Ligne {n} (id {qid}) sans réponse : {exc}")
                unanswered += 1
                continue
            if _failed(answer):
                say(f"Ligne {n} (id {qid}) sans réponse : {UNEXPECTED}")
                unanswered += 1
                continue
            answered += 1
    if unanswered:
        say(f"{answered} question(s) répondue(s), {unanswered} ligne(s) sans réponse.")
        return NOT_ANSWERED
    return OK


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.evaluation import format_report, read_jsonl, score

    gold = read_jsonl(Path(args.file))
    assistant = _assistant(settings)
    answers = {str(g["id"]): assistant.ask(g["question"], qid=str(g["id"])).to_dict() for g in gold}
    if args.answers:
        with open(args.answers, "w", encoding="utf-8") as f:
            for a in answers.values():
                f.write(json.dumps(a, ensure_ascii=False) + "\n")
    print(format_report(score(gold, answers), verbose=args.verbose))
    return OK


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.bench import default_out, run_bench

    out = Path(args.out) if args.out else default_out()
    say(f"[bench] rapport : {out}")
    run_bench(settings, Path(args.questions) if args.questions else None, out, scale=args.scale)
    return OK


# --- arguments in French -----------------------------------------------------------------------------

_ARGPARSE_FR = [
    (r"the following arguments are required: (.*)", r"argument(s) manquant(s) : \1"),
    (r"unrecognized arguments: (.*)", r"argument(s) non reconnu(s) : \1"),
    (
        r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)",
        r"argument \1 : choix invalide \2 (possibles : \3)",
    ),
    (r"argument (\S+): invalid (\w+) value: (.*)", r"argument \1 : valeur invalide \3"),
    (r"argument (\S+): expected one argument", r"argument \1 : une valeur est attendue"),
]


class FrenchParser(argparse.ArgumentParser):
    """argparse with its messages, usage and help headings in French."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "utilisation :", 1)

    def format_help(self) -> str:
        text = super().format_help().replace("usage:", "utilisation :", 1)
        return text.replace("positional arguments:", "arguments :").replace("options:", "options :")

    def error(self, message: str) -> Any:
        for pattern, repl in _ARGPARSE_FR:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, repl, message)
                break
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog} : erreur : {clean_arg(message)[0]}\n")


def build_parser() -> FrenchParser:
    parser = FrenchParser(prog="cep-assistant", description="Assistant CEP : réponses citées.")
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    sub = parser.add_subparsers(dest="command", required=True, title="commandes", metavar="COMMANDE")
    sub.add_parser("build", help="construire (ou reconstruire) l'index du corpus")
    p = sub.add_parser("ask", help="poser une question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="réponse au format JSON")
    p = sub.add_parser("search", help="chercher des passages")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="nombre de passages")
    p = sub.add_parser("batch", help="répondre à un fichier JSONL {id, question} ; une réponse JSON par ligne")
    p.add_argument("input", help="fichier JSONL, ou - pour l'entrée standard")
    p.add_argument(
        "--session",
        action="store_true",
        help="chaque ligne suit la précédente comme dans une conversation (« et en 2020 ? ») ; "
        "une clé « session » par ligne sépare plusieurs conversations",
    )
    p = sub.add_parser("eval", help="évaluer sur un jeu de questions annotées")
    p.add_argument("file")
    p.add_argument("--answers", help="écrire aussi les réponses dans ce fichier JSONL")
    p.add_argument("--details", dest="verbose", action="store_true", help="lister les erreurs")
    p = sub.add_parser("bench", help="mesurer vitesse, mémoire et qualité")
    p.add_argument("--questions", help="fichier JSONL de questions annotées")
    p.add_argument(
        "--out", help="fichier JSON du rapport (défaut : hors du dépôt, ~/.cache/cep-assistant/bench/bench.json)"
    )
    p.add_argument("--scale", default="", help="tailles de corpus synthétique, ex. 10,100")
    return parser


COMMANDS = {
    "build": cmd_build,
    "ask": cmd_ask,
    "search": cmd_search,
    "batch": cmd_batch,
    "eval": cmd_eval,
    "bench": cmd_bench,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the cep-assistant command."""
    _safe_streams()
    args = build_parser().parse_args(argv)
    verbose = bool(getattr(args, "verbose", False)) and args.command != "eval"
    _setup_logging(verbose)
    try:
        settings = Settings.from_env()
        return COMMANDS[args.command](args, settings)
    except CepError as exc:
        say(f"Erreur : {exc}")
        return USAGE
    except OSError as exc:
        name = clean_arg(str(exc.filename))[0] if exc.filename else ""
        say(f"Erreur : fichier illisible{f' « {name} »' if name else ''} ({os_reason(exc)}).")
        return USAGE
    except ValueError as exc:  # e.g. a CEP_* variable that is not a number
        log.debug("Erreur de réglage", exc_info=True)
        say(f"Erreur de réglage ou de données : {clean_arg(str(exc))[0]}")
        return USAGE
    except KeyboardInterrupt:
        say("Interrompu.")
        return INTERRUPTED
    except Exception:
        log.error("Erreur inattendue", exc_info=True)
        say(UNEXPECTED)
        return NOT_ANSWERED


if __name__ == "__main__":
    sys.exit(main())
