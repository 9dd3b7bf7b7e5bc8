"""Deterministic demo dossiers for the embedded SQLite backend (demos, tests, README examples).

Everything is generated from a fixed seed date and a seeded RNG, so the same codes exist on every machine.
Names and phone numbers are invented demo values (0900 000 xxx / 0912 000 xxx); the offices, procedures, fees and
reasons they are drawn from are in onestop.dossiers.demo_catalogue, the next-step texts in onestop.dossiers.next_steps.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import random
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from infra import clock
from onestop.dossiers.demo_catalogue import (
    FAMILY, FEMALE, GENERIC_SUPPLEMENT, LAND_PAUSE_REASON, MALE, OFFICES, PAUSE_REASONS, PROCEDURES, REJECT_REASONS,
    SUPPLEMENT_DOCS,
)
from onestop.dossiers.model import STATUS_LABELS_VI, Dossier, DossierStatus
from onestop.dossiers.next_steps import default_next_step

log = logging.getLogger(__name__)

SEED_DATE = dt.date(2026, 11, 20)
RNG_SEED = 20261120
PER_STATUS = 6  # 11 statuses x 6 = 66 dossiers
REPO_ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_PROCEDURES = REPO_ROOT / "knowledge" / "procedures"

# Days before the seed date a dossier in this status may have been received.
_AGE_RANGE: Dict[DossierStatus, Tuple[int, int]] = {
    DossierStatus.RECEIVED: (0, 2),
    DossierStatus.PROCESSING: (1, 20),
    DossierStatus.SUPPLEMENT_REQUIRED: (2, 30),
    DossierStatus.PAUSED: (5, 40),
    DossierStatus.REJECTED: (3, 40),
    DossierStatus.FEE_DUE: (3, 40),
    DossierStatus.SIGNING: (1, 25),
    DossierStatus.READY: (1, 30),
    DossierStatus.RETURNED: (5, 59),
    DossierStatus.OVERDUE: (10, 59),
    DossierStatus.WITHDRAWN: (2, 59),
}
# Statuses where the appointment date has not passed yet.
_NOT_YET_DUE = {DossierStatus.RECEIVED, DossierStatus.PROCESSING, DossierStatus.SIGNING}


def add_working_days(start: dt.date, days: int) -> dt.date:
    """``start`` plus ``days`` Monday-Friday days (public holidays are ignored in demo data)."""
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def _previous_working_day(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def load_procedure_names(directory: Optional[Path] = None) -> Dict[str, str]:
    """Display names from knowledge/procedures/<key>.yml (field ``name``) for the keys that have a file."""
    import yaml  # only needed when seeding; keeps the import of this module cheap

    directory = directory or KNOWLEDGE_PROCEDURES
    names: Dict[str, str] = {}
    for key in PROCEDURES:
        path = directory / f"{key}.yml"
        if not path.is_file():
            continue
        try:
            # libyaml when present: the pure-Python loader takes ~25 ms per procedure file.
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 - safe loader
        except (OSError, yaml.YAMLError) as exc:  # a broken knowledge file must not stop the demo store
            log.warning("cannot read %s: %s", path, exc)
            continue
        name = data.get("name") if isinstance(data, dict) else None
        if isinstance(name, str) and name.strip():
            names[key] = name.strip()
    return names


def _pick_name(rng: random.Random) -> str:
    middles, givens = MALE if rng.random() < 0.5 else FEMALE
    return f"{rng.choice(FAMILY)} {rng.choice(middles)} {rng.choice(givens)}"


def generate_demo_dossiers(
    seed_date: dt.date = SEED_DATE, names: Optional[Dict[str, str]] = None
) -> List[Dossier]:
    """The demo dossiers: PER_STATUS per status, deterministic for a given seed date."""
    names = names or {}
    rng = random.Random(RNG_SEED)
    keys = list(PROCEDURES)
    # Small fees (copies, signatures) are paid at the counter; only larger ones leave a dossier waiting.
    fee_keys = [k for k, p in PROCEDURES.items() if p.fee and p.fee >= 50_000]
    sequences: Dict[Tuple[str, dt.date], int] = {}
    phone_suffixes = rng.sample(range(1, 1000), len(DossierStatus) * PER_STATUS)
    out: List[Dossier] = []
    index = 0
    for _ in range(PER_STATUS):
        for status in DossierStatus:
            key = rng.choice(fee_keys if status is DossierStatus.FEE_DUE else keys)
            proc = PROCEDURES[key]
            unit, office = rng.choice(OFFICES[proc.office_kind])
            lo, hi = _AGE_RANGE[status]
            received = due = seed_date
            for _ in range(30):  # resample until the dates fit the status
                received = _previous_working_day(seed_date - dt.timedelta(days=rng.randint(lo, hi)))
                due = add_working_days(received, proc.working_days)
                if status in _NOT_YET_DUE and due < seed_date:
                    continue
                if status is DossierStatus.OVERDUE and due >= seed_date:
                    continue
                break
            if status in _NOT_YET_DUE and due < seed_date:
                received = _previous_working_day(seed_date)
                due = add_working_days(received, proc.working_days)
            seq_key = (unit, received)
            sequences[seq_key] = sequences.get(seq_key, rng.randint(0, 30)) + rng.randint(1, 4)
            code = f"{unit}-{received.strftime('%y%m%d')}-{sequences[seq_key]:04d}"

            # Last change: between receipt and the seed date, during office hours (Vietnam time).
            span = (seed_date - received).days
            changed_day = received + dt.timedelta(
                days=rng.randint(0, span) if status is not DossierStatus.RECEIVED else 0
            )
            changed_local = dt.datetime.combine(
                changed_day, dt.time(rng.randint(8, 16), rng.randint(0, 59)), clock.tz()
            )
            missing: List[str] = []
            fee: Optional[int] = None
            reason: Optional[str] = None
            if status is DossierStatus.SUPPLEMENT_REQUIRED:
                missing = list(rng.choice(SUPPLEMENT_DOCS.get(key, GENERIC_SUPPLEMENT)))
            elif status is DossierStatus.FEE_DUE:
                fee = proc.fee
            elif status is DossierStatus.PAUSED:
                reason = LAND_PAUSE_REASON if proc.land else rng.choice(PAUSE_REASONS)
            elif status is DossierStatus.REJECTED:
                reason = rng.choice(REJECT_REASONS)
            prefix = "0900000" if index % 2 == 0 else "0912000"
            out.append(
                Dossier(
                    code=code,
                    procedure_key=key,
                    procedure_name=names.get(key, proc.name),
                    status=status,
                    status_label_vi=STATUS_LABELS_VI[status],
                    received_at=received,
                    due_at=due,
                    updated_at=changed_local.astimezone(dt.timezone.utc),
                    office_name=office,
                    next_step_vi=default_next_step(
                        status,
                        office_name=office,
                        due_at=due,
                        missing_documents=missing,
                        fee_amount=fee,
                        land=proc.land,
                        reason=reason,
                    ),
                    applicant_name=_pick_name(rng),
                    applicant_phone=f"{prefix}{phone_suffixes[index]:03d}",
                    missing_documents=missing,
                    fee_amount=fee,
                )
            )
            index += 1
    return out


@functools.cache
def _demo_by_status() -> Dict[str, Tuple[str, ...]]:
    grouped: Dict[str, List[str]] = {s.value: [] for s in DossierStatus}
    for d in generate_demo_dossiers():
        grouped[d.status.value].append(d.code)
    return {k: tuple(v) for k, v in grouped.items()}


def demo_codes(per_status: int = 3) -> Dict[str, List[str]]:
    """A few seeded codes per status value (computed, no database needed)."""
    return {status: list(codes[:per_status]) for status, codes in _demo_by_status().items()}


def demo_dossier(code: str) -> Optional[Dossier]:
    """The seeded dossier with ``code`` (fallback procedure names), for tests needing its phone or status."""
    for d in generate_demo_dossiers():
        if d.code == code:
            return d
    return None
