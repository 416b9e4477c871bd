"""Several writers on one Whoosh directory: threads of one process and separate processes.

Whoosh allows one writer at a time; the backend serialises and retries, so no write is lost and
no caller sees a LockError.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kb.search import SearchDocument, SearchQuery
from kb.search.whoosh import WhooshIndex


def doc(i: int, word: str = "alpha") -> SearchDocument:
    return SearchDocument(
        id=i, version=1, locale="en", title=f"{word} {i}", body="router", status="published",
        visibility="public",
    )  # fmt: skip


def test_threads_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    index = WhooshIndex(tmp_path / "ix")
    errors: list[BaseException] = []

    def write(start: int) -> None:
        try:
            for i in range(start, start + 10):
                index.index([doc(i)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n * 100,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(index.versions()) == 40


WRITER = """
import sys
from kb.search import SearchDocument
from kb.search.whoosh import WhooshIndex
index = WhooshIndex(sys.argv[1], lock_timeout_s=2.0, retries=20)
start = int(sys.argv[2])
for i in range(start, start + 15):
    index.index([SearchDocument(id=i, version=1, locale="fr", title=f"imprimante {i}", body="",
                                status="published", visibility="public")])
"""


def test_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "ix"
    WhooshIndex(directory)  # created once, as the web process does on start
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(directory), str(n * 1000)])
        for n in range(3)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    reader = WhooshIndex(directory)
    assert len(reader.versions()) == 45
    assert reader.search(SearchQuery(text="imprimante", limit=50)).total == 45


def test_a_long_lived_reader_sees_another_process_write(tmp_path: Path) -> None:
    directory = tmp_path / "ix"
    reader = WhooshIndex(directory)
    assert reader.search(SearchQuery(text="imprimante")).total == 0
    subprocess.run([sys.executable, "-c", WRITER, str(directory), "1"], check=True, timeout=120)
    assert reader.search(SearchQuery(text="imprimante", limit=20)).total == 15


def test_a_failed_commit_leaves_the_index_writable(tmp_path: Path) -> None:
    """A write whose commit fails must free the lock: the next one goes through at once."""
    import time

    from kb.search import SearchDocument
    from kb.search.whoosh import WhooshIndex

    index = WhooshIndex(tmp_path / "ix", lock_timeout_s=0.5, retries=1)
    doc = SearchDocument(
        id=1,
        version=1,
        locale="en",
        title="Wi-Fi",
        body="box",
        status="published",
        visibility="public",
    )
    with pytest.raises(RuntimeError), index._writer() as writer:
        writer.commit = _failing_commit  # type: ignore[method-assign]
    started = time.monotonic()
    assert index.index([doc]) == 1
    assert time.monotonic() - started < 0.5


def _failing_commit(**_: object) -> None:
    raise RuntimeError("disk full")


def test_an_index_opened_while_another_process_commits_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's commit deletes the table of contents Whoosh has just listed: the open
    fails with FileNotFoundError (seen in the multi-process test above), and is tried again."""
    from whoosh import index as whoosh_index

    directory = tmp_path / "ix"
    WhooshIndex(directory).index([doc(1)])
    real_open = whoosh_index.open_dir
    failures = iter([FileNotFoundError(2, "No such file", "_MAIN_0.toc")] * 2)

    def open_dir(*args: object, **kwargs: object) -> object:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(whoosh_index, "open_dir", open_dir)
    index = WhooshIndex(directory)
    assert next(failures, None) is None  # both failures were met, then the open succeeded
    assert [h.id for h in index.search(SearchQuery(text="alpha", locale="en")).hits] == [1]
