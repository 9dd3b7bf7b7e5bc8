"""The dashboard (issue 16): exact figures of the seeded week from the queries, the CSV and the filters; the page."""
from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
import sqlalchemy as sa

from infra import db
from onestop.appointments import store as appointments
from onestop.stats import dashboard as stats
from onestop.stats.period import Filters

from ..conftest import PG_SERVER
from . import stats_seed as seed

WEEK = "from=2026-11-23&to=2026-11-26"


def _week(office=None, start=seed.START, end=seed.END):
    return stats.dashboard(Filters(start, end, office), now=seed.NOW)


def test_the_seeded_week_in_figures(console_env):
    seed.seed()
    _assert_week(_week())


@pytest.fixture
def on_postgres(console_env, pg_server, monkeypatch):
    """The application database in a fresh schema of the local PostgreSQL (dropped afterwards)."""
    schema = f"dash_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    monkeypatch.setenv("DATABASE_URL", f"{PG_SERVER}?options=-csearch_path%3D{schema}")
    db.dispose_all()
    appointments.reset_created()
    try:
        yield
    finally:
        db.dispose_all()
        appointments.reset_created()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_the_same_figures_on_postgresql(on_postgres):
    from onestop.stats import events

    assert events.engine().dialect.name == "postgresql"
    seed.seed()
    _assert_week(_week())


def _assert_week(d):
    t = d["traffic"]
    assert t["channels"] == ["messenger", "rest", "zalo"]
    assert t["messages"] == {"zalo": [2, 1, 1, 1], "messenger": [1, 1, 0, 0], "rest": [0, 1, 0, 0]}
    assert t["conversations"] == {"zalo": [1, 1, 1, 1], "messenger": [1, 1, 0, 0], "rest": [0, 1, 0, 0]}
    assert (t["total_messages"], t["total_conversations"], t["citizens"]) == (8, 7, 5)
    assert d["asked"] == {"procedures": [(seed.X, 3), (seed.Y, 1)],
                          "aspects": [("documents", 2), ("fee", 1), ("time", 1)]}
    # 26/11 00:30 in Vietnam is 25/11 in UTC: counted on the 26th
    assert d["outcomes"] == {"answered": [2, 2, 0, 1], "declined": [1, 0, 1, 0], "handed_off": [0, 1, 0, 2]}
    assert d["unanswered"] == {"catalogue": [0, 1, 0, 0], "declined": [0, 0, 1, 0]}
    assert d["feedback"] == [
        {"kind": "answer", "procedure_key": seed.X, "up": 3, "down": 1, "total": 4, "up_rate": 75},
        {"kind": "answer", "procedure_key": seed.Y, "up": 1, "down": 1, "total": 2, "up_rate": 50},
        {"kind": "booking", "procedure_key": "", "up": 2, "down": 0, "total": 2, "up_rate": 100}]
    h = d["handoffs"]
    # fb-B: first reply after 12 minutes; zalo-H: taken after 30 (no reply); zalo-I still waiting since 10:00
    assert {k: h[k] for k in ("waiting", "oldest_wait_minutes", "created", "responded", "median_minutes",
                              "p90_minutes")} == {"waiting": 1, "oldest_wait_minutes": 120.0, "created": 3,
                                                  "responded": 2, "median_minutes": 21.0, "p90_minutes": 30.0}
    assert h["median_per_day"] == [None, 12.0, None, 30.0]
    b = d["bookings"]
    assert (b["booked"], b["cancelled"], b["no_shows"]) == ([0, 2, 0, 1], [0, 1, 0, 0], None)
    assert [(r["office_id"], r["booked"], r["cancelled"]) for r in b["per_office"][:2]] == [
        (seed.BA_DINH, 2, 1), (seed.HOAN_KIEM, 1, 0)]
    n = d["notifications"]
    assert n["by_status"] == {"sent": [0, 2, 1, 0], "failed": [0, 1, 0, 0], "skipped": [0, 0, 1, 0],
                              "pending": [0, 0, 0, 0]}
    assert n["total"] == 5
    assert [(r["purpose"], r["sent"], r["failed"], r["skipped"], r["routes"]) for r in n["by_purpose"]] == [
        ("appointment_reminder", 2, 1, 0, {"zns": 3}), ("dossier_status", 1, 0, 1, {"chat": 1, "none": 1})]


def test_filters_office_and_range(console_env):
    seed.seed()
    d = _week(office=seed.BA_DINH)
    b = d["bookings"]
    # Ba Đình: 08:00-11:30 and 13:30-17:00 in 30-minute slots, 3 counters: 42 places each weekday
    assert (b["booked"], b["cancelled"], b["capacity"]) == ([0, 2, 0, 0], [0, 1, 0, 0], [42, 42, 42, 42])
    assert b["per_office"] == [{"office_id": seed.BA_DINH, "name": "UBND phường Ba Đình", "booked": 2,
                                "cancelled": 1, "capacity": 168, "used_pct": 1}]
    assert d["notifications"]["by_status"]["sent"] == [0, 2, 0, 0]
    assert d["notifications"]["by_status"]["skipped"] == [0, 0, 0, 0]
    # the conversation figures know no office: unchanged by it
    assert d["traffic"]["messages"]["zalo"] == [2, 1, 1, 1]
    short = _week(start=dt.date(2026, 11, 24), end=dt.date(2026, 11, 25))
    assert short["days"] == [dt.date(2026, 11, 24), dt.date(2026, 11, 25)]
    assert short["traffic"]["messages"] == {"zalo": [1, 1], "messenger": [1, 0], "rest": [1, 0]}
    assert short["asked"]["procedures"] == [(seed.Y, 1)]
    assert short["bookings"]["booked"] == [2, 0]


def test_no_message_text_or_platform_id_is_stored(console_env):
    seed.seed()
    texts = seed.stored_texts()
    assert not any("0912345678" in v or "cho hỏi" in v or "zalo-A" in v for v in texts)
    assert {"zalo", "messenger", "rest", "action_answer_procedure", seed.X, "ask_procedure"} <= set(texts)
    assert "action_listen" not in texts


def _csv(text: str):
    return [tuple(r) for r in csv.reader(io.StringIO(text.lstrip("\ufeff")))]


async def test_page_and_csv_export(viewer, console_env):
    seed.seed()
    resp = await viewer.get(f"/dashboard?{WEEK}")
    assert resp.status == 200
    html = await resp.text()
    assert html.count("<svg") == 10 and 'href="/dashboard" class="on"' in html
    assert "chưa ghi nhận" in html and "UBND phường Ba Đình" in html
    resp = await viewer.get(f"/dashboard.csv?{WEEK}")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert 'filename="thong-ke_2026-11-23_2026-11-26.csv"' in resp.headers["Content-Disposition"]
    rows = _csv(await resp.text())
    assert rows[0] == ("section", "series", "key", "value")
    assert ("messages", "zalo", "2026-11-23", "2") in rows and ("messages", "zalo", "2026-11-26", "1") in rows
    assert ("asked_procedures", "answers", seed.X, "3") in rows
    assert ("outcomes", "handed_off", "2026-11-26", "2") in rows
    assert ("feedback", "down", seed.X, "1") in rows and ("feedback", "up", "booking", "2") in rows
    assert ("handoffs", "median_minutes", "", "21.0") in rows
    assert ("bookings", "no_shows", "", "not recorded") in rows
    assert ("notifications", "failed", "2026-11-24", "1") in rows
    rows = _csv(await (await viewer.get(f"/dashboard.csv?{WEEK}&office={seed.BA_DINH}")).text())
    assert ("bookings", "capacity", "2026-11-24", "42") in rows
    assert ("bookings_per_office", "booked", seed.BA_DINH, "2") in rows
    assert not any(r[0] == "bookings_per_office" and r[2] == seed.HOAN_KIEM for r in rows)
    assert ("notifications", "sent", "2026-11-25", "0") in rows


async def test_bad_filters_get_a_clear_message_and_defaults(viewer, console_env):
    html = await (await viewer.get("/dashboard?from=hôm-qua&to=2026-11-26&office=../x")).text()
    assert "ngày bắt đầu không đúng dạng" in html and "không có điểm tiếp nhận đã chọn" in html
    assert 'value="2026-11-13"' in html   # the default 14 days up to the end asked for
    html = await (await viewer.get("/dashboard?from=2020-01-01&to=2026-11-26")).text()
    assert "dài quá 366 ngày" in html
    html = await (await viewer.get("/dashboard?from=2026-11-26&to=2026-11-01")).text()
    assert "ngày bắt đầu sau ngày kết thúc" in html


async def test_the_dashboard_needs_a_session(anon):
    resp = await anon.get("/dashboard", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login")
    resp = await anon.get("/dashboard.csv", allow_redirects=False)
    assert resp.status == 302
