"""``Idempotency-Key`` on creating POSTs (API.md conventions): the first request with a key
claims it, its final answer is stored and replayed for the same key and body; a different body
under the same key is a 409. Only final answers are stored (2xx, and 4xx that retrying cannot
change)."""
from __future__ import annotations

import functools
import hashlib
import json
from typing import Callable

from flask import g, has_request_context, jsonify, request
from sqlalchemy import delete, select, update

from .errors import Conflict, Invalid, RetryableConflict
from .validation import control_character
from .extensions import db

# --- Idempotency ----------------------------------------------------------------------------

#: 4xx answers that the same request may get differently when sent again: never stored.
RETRYABLE_STATUSES = frozenset({408, 423, 425, 429})
IDEMPOTENCY_KEY_MAX = 200


def is_final(status: int, exc: Exception | None = None) -> bool:
    """Whether an answer is final, so that ``Idempotency-Key`` may store and replay it: a 2xx,
    or a 4xx that retrying cannot change. Not a 5xx, a 429 or a retryable 409
    (:class:`~app.errors.RetryableConflict`)."""
    if exc is not None and getattr(exc, "retryable", False):
        return False
    return 200 <= status < 300 or (400 <= status < 500 and status not in RETRYABLE_STATUSES)


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None or key == "":
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX or control_character(key) or not key.isprintable():
        raise Invalid("Idempotency-Key 无效。", [{"field": "Idempotency-Key",
                                               "message": f"须为不超过 {IDEMPOTENCY_KEY_MAX} 个可打印字符"}])
    return key


def idempotent(view: Callable | None = None, *, one_transaction: bool = False):
    """Honour ``Idempotency-Key`` on a creating POST (API.md conventions).

    The first request with a key claims it (a row unique per user and key); the final answer
    of that request (:func:`is_final`: a 2xx, or a 4xx that retrying cannot change) is stored
    and replayed for the same key and the same body, and a different body under the same key is
    a 409. Anything else releases the key, so that a retry with it runs afresh: a retryable 409
    (:class:`~app.errors.RetryableConflict`, e.g. "submitted concurrently, retry"), a 429, a
    5xx, or a request that died half-way.

    Two concurrent requests with one key never both create. By default the claim is committed
    on its own before the work runs, so a second request finds it and gets a retryable 409 (in
    progress) until the first has answered.

    ``@idempotent(one_transaction=True)`` is for views whose service takes the claim into its
    own transaction: the view hands the service :func:`idempotency_response` as the callback to
    run just before its commit, so the claim, the work and the stored response commit together
    (one commit in all) or not at all. A concurrent request with the same key then waits on the
    uncommitted claim (PostgreSQL; SQLite serialises writers anyway) and replays the answer of
    the first. Such a service must never roll back the whole transaction and carry on (a
    savepoint is fine): that would drop the claim. If the view commits without calling
    :func:`idempotency_response`, its response is stored afterwards as in the default mode.
    """
    if view is None:
        return functools.partial(idempotent, one_transaction=one_transaction)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = _idempotency_key()
        if not key:
            return view(*args, **kwargs)
        from .database import commit_keeping_loaded

        user_id = g.api_user.id  # set by the API blueprint's authentication (app.api)
        scope = f"{request.method} {request.path}"
        claim = _Claim(user_id, key, scope, request_fingerprint(scope))
        claim.id = _claim(user_id, key, scope, claim.body_hash)
        if claim.id is None:
            return _replay(user_id, key, scope, claim.body_hash)
        if not one_transaction:
            commit_keeping_loaded()
        g.idempotency_claim = {"id": claim.id, "staged": False}
        try:
            response = _to_response(view(*args, **kwargs))
        except BaseException as exc:
            claim.failed(exc, one_transaction and g.idempotency_claim["staged"])
            raise
        finally:
            staged = g.pop("idempotency_claim", {}).get("staged")
        if not staged:  # (else the answer was committed together with the work)
            claim.answered(response)
        return response

    return wrapper


class _Claim:
    """One request's hold on its key: stored with its final answer, or released."""

    def __init__(self, user_id: int, key: str, scope: str, body_hash: str):
        self.user_id, self.key, self.scope, self.body_hash = user_id, key, scope, body_hash
        self.id: int | None = None

    def failed(self, exc: BaseException, staged: bool) -> None:
        from .errors import ServiceError

        db.session.rollback()
        if isinstance(exc, ServiceError) and is_final(exc.status, exc):
            _store_failure(self.id, self.user_id, self.key, self.scope, self.body_hash, exc)
        elif not (staged and _claim_exists(self.id)):
            # released; a one-transaction view whose work (and answer) did commit before the
            # failure keeps its key, so that a retry replays instead of repeating it
            _release(self.id)

    def answered(self, response) -> None:
        if is_final(response.status_code) and response.is_json:
            _store(self.id, self.user_id, self.key, self.scope, self.body_hash, response.status_code,
                   response.get_json())
            db.session.commit()
        else:
            _release(self.id)


def request_fingerprint(scope: str) -> str:
    """The fingerprint an ``Idempotency-Key`` is bound to: ``scope`` (method and path) and the
    body. A JSON body counts by its canonical form (parsed, keys sorted, compact separators), so
    key order and whitespace do not matter; a multipart form by its fields and its files'
    contents (not its boundary); any other body by its bytes.

    The JSON body is parsed with ``request.get_json``, whose cached result the view then reuses,
    so this costs no second parse and no query."""
    body = request.get_json(silent=True) if request.is_json else None
    if body is not None:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        payload = b"json\n" + canonical.encode()
    elif request.mimetype == "multipart/form-data":
        # the boundary differs on every upload: count the fields and the files' contents
        parts = {"form": sorted(request.form.items(multi=True)), "files": []}
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest = hashlib.sha256()
            for chunk in iter(lambda: upload.stream.read(1 << 16), b""):
                digest.update(chunk)
            upload.stream.seek(0)
            parts["files"].append([name, upload.filename or "", digest.hexdigest()])
        payload = b"multipart\n" + json.dumps(parts, ensure_ascii=False).encode()
    else:
        payload = b"raw\n" + (request.get_data() or b"")
    return hashlib.sha256(scope.encode() + b"\n" + payload).hexdigest()


def idempotency_response(status: int, body: dict) -> None:
    """Store the answer of the running ``@idempotent`` request on its claim, inside the
    transaction that is about to commit the work, so that both commit together. Outside such a
    request (no key, pages, imports) it does nothing."""
    claim = g.get("idempotency_claim") if has_request_context() else None
    if claim is None:
        return
    _set_answer(claim["id"], status, body)
    claim["staged"] = True


@functools.lru_cache(maxsize=1)
def _answer_statement():
    from sqlalchemy import bindparam

    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    return (update(table).where(table.c.id == bindparam("claim_id"))
            .values(status=bindparam("status", type_=table.c.status.type),
                    response=bindparam("response", type_=table.c.response.type)))


def _set_answer(claim_id: int, status: int, body: dict) -> int:
    """Put the answer on the claim row (no autoflush); how many rows that updated."""
    return db.session.connection().execute(
        _answer_statement(), {"claim_id": claim_id, "status": status, "response": body}).rowcount


def _claim(user_id: int, key: str, scope: str, body_hash: str) -> int | None:
    from .database import insert_unless_exists
    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    return insert_unless_exists(table, ["user_id", "key"],
                                {"user_id": user_id, "key": key, "scope": scope, "body_hash": body_hash},
                                table.c.id)


def _replay(user_id: int, key: str, scope: str, body_hash: str):
    from .models_common import IdempotencyRecord

    existing = db.session.scalar(select(IdempotencyRecord).filter_by(user_id=user_id, key=key))
    if existing is None:  # released between our claim attempt and this read: ask for a retry
        raise RetryableConflict("使用此 Idempotency-Key 的请求仍在处理中，请稍后重试。")
    if existing.scope != scope or existing.body_hash != body_hash:
        raise Conflict("此 Idempotency-Key 已用于另一个请求体。",
                       [{"field": "Idempotency-Key", "message": "与首次请求的内容不同"}])
    if existing.status is None:
        raise RetryableConflict("使用此 Idempotency-Key 的请求仍在处理中，请稍后重试。")
    from .database import commit_keeping_loaded

    # ends the read here (nothing was written): a ROLLBACK at the teardown would make psycopg
    # drop its prepared statements, and retries come in bursts
    commit_keeping_loaded()
    response = jsonify(existing.response)
    response.status_code = existing.status
    response.headers["Idempotent-Replayed"] = "true"
    if existing.status >= 400:
        response.content_type = "application/problem+json"
    return response


def _claim_exists(claim_id: int) -> bool:
    """Whether the claim row is in the database (after a rollback: whether it was committed)."""
    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    return db.session.execute(select(table.c.id).where(table.c.id == claim_id)).first() is not None


def _store(claim_id: int, user_id: int, key: str, scope: str, body_hash: str, status: int,
           body: dict) -> None:
    """Put the answer on the claim; if the view rolled the claim back, write it afresh (unless
    another request has claimed the key meanwhile: that one answers for itself)."""
    from .database import insert_unless_exists
    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    db.session.flush()  # the view's pending work first, as a commit would
    if not _set_answer(claim_id, status, body):
        insert_unless_exists(table, ["user_id", "key"],
                             {"user_id": user_id, "key": key, "scope": scope, "body_hash": body_hash,
                              "status": status, "response": body}, table.c.id)


def _store_failure(claim_id: int, user_id: int, key: str, scope: str, body_hash: str, exc) -> None:
    from .errors import problem

    body, status, _ = problem(exc.status, exc.title, exc.detail, exc.errors, exc.type)
    _store(claim_id, user_id, key, scope, body_hash, status, body)
    db.session.commit()


def _release(claim_id: int) -> None:
    from .models_common import IdempotencyRecord

    table = IdempotencyRecord.__table__
    db.session.execute(delete(table).where(table.c.id == claim_id))
    db.session.commit()


def _to_response(result):
    from flask import make_response

    return make_response(result)


