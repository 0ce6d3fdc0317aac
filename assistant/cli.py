"""cep-assistant: a thin command line over the library (build, ask, search, batch, eval, bench)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from assistant.errors import CepError
from assistant.records import Answer
from assistant.settings import Settings


def _progress(step: str, done: int, total: int) -> None:
    bar = ""
    if total:
        width = 24
        filled = int(width * done / total)
        bar = f" [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
    end = "\n" if total and done >= total else "\r"
    sys.stderr.write(f"\x1b[2K{step}{bar}{end}" if sys.stderr.isatty() else f"{step}{bar}\n")
    sys.stderr.flush()


def _assistant(settings: Settings, rebuild: bool = False):
    from assistant.pipeline import Assistant

    return Assistant.load(settings, progress=_progress, rebuild=rebuild)


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


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    assistant = _assistant(settings, rebuild=True)
    for err in assistant.corpus.errors:
        print(f"Attention : {err}", file=sys.stderr)
    print(
        f"Index construit : {len(assistant.corpus.documents)} document(s), {len(assistant.index.chunks)} passages, "
        f"en {time.perf_counter() - started:.1f} s → {assistant.index.folder}"
    )
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    answer = _assistant(settings).ask(args.question)
    print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1) if args.json else render(answer))
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.citations import locator

    for i, hit in enumerate(_assistant(settings).search(args.query, k=args.k), start=1):
        c = hit.chunk.citation()
        print(f"{i}. [{hit.score:.3f}] {c.title} — {locator(c)}\n   {hit.chunk.text[:300]}")
    return 0


def cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    assistant = _assistant(settings)
    source = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    with source:
        for n, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                qid, question = str(item.get("id", n)), item.get("question", "")
            except (ValueError, AttributeError):
                print(f"Ligne {n} ignorée : JSON invalide.", file=sys.stderr)
                continue
            print(json.dumps(assistant.ask(question, qid=qid).to_dict(), ensure_ascii=False), flush=True)
    return 0


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
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.bench import run_bench

    run_bench(settings, Path(args.questions) if args.questions else None, Path(args.out), scale=args.scale)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the cep-assistant command."""
    parser = argparse.ArgumentParser(prog="cep-assistant", description="Assistant CEP : réponses citées.")
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="construire (ou reconstruire) l'index du corpus")
    p = sub.add_parser("ask", help="poser une question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="réponse au format JSON")
    p = sub.add_parser("search", help="chercher des passages")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5)
    p = sub.add_parser("batch", help="répondre à un fichier JSONL {id, question} ; une réponse JSON par ligne")
    p.add_argument("input", help="fichier JSONL, ou - pour l'entrée standard")
    p = sub.add_parser("eval", help="évaluer sur un jeu de questions annotées")
    p.add_argument("file")
    p.add_argument("--answers", help="écrire aussi les réponses dans ce fichier JSONL")
    p.add_argument("--details", dest="verbose", action="store_true", help="lister les erreurs")
    p = sub.add_parser("bench", help="mesurer vitesse, mémoire et qualité")
    p.add_argument("--questions", help="fichier JSONL de questions annotées")
    p.add_argument("--out", default="docs/bench.json")
    p.add_argument("--scale", default="", help="tailles de corpus synthétique, ex. 10,100")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    settings = Settings.from_env()
    commands = {
        "build": cmd_build,
        "ask": cmd_ask,
        "search": cmd_search,
        "batch": cmd_batch,
        "eval": cmd_eval,
        "bench": cmd_bench,
    }
    try:
        return commands[args.command](args, settings)
    except CepError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
