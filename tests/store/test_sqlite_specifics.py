"""What only the SQLite store promises: WAL, a busy timeout, migrations, and clear refusals.

Every refusal is checked twice: from Python (the exception and its message) and
from the CLI (`plait runs` exits 2 with one line on stderr and no traceback).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plait.store import sqlite as sqlite_store
from plait.store.base import (
    AttemptStarted,
    MigrationError,
    RunRow,
    RunUpdated,
    StepSettled,
    StoreError,
)
from plait.store.sqlite import SQLiteStore, migrations

SHORT_BUSY_MS = 200
"""A lowered busy timeout so the tests about locks wait a moment, not five seconds."""

# Runs the CLI with the same lowered busy timeout the in-process tests use.
CLI = (
    "import sys; import plait.store.sqlite as s; "
    f"s.BUSY_TIMEOUT_MS = {SHORT_BUSY_MS}; "
    "from plait.cli import main; sys.argv[0] = 'plait'; main()"
)


def latest_version() -> int:
    return migrations()[-1][0]


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        return version
    finally:
        conn.close()


async def pragma(store: SQLiteStore, name: str) -> Any:
    row = await store._call(store._fetchone, f"PRAGMA {name}", ())
    assert row is not None
    return row[0]


def plait_runs(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, "runs", "--store", f"sqlite:///{path}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_clear_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", SHORT_BUSY_MS)


@pytest.fixture
def exclusive_holder(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection that holds `BEGIN EXCLUSIVE` on a plait database for the test."""
    path = tmp_path / "plait.db"
    conn = sqlite3.connect(path, isolation_level=None)
    # Rollback-journal mode, so the lock keeps readers out too (WAL would let them in).
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()


# --- settings -------------------------------------------------------------------------


async def test_the_store_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "plait.db")
    await store.open()
    try:
        assert await pragma(store, "journal_mode") == "wal"
        assert await pragma(store, "busy_timeout") == sqlite_store.BUSY_TIMEOUT_MS > 0
        assert await pragma(store, "foreign_keys") == 1
    finally:
        await store.close()


async def test_a_missing_folder_for_the_file_is_created(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "deep" / "er" / "plait.db")
    await store.open()
    await store.close()

    assert (tmp_path / "deep" / "er" / "plait.db").is_file()


async def test_a_batch_that_fails_inside_sqlite_is_rolled_back_whole(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "plait.db")
    await store.open()
    try:
        await store.create_run(RunRow("r1", "wf", "running", 1.0, 1.0))
        await store.apply([AttemptStarted("r1", "a", 1, 2.0, None)])
        # The last write breaks a NOT NULL constraint, after the others were executed.
        broken = StepSettled("r1", "b", None, 1, 3.0)  # type: ignore[arg-type]

        with pytest.raises(StoreError, match="NOT NULL"):
            await store.apply(
                [
                    StepSettled("r1", "a", "completed", 1, 3.0, '"done"'),
                    AttemptStarted("r1", "c", 1, 3.0, None),
                    RunUpdated("r1", "completed", 4.0, finished=True),
                    broken,
                ]
            )

        assert [(s.step_id, s.status) for s in await store.get_steps("r1")] == [("a", "running")]
        assert [a.outcome for a in await store.get_attempts("r1")] == ["running"]
        assert (await store.get_run("r1")).status == "running"
        # The connection is usable afterwards: no transaction was left open.
        await store.apply([StepSettled("r1", "a", "completed", 1, 5.0, '"done"')])
        assert [s.status for s in await store.get_steps("r1")] == ["completed"]
    finally:
        await store.close()


# --- migrations -----------------------------------------------------------------------


async def test_a_fresh_database_ends_at_the_latest_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "plait.db"
    store = SQLiteStore(path)
    await store.open()
    await store.close()

    assert user_version(path) == latest_version() >= 1


async def test_migrations_are_numbered_without_gaps_from_one() -> None:
    versions = [v for v, _ in migrations()]

    assert versions == list(range(1, len(versions) + 1))


async def test_an_older_database_is_migrated_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "plait.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(migrations()[0][1])
    conn.execute(
        "INSERT INTO runs (run_id, workflow_id, status, created_at, updated_at) "
        "VALUES ('old', 'wf', 'completed', 1, 1)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.close()

    store = SQLiteStore(path)
    await store.open()
    try:
        assert (await store.get_run("old")).status == "completed"
    finally:
        await store.close()
    assert user_version(path) == latest_version()


async def test_opening_an_up_to_date_database_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "plait.db"
    for _ in range(2):
        store = SQLiteStore(path)
        await store.open()
        await store.close()

    assert user_version(path) == latest_version()


def newer_database(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.close()
    return path


async def test_a_database_from_a_newer_plait_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = newer_database(tmp_path / "from-the-future.db")
    store = SQLiteStore(path)

    with pytest.raises(MigrationError, match=r"from-the-future\.db") as caught:
        await store.open()
    await store.close()

    assert "upgrade plait" in str(caught.value)
    assert user_version(path) == latest_version() + 1  # left untouched


def test_the_cli_refuses_a_database_from_a_newer_plait_in_one_line(tmp_path: Path) -> None:
    path = newer_database(tmp_path / "from-the-future.db")

    assert_one_clear_line(plait_runs(path), "from-the-future.db", "newer plait")


# --- files that cannot be used --------------------------------------------------------


def not_a_database(path: Path) -> Path:
    path.write_bytes(b"these are my holiday notes, not a database\n" * 100)
    return path


async def test_a_file_that_is_not_a_database_raises_a_clear_store_error(tmp_path: Path) -> None:
    path = not_a_database(tmp_path / "notes.db")
    store = SQLiteStore(path)

    with pytest.raises(StoreError, match=r"notes\.db.*not a plait database"):
        await store.open()
    await store.close()

    assert path.read_bytes().startswith(b"these are my holiday notes")


def test_the_cli_refuses_a_file_that_is_not_a_database_in_one_line(tmp_path: Path) -> None:
    path = not_a_database(tmp_path / "notes.db")

    assert_one_clear_line(plait_runs(path), "notes.db", "not a plait database")


@pytest.mark.usefixtures("short_busy_timeout")
async def test_opening_a_database_locked_by_another_connection_says_locked(
    tmp_path: Path, exclusive_holder: sqlite3.Connection
) -> None:
    store = SQLiteStore(tmp_path / "plait.db")

    with pytest.raises(StoreError, match="locked by another process"):
        await store.open()
    await store.close()


@pytest.mark.usefixtures("short_busy_timeout")
async def test_writing_while_another_connection_holds_the_lock_says_locked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "plait.db"
    store = SQLiteStore(path)
    await store.open()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            await store.create_run(RunRow("r1", "wf", "running", 1.0, 1.0))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Once the other connection lets go, the same store works again.
    await store.create_run(RunRow("r1", "wf", "running", 1.0, 1.0))
    assert (await store.get_run("r1")).status == "running"
    await store.close()


def test_the_cli_reports_a_locked_database_in_one_line(
    tmp_path: Path, exclusive_holder: sqlite3.Connection
) -> None:
    assert_one_clear_line(plait_runs(tmp_path / "plait.db"), "plait.db", "locked")
