"""Per-contributor encryption at rest, and erasure by destroying a key.

Each contributor's event payloads and blobs are sealed with AES-256-GCM
under a data key of their own. Data keys are stored only wrapped (encrypted)
by a master key held outside the database: in ``DEMOFORGE_MASTER_KEY``
(base64 of 32 bytes) or, on the embedded default, in
``$DEMOFORGE_HOME/master.key`` (created 0600 with a warning). A stolen
database file therefore reveals nothing without the master key, and
deleting one contributor's wrapped key makes every copy of their data,
backups included, unreadable: crypto-shredding.

The master key sits behind the small ``Kms`` protocol, so a deployment can
swap ``LocalKms`` for a cloud KMS without the store noticing.
``ContributorKeys`` is the store's ``Sealer``: the store hands it every
payload and blob with the contributor they belong to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, Insert, Table, delete, event, select
from sqlalchemy.dialects import postgresql, sqlite

from demoforge import config
from demoforge.privacy.models import ContributorKey
from demoforge.store.engine import writing
from demoforge.store.models import Contributor, utcnow

log = logging.getLogger(__name__)

MASTER_KEY_ENV = "DEMOFORGE_MASTER_KEY"
NONCE_BYTES = 12
#: First byte of every sealed value, so a future format can be told apart.
FORMAT_V1 = b"\x01"
#: How unsealed values begin: a JSON payload ("{") or a zstd frame (magic 0x28B52FFD).
_PLAINTEXT_STARTS = (b"{", b"\x28")


#: Serialises data-key creation on PostgreSQL (SQLite's write lock already does).
_KEY_LOCK = 0xDE40F0CE7


class KeyErased(LookupError):
    """No data key for this contributor: erased (so their data can never be opened) or never made."""


class Kms(Protocol):
    """Wraps and unwraps data keys with a key the database never sees."""

    key_id: str

    def wrap(self, data_key: bytes, context: str) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: str) -> bytes: ...


class LocalKms:
    """A master key in memory; ``context`` (the contributor id) is bound as AES-GCM associated data.

    Binding the contributor id means a wrapped key copied onto another
    contributor's row does not unwrap.
    """

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError(f"the master key must be 32 bytes, got {len(master_key)}")
        self._aead = AESGCM(master_key)
        self.key_id = "local:" + hashlib.sha256(b"demoforge-kek-id" + master_key).hexdigest()[:16]

    def wrap(self, data_key: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, context.encode())

    def unwrap(self, wrapped: bytes, context: str) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context.encode())
        except InvalidTag as exc:
            raise ValueError("this data key was not wrapped by this master key") from exc


def master_key_from_env_or_home(home: Path | None = None) -> bytes:
    """``DEMOFORGE_MASTER_KEY`` if set, else ``$DEMOFORGE_HOME/master.key``, created if missing.

    The generated file is fine for one machine but puts the key beside the
    data it protects; a deployment sets the variable (or a KMS) instead,
    which the warning says.
    """
    value = os.environ.get(MASTER_KEY_ENV)
    if value is None:
        path = (home or config.home()) / "master.key"
        if not path.exists():
            _create_private(path, base64.b64encode(secrets.token_bytes(32)) + b"\n")
            log.warning(
                "generated a master key at %s (mode 0600); it sits beside the data it protects: "
                "set %s or use a KMS in a real deployment",
                path,
                MASTER_KEY_ENV,
            )
        value = path.read_text().strip()
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"{MASTER_KEY_ENV} is not base64") from exc
    if len(key) != 32:
        raise ValueError(f"{MASTER_KEY_ENV} must be base64 of 32 bytes, got {len(key)} bytes")
    return key


def _create_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file that only the owner can read, never briefly world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class ContributorKeys:
    """The store's ``Sealer``: AES-256-GCM under each contributor's own data key.

    A contributor's data key is born with them: a listener on the engine adds
    the wrapped key in the same transaction that inserts the ``contributors``
    row, so no key is ever made inside (and blocked by) another write
    transaction. Contributors from before encryption get theirs on first seal.
    Unwrapped keys are cached in memory; ``destroy`` drops row and cache entry.
    Sealed bytes are ``0x01 | nonce | ciphertext+tag`` with the contributor id
    as associated data, so one contributor's ciphertext pasted into another's
    row fails to open instead of decrypting.
    """

    def __init__(self, engine: Engine, kms: Kms) -> None:
        self.engine = engine
        self.kms = kms
        self._cache: dict[str, AESGCM] = {}
        self._lock = threading.Lock()
        event.listen(engine, "after_execute", self._keys_for_new_contributors)

    def seal(self, contributor_id: str, data: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        aead = self._aead(contributor_id, create=True)
        return FORMAT_V1 + nonce + aead.encrypt(nonce, data, contributor_id.encode())

    def open_(self, contributor_id: str, data: bytes) -> bytes:
        if data[:1] in _PLAINTEXT_STARTS:
            # Written unsealed: imported public demos, or rows from before encryption.
            return data
        if data[:1] != FORMAT_V1:
            raise ValueError("not sealed by ContributorKeys (unknown format byte)")
        aead = self._aead(contributor_id, create=False)
        nonce, body = data[1 : 1 + NONCE_BYTES], data[1 + NONCE_BYTES :]
        try:
            return aead.decrypt(nonce, body, contributor_id.encode())
        except InvalidTag as exc:
            raise ValueError(f"sealed data of {contributor_id!r} failed authentication") from exc

    def destroy(self, contributor_id: str) -> bool:
        """Delete the contributor's wrapped key; returns whether there was one."""
        with self._lock:
            self._cache.pop(contributor_id, None)
        with writing(self.engine) as conn:
            deleted = conn.execute(delete(ContributorKey).where(ContributorKey.contributor_id == contributor_id))
        return deleted.rowcount > 0

    def _new_key_row(self, contributor_id: str) -> dict[str, object]:
        return {
            "contributor_id": contributor_id,
            "wrapped_key": self.kms.wrap(AESGCM.generate_key(bit_length=256), contributor_id),
            "kek_id": self.kms.key_id,
            "created_at": utcnow(),
        }

    def _keys_for_new_contributors(self, conn: Connection, statement: object, multiparams: object, params: object, *_: object) -> None:
        """After an INSERT into ``contributors``, insert their wrapped keys on the same connection."""
        if not (isinstance(statement, Insert) and statement.table.name == "contributors"):
            return
        rows = multiparams if isinstance(multiparams, list) and multiparams else [statement.compile().params]
        ids = [row["id"] for row in rows if isinstance(row, dict) and row.get("id")]
        if ids:
            conn.execute(_insert_ignore(conn, ContributorKey.__table__), [self._new_key_row(i) for i in ids])

    def _aead(self, contributor_id: str, *, create: bool) -> AESGCM:
        with self._lock:
            cached = self._cache.get(contributor_id)
        if cached is not None:
            return cached
        with self.engine.connect() as conn:
            row = conn.execute(
                select(ContributorKey.wrapped_key, ContributorKey.kek_id).where(
                    ContributorKey.contributor_id == contributor_id
                )
            ).first()
            known = row is not None or conn.scalar(select(Contributor.id).where(Contributor.id == contributor_id)) is not None
        if row is None:
            if not create:
                raise KeyErased(f"no data key for contributor {contributor_id!r}: erased or never created")
            if not known:
                # No contributor, no key: the store refuses the batch anyway; were it
                # stored, it would be sealed under a key that exists nowhere.
                return AESGCM(AESGCM.generate_key(bit_length=256))
            with writing(self.engine, _KEY_LOCK) as conn:
                conn.execute(_insert_ignore(conn, ContributorKey.__table__), [self._new_key_row(contributor_id)])
            return self._aead(contributor_id, create=False)
        if row.kek_id != self.kms.key_id:
            raise ValueError(f"the data key of {contributor_id!r} was wrapped by {row.kek_id}, not {self.kms.key_id}")
        aead = AESGCM(self.kms.unwrap(row.wrapped_key, contributor_id))
        with self._lock:
            self._cache[contributor_id] = aead
        return aead


def _insert_ignore(conn: Connection, table: Table) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING``: two processes may race to make the same key."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def default_sealer(engine: Engine) -> ContributorKeys:
    """Per-contributor encryption under the master key from the environment or ``$DEMOFORGE_HOME``."""
    return ContributorKeys(engine, LocalKms(master_key_from_env_or_home()))
