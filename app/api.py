"""The pieces every JSON API route uses.

- ``api_blueprint(name)``: a blueprint under ``/api/v1`` whose requests need a bearer token (or
  a signed-in session plus the CSRF header for unsafe methods); ``public`` marks the views that
  need none; the ``auth`` area tells how a token becomes a user (:func:`token_loader`).
- ``doc(...)``: OpenAPI annotations read by :mod:`app.openapi` (``page_of``, ``list_of``,
  ``items_of`` name the answer's schema in :mod:`app.schemas`).
- ``page(query)``: ``?limit=&offset=`` lists as ``{"items", "total"}``; ``created(body)``.

Input is checked by :mod:`app.validation` (``Field``, ``parse``, ``validate``, ``arg`` …) and
creating POSTs honour ``Idempotency-Key`` through :mod:`app.idempotency`; both are re-exported
here, as every API module needs them.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, g, jsonify, request
from flask_login import current_user
from sqlalchemy import func, select

from .errors import Unauthorized
from .extensions import csrf, db
from .idempotency import idempotency_response, idempotent
from .validation import (QUERY_FIELDS, SHANGHAI, Field, arg, check, code_arg, int_arg, parse,
                         parse_datetime, validate)

__all__ = ["Field", "QUERY_FIELDS", "SHANGHAI", "XLSX", "api_blueprint", "api_user", "arg", "check",
           "code_arg", "created", "doc", "idempotency_response", "idempotent", "int_arg", "items_of",
           "list_of", "page", "page_args", "page_of", "parse", "parse_datetime", "public", "ref",
           "token_loader", "validate"]

PUBLIC_ENDPOINT_ATTR = "_api_public"


def api_blueprint(name: str, import_name: str) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix="/api/v1")
    csrf.exempt(bp)
    bp.before_request(_authenticate)
    return bp


def public(view: Callable) -> Callable:
    """Mark an API view that needs no authentication (token issue, OpenAPI document)."""
    setattr(view, PUBLIC_ENDPOINT_ATTR, True)
    return view


#: ``app.extensions`` key of the function ``token -> user | None`` that the ``auth`` area
#: registers with :func:`token_loader` (the shell does not import an area).
TOKEN_LOADER = "jiuzai.token_loader"


def token_loader(app, loader: Callable[[str], Any]) -> None:
    """Register how a bearer token becomes a user (as Flask-Login's ``user_loader``)."""
    app.extensions[TOKEN_LOADER] = loader


def _authenticate():
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, PUBLIC_ENDPOINT_ATTR, False):
        return None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = current_app.extensions[TOKEN_LOADER](header[7:].strip())
        if user is None:
            raise Unauthorized("令牌无效或已过期，请重新获取 (POST /api/v1/auth/token)。")
        g.api_user = user
        return None
    if current_user.is_authenticated:
        # Pages call the API with their session; unsafe methods then need the CSRF header.
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        g.api_user = current_user._get_current_object()
        return None
    raise Unauthorized("缺少令牌：请在 Authorization 头中提供 Bearer 令牌。")


def api_user():
    """The authenticated user of this API request."""
    return g.api_user


# --- OpenAPI annotations ------------------------------------------------------------------

def doc(summary: str, *, tag: str, body: dict[str, "Field"] | None = None,
        responses: dict[int, str] | None = None, query: dict[str, "str | Field"] | None = None,
        schema: "str | dict | None" = None, path: dict[str, "Field"] | None = None,
        media_type: str | None = None):
    """Annotate a view for the OpenAPI document (:mod:`app.openapi`).

    ``query``: each argument's description, or the :class:`Field` it is read with (arguments
    named in :data:`QUERY_FIELDS` get theirs); ``path``: :class:`Field` s of path parameters that
    are not ids; ``schema``: the body of the success answer, a name in
    ``components/schemas`` or a JSON Schema (:func:`page_of`, :func:`list_of`); ``media_type``:
    its content type when not ``application/json``."""
    def wrap(view: Callable) -> Callable:
        view._openapi = {"summary": summary, "tag": tag, "body": body, "query": query or {},
                         "responses": responses or {200: "OK"}, "schema": schema, "path": path or {},
                         "media_type": media_type}
        return view

    return wrap


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(name: str) -> dict:
    """The schema of a ``{items, total, limit, offset}`` list of ``name``."""
    return {"allOf": [ref("Page"), {"type": "object", "properties": {"items": {"type": "array", "items": ref(name)}}}]}


def list_of(name: str) -> dict:
    return {"type": "array", "items": ref(name)}


def items_of(name: str) -> dict:
    """The schema of ``{"items": [...]}`` (an unpaged list)."""
    return {"type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref(name)}}}


#: Lists: at most this many rows per page, and an offset within a 32-bit integer.
PAGE_LIMIT_MAX = 1000


def page_args(default_limit: int = 100, max_limit: int = PAGE_LIMIT_MAX) -> tuple[int, int]:
    """``?limit=&offset=``: non-negative 32-bit integers (a 422 naming them otherwise); a
    limit above ``max_limit`` is cut to it."""
    limit = int_arg("limit", QUERY_FIELDS["limit"])
    offset = int_arg("offset", QUERY_FIELDS["offset"])
    return min(default_limit if limit is None else limit, max_limit), offset or 0


def page(stmt, to_dict: Callable[[Any], dict], default_limit: int = 100) -> dict:
    """Run a ``select`` with ``?limit=&offset=``: ``{"items": [...], "total": N}``."""
    limit, offset = page_args(default_limit)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(limit).offset(offset)).all()
    return {"items": [to_dict(row) for row in rows], "total": total, "limit": limit, "offset": offset}


def created(body: dict):
    return jsonify(body), 201
