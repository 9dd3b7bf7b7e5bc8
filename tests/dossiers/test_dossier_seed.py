"""The embedded SQLite store: seeding, lookups, status changes, the backend factory."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from onestop.dossiers import backend as backend_mod
from onestop.dossiers.demo_store import DEFAULT_DB_PATH
from onestop.dossiers.backend import (
    HttpDossierBackend,
    DemoDossierBackend,
    get_backend,
    make_backend,
    reset_backend,
)
from onestop.dossiers.model import DossierStatus, is_valid_code
from onestop.dossiers.seed import SEED_DATE, demo_codes, demo_dossier, generate_demo_dossiers

REPO = Path(__file__).resolve().parents[2]
PROCEDURE_KEYS = {
    "khai_sinh",
    "ket_hon",
    "khai_tu",
    "xac_nhan_hon_nhan",
    "nhan_cha_me_con",
    "trich_luc_ho_tich",
    "nuoi_con_nuoi",
    "cai_chinh_ho_tich",
    "chung_thuc_ban_sao",
    "chung_thuc_chu_ky",
    "chung_thuc_hop_dong",
    "ly_lich_tu_phap",
    "thuong_tru",
    "tam_tru",
    "tam_vang",
    "xac_nhan_cu_tru",
    "cap_can_cuoc",
    "doi_can_cuoc",
    "giay_phep_xay_dung",
    "thong_tin_quy_hoach",
    "thong_tin_dat_dai",
    "cap_so_do_lan_dau",
    "chuyen_nhuong_dat",
    "ho_kinh_doanh",
    "tro_cap_that_nghiep",
    "tro_cap_xa_hoi",
    "mai_tang_phi",
    "doi_gplx",
    "dang_ky_xe",
    "bhyt_tre_em",
    "ho_chieu",
    "chuyen_truong",
}
# Pinned so that the codes quoted in docs and demos keep existing; change them only on purpose.
PINNED = {
    "000.00.11.H26-261119-0005": DossierStatus.PROCESSING,
    "000.00.13.H26-261106-0010": DossierStatus.SUPPLEMENT_REQUIRED,
    "000.20.11.H26-261027-0019": DossierStatus.FEE_DUE,
    "000.10.00.H26-261112-0019": DossierStatus.READY,
}


async def test_seed_covers_every_status_with_valid_codes(sqlite_backend: DemoDossierBackend) -> None:
    dossiers = await sqlite_backend.list()
    assert len(dossiers) >= 60
    counts = Counter(d.status for d in dossiers)
    assert set(counts) == set(DossierStatus)
    assert min(counts.values()) >= 3, counts
    codes = [d.code for d in dossiers]
    assert len(set(codes)) == len(codes)
    units = set()
    for d in dossiers:
        assert is_valid_code(d.code), d.code
        unit, yymmdd, seq = re.match(r"^(.+)-(\d{6})-(\d{4})$", d.code).groups()  # type: ignore[union-attr]
        units.add(unit)
        assert yymmdd == d.received_at.strftime("%y%m%d")
        assert SEED_DATE - dt.timedelta(days=60) <= d.received_at <= SEED_DATE
        assert d.received_at.weekday() < 5
        assert d.due_at >= d.received_at
        assert d.procedure_key in PROCEDURE_KEYS
        assert d.procedure_name and d.office_name and d.next_step_vi
        assert re.fullmatch(r"09(00000|12000)\d{3}", d.applicant_phone), d.applicant_phone
        assert len(d.applicant_name.split()) >= 3
        assert d.updated_at.tzinfo is not None
    assert len(units) >= 3


async def test_statuses_have_consistent_details(sqlite_backend: DemoDossierBackend) -> None:
    for d in await sqlite_backend.list():
        if d.status is DossierStatus.SUPPLEMENT_REQUIRED:
            assert d.missing_documents and all(doc in d.next_step_vi for doc in d.missing_documents)
        else:
            assert d.missing_documents == []
        if d.status is DossierStatus.FEE_DUE:
            assert d.fee_amount and f"{d.fee_amount:,}".replace(",", ".") in d.next_step_vi
        else:
            assert d.fee_amount is None
        if d.status is DossierStatus.READY:
            assert d.office_name in d.next_step_vi
        if d.status is DossierStatus.OVERDUE:
            assert d.due_at < SEED_DATE
        if d.status in (DossierStatus.RECEIVED, DossierStatus.PROCESSING, DossierStatus.SIGNING):
            assert d.due_at >= SEED_DATE


def test_seed_is_deterministic_and_pinned_codes_exist() -> None:
    first, second = generate_demo_dossiers(), generate_demo_dossiers()
    assert [d.to_dict() for d in first] == [d.to_dict() for d in second]
    for code, status in PINNED.items():
        d = demo_dossier(code)
        assert d is not None and d.status is status, code


async def test_demo_codes_match_the_database(sqlite_backend: DemoDossierBackend) -> None:
    codes = demo_codes(3)
    assert set(codes) == {s.value for s in DossierStatus}
    for status, listed in codes.items():
        assert len(listed) == 3
        for code in listed:
            d = await sqlite_backend.get(code)
            assert d is not None and d.status.value == status


async def test_procedure_names_come_from_the_knowledge_base(sqlite_backend: DemoDossierBackend) -> None:
    seen = 0
    for d in await sqlite_backend.list():
        path = REPO / "knowledge" / "procedures" / f"{d.procedure_key}.yml"
        if path.is_file():
            assert d.procedure_name == yaml.safe_load(path.read_text(encoding="utf-8"))["name"]
            seen += 1
    fallback = DemoDossierBackend(
        sqlite_backend.path.with_name("other.sqlite"), knowledge_dir=sqlite_backend.path.parent / "missing"
    )
    d = await fallback.get(next(iter(PINNED)))
    assert d is not None and d.procedure_name == "Chứng thực hợp đồng, giao dịch"


async def test_get_tolerates_citizen_spelling_and_unknown_codes(sqlite_backend: DemoDossierBackend) -> None:
    code = "000.00.11.H26-261119-0005"
    for typed in (code, code.lower(), f"  {code} ", "000.00.11.h26-261119-0005"):
        d = await sqlite_backend.get(typed)
        assert d is not None and d.code == code
    assert await sqlite_backend.get("000.00.11.H26-261119-9999") is None
    assert await sqlite_backend.get("'; DROP TABLE dossiers; --") is None
    assert len(await sqlite_backend.list()) >= 60


async def test_set_status_and_changed_since(sqlite_backend: DemoDossierBackend, tmp_path: Path) -> None:
    code = demo_codes(1)["processing"][0]
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    assert await sqlite_backend.changed_since(before) == []
    updated = await sqlite_backend.set_status(code, "supplement_required")
    assert updated is not None and updated.status is DossierStatus.SUPPLEMENT_REQUIRED
    assert updated.missing_documents and updated.missing_documents[0] in updated.next_step_vi
    changed = await sqlite_backend.changed_since(before)
    assert [d.code for d in changed] == [code]
    # naive timestamps are UTC
    assert [d.code for d in await sqlite_backend.changed_since(before.replace(tzinfo=None))] == [code]
    fee = await sqlite_backend.set_status(code, DossierStatus.FEE_DUE, fee_amount=120_000)
    assert fee is not None and fee.fee_amount == 120_000 and fee.missing_documents == []
    ready = await sqlite_backend.set_status(code, "ready")
    assert ready is not None and ready.fee_amount is None and ready.office_name in ready.next_step_vi
    assert await sqlite_backend.set_status("000.00.11.H26-261119-9999", "ready") is None
    with pytest.raises(ValueError):
        await sqlite_backend.set_status(code, "lost")

    # Persisted, and a second instance on the same file neither re-seeds nor duplicates.
    again = DemoDossierBackend(sqlite_backend.path)
    d = await again.get(code)
    assert d is not None and d.status is DossierStatus.READY
    assert len(await again.list()) == len(generate_demo_dossiers())


async def test_old_seed_rows_are_not_reported_as_changes(sqlite_backend: DemoDossierBackend) -> None:
    seed_end = dt.datetime.combine(SEED_DATE, dt.time(23, 59), dt.timezone.utc)
    assert await sqlite_backend.changed_since(seed_end) == []
    recent = await sqlite_backend.changed_since(seed_end - dt.timedelta(days=3))
    assert recent and all(d.updated_at > seed_end - dt.timedelta(days=3) for d in recent)
    assert [d.updated_at for d in recent] == sorted(d.updated_at for d in recent)


def test_default_path_and_no_work_at_construction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_DB_PATH == REPO / "var" / "dossiers.sqlite"
    monkeypatch.setenv("DOSSIER_DB_PATH", str(tmp_path / "env.sqlite"))
    backend = DemoDossierBackend()
    assert backend.path == tmp_path / "env.sqlite"
    assert not backend.path.exists()  # created on first use only


def test_importing_the_package_touches_nothing(tmp_path: Path) -> None:
    db = tmp_path / "never.sqlite"
    subs = tmp_path / "never-subs.sqlite"
    code = (
        "import onestop.dossiers, onestop.dossiers.model, onestop.dossiers.seed, onestop.dossiers.backend, "
        "onestop.dossiers.ownership, onestop.dossiers.subscriptions, onestop.dossiers.notifier, "
        "onestop.dossiers.__main__"
    )
    env = dict(
        os.environ, PYTHONPATH=str(REPO), DOSSIER_DB_PATH=str(db), DOSSIER_SUBSCRIPTIONS_DB_PATH=str(subs)
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env, timeout=60)
    assert not db.exists() and not subs.exists()


async def test_factory_picks_http_when_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DOSSIER_API_URL", raising=False)
    monkeypatch.setenv("DOSSIER_DB_PATH", str(tmp_path / "f.sqlite"))
    await reset_backend()
    try:
        first = get_backend()
        assert isinstance(first, DemoDossierBackend) and first.path == tmp_path / "f.sqlite"
        assert get_backend() is first  # one shared instance per process
        await reset_backend()
        monkeypatch.setenv("DOSSIER_API_URL", "http://127.0.0.1:9/api/")
        monkeypatch.setenv("DOSSIER_API_KEY", "secret")
        http = get_backend()
        assert isinstance(http, HttpDossierBackend)
        assert http.base_url == "http://127.0.0.1:9/api" and http.api_key == "secret"
        assert isinstance(make_backend({}), DemoDossierBackend)
    finally:
        await reset_backend()
    assert backend_mod._shared is None


async def test_demo_cli_sets_a_status(tmp_path: Path) -> None:
    import asyncio

    db = tmp_path / "cli.sqlite"
    env = dict(os.environ, PYTHONPATH=str(REPO), DOSSIER_DB_PATH=str(db))
    env.pop("DOSSIER_API_URL", None)
    code = demo_codes(1)["signing"][0]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "onestop.dossiers",
        "set-status",
        code,
        "ready",
        env=env,
        cwd=str(REPO),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert f"{code}: ready" in out.decode()
    d = await DemoDossierBackend(db).get(code)
    assert d is not None and d.status is DossierStatus.READY


def test_codes_quoted_in_the_docs_are_real_demo_codes() -> None:
    text = (REPO / "docs" / "dossier-api.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\w+) \| ([0-9A-Z., H-]+) \|$", text, flags=re.M)
    assert len(rows) == len(DossierStatus)
    for status, codes in rows:
        for code in codes.split(", "):
            d = demo_dossier(code.strip())
            assert d is not None and d.status.value == status, code
