"""Call-back tickets: promised for the next working hours, visible to officers, reminded when overdue."""
from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest

from infra import db
from knowledge.hours import TZ
from onestop.handoffs import callbacks
from onestop.handoffs.__main__ import main as cli_main

EVENING = dt.datetime(2026, 11, 24, 20, 0, tzinfo=TZ)      # Tuesday evening
WED_8 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own application database."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "app.sqlite"))
    monkeypatch.delenv("HANDOFF_CALLBACK_GRACE_MINUTES", raising=False)
    monkeypatch.delenv("HANDOFF_CALLBACK_REMIND_HOURS", raising=False)
    db.dispose_all()
    yield tmp_path / "app.sqlite"
    db.dispose_all()


def test_ticket_is_promised_for_the_next_working_hours_and_becomes_overdue(caplog: pytest.LogCaptureFixture) -> None:
    tid = callbacks.record_callback("zalo-1", "0978123457", "Lê Thị Thu", "gọi sau 9h", 7, now=EVENING)
    [ticket] = callbacks.list_open_tickets(WED_8 - dt.timedelta(hours=1))
    assert ticket["id"] == tid and ticket["promised_at"] == WED_8 and ticket["status"] == "open"
    assert ticket["phone"] == "0978123457" and ticket["handoff_id"] == 7 and not ticket["overdue"]
    assert callbacks.ticket_counts(WED_8 + dt.timedelta(hours=1)) == {"open": 1, "overdue": 0}
    assert callbacks.list_open_tickets(WED_8 + dt.timedelta(hours=2))[0]["overdue"]  # 2 h of grace by default

    with caplog.at_level(logging.WARNING, logger="onestop.handoffs.callbacks"):
        reminded = callbacks.remind_overdue(WED_8 + dt.timedelta(hours=2, minutes=30))
    assert [t["id"] for t in reminded] == [tid]
    assert "call-back ticket #%d is overdue" % tid in caplog.text and "097*******" in caplog.text
    assert "0978123457" not in caplog.text and "zalo-1" not in caplog.text
    assert callbacks.remind_overdue(WED_8 + dt.timedelta(hours=3)) == []             # reminded already
    assert len(callbacks.remind_overdue(WED_8 + dt.timedelta(hours=6, minutes=30))) == 1  # again after 4 h

    assert callbacks.close_ticket(tid, "officer-an", now=WED_8 + dt.timedelta(hours=7))
    assert not callbacks.close_ticket(tid, "officer-an")
    assert callbacks.list_open_tickets(WED_8 + dt.timedelta(hours=8)) == []
    assert callbacks.remind_overdue(WED_8 + dt.timedelta(days=1)) == []
    [row] = callbacks.list_callbacks()
    assert (row["status"], row["officer"]) == ("done", "officer-an")


def test_in_working_hours_the_promise_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_CALLBACK_GRACE_MINUTES", "30")
    at_work = dt.datetime(2026, 11, 24, 9, 15, tzinfo=TZ)
    callbacks.record_callback("fb-1", "0912345678", None, None, now=at_work)
    [ticket] = callbacks.list_open_tickets(at_work)
    assert ticket["promised_at"] == at_work and not ticket["overdue"]
    assert callbacks.list_open_tickets(at_work + dt.timedelta(minutes=30))[0]["overdue"]


def test_a_database_from_before_tickets_keeps_working(app_db: Path) -> None:
    conn = sqlite3.connect(app_db)
    conn.execute("CREATE TABLE handoff_callbacks (id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id VARCHAR(128) NOT "
                 "NULL, handoff_id INTEGER, phone VARCHAR(16) NOT NULL, name VARCHAR(200), note VARCHAR(300), "
                 "created_at DATETIME NOT NULL)")
    conn.execute("INSERT INTO handoff_callbacks (sender_id, phone, created_at) VALUES ('old', '0912345678', "
                 "'2026-11-24 13:00:00.000000')")  # 20:00 in Vietnam, stored as UTC
    conn.commit()
    conn.close()
    callbacks.record_callback("new", "0987654321", None, None, now=EVENING)
    tickets = callbacks.list_open_tickets(WED_8)
    assert [(t["sender_id"], t["promised_at"], t["status"]) for t in tickets] == [
        ("old", WED_8, "open"), ("new", WED_8, "open")]
    assert callbacks.close_ticket(tickets[0]["id"], "officer-binh")


def test_command_line(capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture) -> None:
    tid = callbacks.record_callback("zalo-1", "0978123457", "Lê Thị Thu", None, now=EVENING - dt.timedelta(days=7))
    assert cli_main(["tickets"]) == 0
    out = capsys.readouterr().out
    assert f"#{tid}" in out and "QUÁ HẠN" in out and "0978123457" in out  # officers dial the number
    with caplog.at_level(logging.WARNING):
        assert cli_main(["remind-overdue", "--once"]) == 0
    assert "1 overdue ticket(s) reminded" in capsys.readouterr().out
    assert cli_main(["close-ticket", str(tid), "--officer", "officer-an"]) == 0
    assert cli_main(["close-ticket", str(tid), "--officer", "officer-an"]) == 1
    assert cli_main(["remind-overdue", "--once"]) == 0
    assert "0 overdue ticket(s) reminded" in capsys.readouterr().out
