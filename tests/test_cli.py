"""The command line with hostile input: bytes that are not UTF-8, control and ANSI sequences, NUL, bad
arguments. Always a French message, a meaningful exit status, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import NOT_ANSWERED, OK, USAGE, clean_arg, main
from assistant.pipeline import Assistant
from assistant.settings import PROJECT_ROOT, Settings


@pytest.fixture()
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The tiny corpus of conftest, the fake encoder, an index built once."""
    env = {
        "CEP_CORPUS_DIR": str(settings.corpus_dir),
        "CEP_INDEX_DIR": str(settings.index_dir),
        "CEP_DATA_DIR": str(settings.data_dir),
        "CEP_MODEL": "hash-fake",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    Assistant.load(settings)
    return env


def run(env: dict[str, str], *args: bytes | str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """The real command in a new process (its argv may hold any bytes)."""
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **env, "PYTHONIOENCODING": "utf-8"},
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )


def test_clean_arg_replaces_undecodable_bytes() -> None:
    assert clean_arg("CEP gratuit") == ("CEP gratuit", False)
    assert clean_arg("\udcff\udcfeCEP") == ("\ufffd\ufffdCEP", True)
    assert clean_arg("a\ud800b") == ("a\ufffdb", True)  # a lone surrogate from elsewhere


def test_invalid_utf8_argument_is_answered_without_traceback(cli_env: dict[str, str]) -> None:
    out = run(cli_env, "ask", b"le CEP est-il gratuit \xff\xfe ?")
    err = out.stderr.decode("utf-8")
    assert out.returncode == OK, err
    assert "Traceback" not in err and "octets qui ne sont pas du texte UTF-8" in err
    assert "gratuit" in out.stdout.decode("utf-8")


def test_ansi_and_control_sequences_are_stripped(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "\x1b[31mLe CEP est-il\x1b[0m gratuit\x07 ?"]) == OK
    record = json.loads(capsys.readouterr().out)
    assert record["question"] == "Le CEP est-il gratuit ?"
    assert "[31m" not in json.dumps(record)


@pytest.mark.parametrize("question", ["", "   ", "\x1b[31m\x1b[0m", "\x00\x00", "?!", "x" * 5000])
def test_unanswerable_question_gives_french_message_and_status_1(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], question: str
) -> None:
    assert main(["ask", question]) == NOT_ANSWERED
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("Question refusée : ")
    assert "Traceback" not in captured.err


def test_a_defect_while_answering_is_status_1_without_traceback(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self, *args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(Assistant, "retrieve", broken)
    assert main(["ask", "Le CEP est-il gratuit ?"]) == NOT_ANSWERED
    err = capsys.readouterr().err
    assert "erreur inattendue" in err.lower() and "Traceback" not in err and "RuntimeError" not in err


def test_batch_with_nul_bytes_gives_the_same_answer(cli_env: dict[str, str]) -> None:
    lines = [
        b'{"id": "plain", "question": "Le CEP est-il gratuit ?"}',
        b'{"id": "escaped", "question": "Le CEP est-il gra\\u0000tuit ?\\u0000"}',
        b'{"id": "raw", "question": "Le CEP est-il gra\x00tuit ?"}',
    ]
    out = run(cli_env, "batch", "-", stdin=b"\n".join(lines) + b"\n")
    assert out.returncode == OK, out.stderr.decode()
    answers = {a["id"]: a for a in map(json.loads, out.stdout.decode("utf-8").splitlines())}
    assert answers["escaped"]["question"] == answers["raw"]["question"] == "Le CEP est-il gratuit ?"
    assert answers["escaped"]["text"] == answers["raw"]["text"] == answers["plain"]["text"]


def test_batch_reports_lines_it_could_not_answer_and_exits_1(cli_env: dict[str, str]) -> None:
    stdin = b"\n".join(
        [
            b'{"id": "a", "question": "Le CEP est-il gratuit ?"}',
            b"pas du json",
            b'{"id": "b", "question": ""}',
            b'{"id": "c", "question": "caf\xe9 \xff"}',  # latin-1 bytes: not UTF-8
            b'{"id": "d", "question": 42}',
            b"\x00",
        ]
    )
    out = run(cli_env, "batch", "-", stdin=stdin)
    err = out.stderr.decode("utf-8")
    assert out.returncode == NOT_ANSWERED
    assert [json.loads(line)["id"] for line in out.stdout.decode().splitlines()] == ["a", "b"]
    for message in (
        "Ligne 2 ignorée : JSON invalide",
        "Ligne 3 (id b) sans réponse : Veuillez saisir une question",
        "Ligne 4 ignorée : elle n'est pas en UTF-8",
        "Ligne 5 ignorée : « question » doit être un texte",
        "Ligne 6 ignorée : JSON invalide",
        "1 question(s) répondue(s), 5 ligne(s) sans réponse",
    ):
        assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "argument(s) manquant(s)"),
        (["demande", "x"], "choix invalide"),
        (["search", "CEP", "-k", "beaucoup"], "valeur invalide"),
        (["ask", "x", "--inconnu"], "argument(s) non reconnu(s)"),
        (["batch", "/nulle/part.jsonl"], "impossible de lire « /nulle/part.jsonl »"),
        (["search", "CEP", "-k", "0"], "au moins 1"),
    ],
)
def test_bad_arguments_get_french_messages_and_status_2(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse exits by itself
        status = int(exc.code or 0)
    assert status == USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_help_is_french(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("utilisation :") and "afficher cette aide" in out and "commandes" in out


def test_setup_error_is_status_2_in_french(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CEP_CORPUS_DIR", str(tmp_path / "absent"))
    assert main(["ask", "Le CEP est-il gratuit ?"]) == USAGE
    assert "Dossier du corpus introuvable" in capsys.readouterr().err
    monkeypatch.setenv("CEP_CORPUS_DIR", cli_env["CEP_CORPUS_DIR"])
    monkeypatch.setenv("CEP_DENSE_WEIGHT", "beaucoup")
    assert main(["ask", "Le CEP est-il gratuit ?"]) == USAGE
    assert "Erreur de réglage" in capsys.readouterr().err


def test_the_cli_reads_the_documents_staff_added(
    cli_env: dict[str, str], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.app.documents import add_document

    add_document(settings, "abeilles.txt", "Les abeilles produisent un miel parfumé de lavande.\n".encode())
    assert main(["ask", "--json", "Que produisent les abeilles ?"]) == OK
    record = json.loads(capsys.readouterr().out)
    assert record["citations"][0]["document"] == "abeilles.txt"


def test_a_current_index_is_answered_from_the_snapshot_without_reading_documents(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import snapshot
    from index.store import current_build

    question = "Le conseil en évolution professionnelle est-il gratuit ?"
    first = snapshot.load_assistant(settings)
    assert (current_build(settings.index_dir) / snapshot.SNAPSHOT).is_file()

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("documents relus")

    monkeypatch.setattr("ingest.corpus.load_corpus", no_reading)
    monkeypatch.setattr("assistant.pipeline.load_corpus", no_reading)
    again = snapshot.load_assistant(settings)
    assert again.ask(question).to_dict() | {"latency_ms": 0} == first.ask(question).to_dict() | {"latency_ms": 0}
    monkeypatch.setenv(snapshot.SNAPSHOT_ENV, "0")
    with pytest.raises(AssertionError, match="documents relus"):
        snapshot.load_assistant(settings)


def test_a_stale_snapshot_is_ignored(settings: Settings) -> None:
    from assistant import snapshot
    from index.store import current_build

    snapshot.load_assistant(settings)
    path = current_build(settings.index_dir) / snapshot.SNAPSHOT
    path.write_bytes(b"\x80\x05K\x01.")  # another key
    assert snapshot.load_assistant(settings).ask("Le CEP est-il gratuit ?").text
    assert path.read_bytes() != b"\x80\x05K\x01."  # written anew
