"""Stored files (文件存储) that every instance sees: report photos and any other upload kept.

A file is one :class:`StoredFile` row under a unique ``key`` (``reports/3/17/ab12….png``): its
content type, size and SHA-256 always; its bytes in the row itself (``FILE_STORAGE = "database"``,
the default: works on SQLite and PostgreSQL, and a database backup carries the photos) or in an
S3-compatible bucket (``FILE_STORAGE = "s3"``; see :class:`S3Backend`). Each row says where its
bytes are (``backend``), so switching the setting keeps every older file readable.

:func:`put` adds the row to the caller's session: the file and the row that refers to it commit
(or roll back) together; nothing is half-written on another host's disk. On S3 the object is
written before the commit, so a caller whose transaction fails calls :func:`discard`.
The same key stored again with the same bytes is the first file; with other bytes, a refusal.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, deferred, mapped_column

from .errors import Conflict, ServiceError
from .extensions import db
from .models_common import utcnow
from .types import UTCDateTime

BACKENDS = ("database", "s3")


class StoredFile(db.Model):
    """One stored file: what it is, and where its bytes are (``content`` when in the database)."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(10))  # database | s3
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Blob:
    """A file read back: its bytes and what the row says of them."""

    key: str
    content: bytes
    content_type: str
    sha256: str
    size: int


class StorageError(ServiceError):
    """503: the bytes of a stored file could not be written or read (bucket down, object
    missing or not what its row says). The same request may succeed later."""

    status, title, retryable = 503, "文件存储暂不可用", True


class DatabaseBackend:
    """The bytes live in ``stored_file.content``: one database, every instance reads them."""

    name = "database"

    def write(self, key: str, content: bytes, content_type: str) -> bytes | None:
        return content

    def read(self, row: StoredFile) -> bytes:
        if row.content is None:
            raise StorageError(f"stored file {row.key} has no content in the database")
        return row.content

    def discard(self, key: str) -> None:
        pass  # the row goes with the caller's rollback


class S3Backend:
    """The bytes live in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, OSS/COS S3 APIs),
    under ``FILE_STORAGE_S3_PREFIX + key``; the row keeps the type, size and hash.

    Settings: ``FILE_STORAGE_S3_BUCKET`` (required), ``FILE_STORAGE_S3_ENDPOINT_URL`` (MinIO and
    the like; None for AWS), ``FILE_STORAGE_S3_REGION``, ``FILE_STORAGE_S3_PREFIX``. Credentials
    come the way boto3 finds them (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile,
    an instance role), never from the application's configuration files. Needs the ``s3`` extra
    (``pip install -e '.[s3]'``: boto3)."""

    name = "s3"

    def __init__(self, config):
        try:
            import boto3
        except ImportError as exc:  # pragma: no cover - depends on the extra being installed
            raise RuntimeError("FILE_STORAGE = 's3' needs boto3: pip install -e '.[s3]'") from exc
        self.bucket = config.get("FILE_STORAGE_S3_BUCKET")
        if not self.bucket:
            raise RuntimeError("FILE_STORAGE = 's3' needs FILE_STORAGE_S3_BUCKET")
        self.prefix = config.get("FILE_STORAGE_S3_PREFIX") or ""
        self.client = boto3.client("s3", endpoint_url=config.get("FILE_STORAGE_S3_ENDPOINT_URL") or None,
                                   region_name=config.get("FILE_STORAGE_S3_REGION") or None)

    def write(self, key: str, content: bytes, content_type: str) -> bytes | None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=content,
                                   ContentType=content_type)
        except Exception as exc:  # botocore's errors: the bucket is down or refuses
            raise StorageError(f"could not write {key} to bucket {self.bucket}: {exc}") from exc
        return None

    def read(self, row: StoredFile) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + row.key)["Body"].read()
        except Exception as exc:
            raise StorageError(f"could not read {row.key} from bucket {self.bucket}: {exc}") from exc

    def discard(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        except Exception:  # an orphan object is harmless: no row refers to it
            current_app.logger.warning("could not remove orphan object %s from %s", key, self.bucket)


def backend(name: str | None = None):
    """The backend ``name`` (default: ``FILE_STORAGE``), made once per application."""
    name = name or current_app.config["FILE_STORAGE"]
    if name not in BACKENDS:
        raise RuntimeError(f"FILE_STORAGE must be one of {', '.join(BACKENDS)}, not {name!r}")
    made = current_app.extensions.setdefault("jiuzai.storage", {})
    if name not in made:
        made[name] = DatabaseBackend() if name == "database" else S3Backend(current_app.config)
    return made[name]


def find(key: str) -> StoredFile | None:
    return db.session.scalar(select(StoredFile).filter_by(key=key))


def put(key: str, content: bytes, content_type: str, *, new_key: bool = False) -> tuple[StoredFile, bool]:
    """Store ``content`` under ``key`` in the caller's transaction (the caller commits); the row
    and whether it is new. The same bytes under the same key again: the first row, ``False``.
    ``new_key``: the caller made the key unique (a UUID), so no lookup is needed."""
    digest = hashlib.sha256(content).hexdigest()
    existing = None if new_key else find(key)
    if existing is not None:
        if existing.sha256 != digest:
            raise Conflict(f"文件 {key} 已存在且内容不同。")
        return existing, False
    store = backend()
    row = StoredFile(key=key, content_type=content_type, size=len(content), sha256=digest,
                     backend=store.name, content=store.write(key, content, content_type))
    db.session.add(row)
    return row, True


def read(key: str) -> Blob | None:
    """The file stored under ``key`` (``None`` when there is none), checked against its hash."""
    row = find(key)
    if row is None:
        return None
    content = backend(row.backend).read(row)
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise StorageError(f"stored file {key} does not match its SHA-256")
    return Blob(row.key, content, row.content_type, row.sha256, row.size)


def discard(key: str) -> None:
    """After a rollback: remove bytes written outside the database for ``key`` (S3). Not after
    losing a race for the key (an ``IntegrityError``): the object is then the winner's too."""
    backend().discard(key)


@contextmanager
def discarded_on_failure(written: list[str]):
    """The transaction's block: on any failure it rolls back and removes the bytes of ``written``
    (keys stored outside the database by this block) before the error goes on, so a refused
    request leaves neither rows nor files."""
    try:
        yield
    except Exception:
        db.session.rollback()
        for key in written:
            discard(key)
        raise


def init_app(app: Flask) -> None:
    name = app.config["FILE_STORAGE"]
    if name not in BACKENDS:
        raise RuntimeError(f"FILE_STORAGE must be one of {', '.join(BACKENDS)}, not {name!r}")
