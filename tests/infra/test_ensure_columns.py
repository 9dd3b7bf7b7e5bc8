"""infra.db.ensure_columns: an existing database made by an older version gets the new nullable columns."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from infra import db


def _table(metadata: sa.MetaData, *extra: sa.Column) -> sa.Table:
    return sa.Table("things", metadata, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(20), nullable=False), *extra)


def test_adds_missing_nullable_columns_and_keeps_rows(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}", future=True)
    old = _table(sa.MetaData())
    old.create(engine)
    with engine.begin() as conn:
        conn.execute(old.insert().values(id=1, name="kept"))
    new = _table(sa.MetaData(), sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
                 sa.Column("status", sa.String(16), nullable=True))
    assert db.ensure_columns(engine, new) == ["done_at", "status"]
    assert db.ensure_columns(engine, new) == []  # idempotent
    with engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(sa.select(new))] == [(1, "kept", None, None)]
    engine.dispose()


def test_missing_table_is_left_to_create_all_and_not_null_is_refused(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}", future=True)
    assert db.ensure_columns(engine, _table(sa.MetaData())) == []
    _table(sa.MetaData()).create(engine)
    with pytest.raises(RuntimeError, match="NOT NULL"):
        db.ensure_columns(engine, _table(sa.MetaData(), sa.Column("must", sa.Integer, nullable=False)))
    engine.dispose()
