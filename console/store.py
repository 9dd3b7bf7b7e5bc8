"""The console's SQL tables (accounts, sessions, content versions) in the application's database (infra.db).

Blocking functions: handlers call them through ``infra.db.run_sync``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from infra import db

ROLES = ("editor", "viewer")
SESSION_HOURS = 8.0
# scrypt cost: about 50 ms and 16 MB per check on this machine's CPU
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1

metadata = sa.MetaData()

users = sa.Table(
    "console_users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

sessions = sa.Table(
    "console_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # the cookie itself is never stored
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

versions = sa.Table(
    "console_versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("doc", sa.String(160), nullable=False),          # "procedure:<key>" or "office:<id>"
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("content", sa.Text, nullable=True),               # YAML of the item; NULL = deleted
    sa.Column("author", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),         # import | edit | create | revert | attach | verify
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    # Two saves from the same base version cannot both become number N+1: the second one fails here.
    sa.UniqueConstraint("doc", "number", name="uq_console_versions_doc_number"),
)

_ready: Dict[int, bool] = {}
_ready_lock = threading.Lock()


def engine() -> Engine:
    """The application's engine with the console's tables created (once per engine)."""
    eng = db.get_engine()
    with _ready_lock:
        if not _ready.get(id(eng)):
            metadata.create_all(eng)
            _ready[id(eng)] = True
    return eng


def now() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def _aware(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """SQLite returns naive datetimes: they were stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


# ----------------------------------------------------------------------------------------------- accounts
def hash_password(password: str) -> str:
    """scrypt with a per-user random salt, encoded with its parameters."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(bytes.fromhex(digest)), maxmem=64 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


@dataclass
class User:
    """A signed-in officer."""

    id: int
    username: str
    display_name: str
    role: str

    @property
    def can_edit(self) -> bool:
        """Editors may change content, publish and answer hand-offs; viewers only look."""
        return self.role == "editor"


def add_user(username: str, password: str, role: str, display_name: Optional[str] = None) -> User:
    """Create an account (or reset the password and role of an existing one)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise ValueError("username: letters, digits, '.' and '_' only (at most 64)")
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    values = {"display_name": display_name or username, "role": role, "password_hash": hash_password(password)}
    with engine().begin() as conn:
        row = conn.execute(sa.select(users.c.id).where(users.c.username == username)).first()
        if row:
            conn.execute(users.update().where(users.c.id == row.id).values(**values))
            uid = int(row.id)
            conn.execute(sessions.delete().where(sessions.c.user_id == uid))  # a reset signs the old sessions out
        else:
            uid = int(conn.execute(users.insert().values(username=username, created_at=now(), **values))
                      .inserted_primary_key[0])
    return User(uid, username, values["display_name"], role)


def authenticate(username: str, password: str) -> Optional[User]:
    """The user when the password is right, else None (same work done for unknown names)."""
    with engine().connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    if row is None:
        check_password(password, _DUMMY_HASH)  # same timing as a wrong password for a real account
        return None
    if not check_password(password, row.password_hash):
        return None
    return User(int(row.id), row.username, row.display_name, row.role)


_DUMMY_HASH = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32


def list_users() -> List[Dict[str, Any]]:
    """Accounts without their hashes."""
    with engine().connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(users.c.username, users.c.display_name, users.c.role, users.c.created_at)
            .order_by(users.c.username))]


# ----------------------------------------------------------------------------------------------- sessions
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_hours() -> float:
    """Session lifetime (CONSOLE_SESSION_HOURS, default 8 hours: one working day)."""
    try:
        return float(os.environ.get("CONSOLE_SESSION_HOURS") or SESSION_HOURS)
    except ValueError:
        return SESSION_HOURS


def create_session(user: User) -> str:
    """Start a session; return the cookie value."""
    token = secrets.token_urlsafe(32)
    created = now()
    with engine().begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.expires_at < created))  # housekeeping
        conn.execute(sessions.insert().values(
            token_hash=_token_hash(token), user_id=user.id, csrf=secrets.token_urlsafe(32), created_at=created,
            expires_at=created + dt.timedelta(hours=session_hours())))
    return token


def load_session(token: str) -> Optional[Dict[str, Any]]:
    """{user, csrf, expires_at} of a live session, else None."""
    if not token:
        return None
    with engine().connect() as conn:
        row = conn.execute(
            sa.select(sessions.c.csrf, sessions.c.expires_at, users.c.id, users.c.username, users.c.display_name,
                      users.c.role)
            .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
            .where(sessions.c.token_hash == _token_hash(token))).first()
    if row is None or _aware(row.expires_at) <= now():
        return None
    return {"user": User(int(row.id), row.username, row.display_name, row.role), "csrf": row.csrf,
            "expires_at": _aware(row.expires_at)}


def end_session(token: str) -> None:
    """Sign out."""
    with engine().begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))


# ----------------------------------------------------------------------------------------------- versions
@dataclass
class Version:
    """One stored version of a procedure or office."""

    id: int
    doc: str
    number: int
    content: Optional[str]
    author: str
    action: str
    note: str
    created_at: dt.datetime
    published_at: Optional[dt.datetime]


class Conflict(Exception):
    """The item changed since the officer opened it (``latest`` is the newer version)."""

    def __init__(self, latest: Version):
        super().__init__(f"{latest.doc} changed: version {latest.number} by {latest.author}")
        self.latest = latest


def _version(row: Any) -> Version:
    return Version(int(row.id), row.doc, int(row.number), row.content, row.author, row.action, row.note or "",
                   _aware(row.created_at), _aware(row.published_at))


def history(doc: str) -> List[Version]:
    """Every version of ``doc``, newest first."""
    with engine().connect() as conn:
        return [_version(r) for r in conn.execute(
            sa.select(versions).where(versions.c.doc == doc).order_by(versions.c.number.desc()))]


def latest(doc: str) -> Optional[Version]:
    """The newest version of ``doc`` (None before the first import)."""
    with engine().connect() as conn:
        row = conn.execute(sa.select(versions).where(versions.c.doc == doc)
                           .order_by(versions.c.number.desc()).limit(1)).first()
    return _version(row) if row else None


def get_version(doc: str, number: int) -> Optional[Version]:
    """Version ``number`` of ``doc``."""
    with engine().connect() as conn:
        row = conn.execute(sa.select(versions).where(versions.c.doc == doc, versions.c.number == number)).first()
    return _version(row) if row else None


def latest_all(prefix: str) -> Dict[str, Version]:
    """The newest version of every doc starting with ``prefix`` (e.g. "procedure:")."""
    newest = (sa.select(versions.c.doc, sa.func.max(versions.c.number).label("number"))
              .where(versions.c.doc.like(prefix + "%")).group_by(versions.c.doc).subquery())
    query = sa.select(versions).join(newest, sa.and_(versions.c.doc == newest.c.doc,
                                                     versions.c.number == newest.c.number))
    with engine().connect() as conn:
        return {r.doc: _version(r) for r in conn.execute(query)}


def add_version(doc: str, content: Optional[str], author: str, action: str, base: Optional[int],
                note: str = "", published: bool = False) -> Version:
    """Store a new version on top of ``base`` (the version the officer started from; None for a new item).

    Raises Conflict when another version was saved since ``base``: nothing is overwritten silently.
    """
    created = now()
    try:
        with engine().begin() as conn:
            row = conn.execute(sa.select(versions).where(versions.c.doc == doc)
                               .order_by(versions.c.number.desc()).limit(1)).first()
            current = int(row.number) if row else None
            if current != base:
                if row is None:
                    raise KeyError(f"{doc} has no version {base}")
                raise Conflict(_version(row))
            number = (current or 0) + 1
            new_id = conn.execute(versions.insert().values(
                doc=doc, number=number, content=content, author=author, action=action, note=note,
                created_at=created, published_at=created if published else None)).inserted_primary_key[0]
    except IntegrityError:
        # another save took the same number between our read and our insert
        newest = latest(doc)
        assert newest is not None
        raise Conflict(newest) from None
    return Version(int(new_id), doc, number, content, author, action, note, created, created if published else None)


def unpublished() -> List[Version]:
    """Latest versions not yet written to the knowledge files."""
    return [v for v in latest_all("").values() if v.published_at is None]


def mark_published(ids: List[int]) -> None:
    """Record that these versions are now the published files."""
    if not ids:
        return
    with engine().begin() as conn:
        conn.execute(versions.update().where(versions.c.id.in_(ids)).values(published_at=now()))
