"""The client's answer is the truth: faults of the disk or the database (injected here,
named so) leave no orphan file, no temp file and no half-stored candidacy, and tell the
client, in both languages, that nothing was stored. The orphan check finds and removes
what a crash between file and row could still leave."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import cli
from app.core import settings
from app.core.storage import path_for
from tests.conftest import remove_uploaded_candidacies
from tests.workbooks import valid_writer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Iterator[Path]:
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    settings.storage_settings.cache_clear()
    yield tmp_path / "uploads"
    settings.storage_settings.cache_clear()
    remove_uploaded_candidacies(engine)


@pytest.fixture
def client(database_url: str, catalogue: list[int]) -> Iterator[TestClient]:
    with TestClient(create_app(database_url)) as c:
        yield c


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _candidacies(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM candidacies")).scalar()


def _submit(client: TestClient, headers: dict[str, str], data: bytes):
    return client.post("/intake/candidacies", headers=headers, files={"file": ("c.xlsx", data, XLSX)})


def test_a_full_disk_answers_507_and_leaves_nothing(client: TestClient, accounts: dict, store: Path,
                                                     engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(_: int) -> None:  # injected fault: the disk fills up while the file is written
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("app.core.storage.os.fsync", full)
    before = _candidacies(engine)
    answer = _submit(client, accounts["other"], valid_writer(name="Disco pieno").to_bytes())
    assert answer.status_code == 507
    assert "no room left" in answer.json()["error"]["message"]
    assert "non ha più spazio" in answer.json()["error"]["message_it"]
    assert _files(store) == [] and _candidacies(engine) == before


def test_an_unwritable_store_answers_503_and_stores_nothing(client: TestClient, accounts: dict, store: Path,
                                                            engine: Engine) -> None:
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text("a file where the upload folder should be")  # nothing can be created under it
    before = _candidacies(engine)
    answer = _submit(client, accounts["other"], valid_writer(name="Cartella bloccata").to_bytes())
    assert answer.status_code == 503
    assert "cannot write uploaded files" in answer.json()["error"]["message"]
    assert "non può scrivere i file caricati" in answer.json()["error"]["message_it"]
    assert _candidacies(engine) == before


def test_a_failed_commit_removes_the_file_it_wrote(client: TestClient, accounts: dict, store: Path,
                                                   engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    import app.candidacies.intake

    real_commit, real_store, written = Session.commit, app.candidacies.intake.store_original, []

    def store_and_note(root: Path, data: bytes) -> tuple[Path, bool]:
        written.append(real_store(root, data))
        return written[-1]

    def lost(self: Session) -> None:  # injected fault: the connection drops at the commit after the file
        if written:
            written.clear()
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
        real_commit(self)

    monkeypatch.setattr(app.candidacies.intake, "store_original", store_and_note)
    monkeypatch.setattr(Session, "commit", lost)
    before = _candidacies(engine)
    answer = _submit(client, accounts["other"], valid_writer(name="Commit perso").to_bytes())
    assert answer.status_code == 503 and "nothing was changed" in answer.json()["error"]["message"]
    assert answer.headers["retry-after"] == "30"
    assert _files(store) == [] and _candidacies(engine) == before


def test_a_retry_reclaims_a_lost_file(client: TestClient, accounts: dict, store: Path) -> None:
    data = valid_writer(name="File ritrovato").to_bytes()
    first = _submit(client, accounts["other"], data)
    assert first.status_code == 201
    original = path_for(store, hashlib.sha256(data).hexdigest())
    original.chmod(0o640)
    original.unlink()
    again = _submit(client, accounts["other"], data)
    assert again.status_code == 200 and again.json()["candidacy_id"] == first.json()["candidacy_id"]
    assert original.read_bytes() == data


def test_storage_check_finds_and_fixes_orphans_and_reports_missing_files(
        client: TestClient, accounts: dict, store: Path, database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    kept = valid_writer(name="File tenuto").to_bytes()
    gone = valid_writer(name="File sparito").to_bytes()
    assert _submit(client, accounts["other"], kept).status_code == 201
    assert _submit(client, accounts["other"], gone).status_code == 201
    path_for(store, hashlib.sha256(gone).hexdigest()).unlink()
    orphan = path_for(store, "ab" * 32)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a crash")
    temp = orphan.parent / ".upload-x1y2"
    temp.write_bytes(b"half written")
    old = 2 * 3600
    for path in (orphan, temp):
        os.utime(path, (path.stat().st_mtime - old, path.stat().st_mtime - old))
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.database_settings.cache_clear()
    runner = CliRunner()
    try:
        found = runner.invoke(cli, ["storage", "check"])
        assert found.exit_code == 1
        assert "2 orphan files found" in found.output and "1 candidacies without their file" in found.output
        assert "orphan temp" in found.output and "orphan original" in found.output
        fixed = runner.invoke(cli, ["storage", "check", "--fix"])
        assert "2 orphan files removed" in fixed.output
        assert not orphan.exists() and not temp.exists()
        assert path_for(store, hashlib.sha256(kept).hexdigest()).exists()
        young = runner.invoke(cli, ["storage", "check", "--older-than-minutes", "0"])
        assert "0 orphan files" in young.output
    finally:
        settings.database_settings.cache_clear()
