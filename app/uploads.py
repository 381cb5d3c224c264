"""How large a request may be, per route family (上传大小限制).

Every request may carry at most ``MAX_CONTENT_LENGTH`` bytes (a few MB: forms and JSON). A view
that takes a file says which configured limit applies with :func:`upload_limit`, for example
``@upload_limit("SPREADSHEET_MAX_BYTES")``; its requests may then carry that many bytes plus
:data:`FORM_OVERHEAD` for the rest of the multipart form. The limit is known from the matched
URL before anything reads the body — Flask-WTF's CSRF check reads the form in a
``before_request`` hook, before any decorator of the view could run — because
:class:`Request` looks it up itself (Flask 3.1's per-request ``max_content_length``).

A body over the limit is refused by Werkzeug with 413 without being read; :func:`init_app`
renders that 413 in the user's language: ``application/problem+json`` naming the file field on
the API, the error page on pages.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import Flask, current_app, render_template
from flask import Request as FlaskRequest
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import ServiceError, problem, wants_problem_json
from .extensions import db

#: Room for the multipart boundary, the other form fields and the CSRF token beside the file.
FORM_OVERHEAD = 64 * 1024

F = TypeVar("F", bound=Callable)


#: The first bytes of the images an upload may be: the type is read from the bytes, not the name.
IMAGE_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def image_type(head: bytes) -> str | None:
    """``image/jpeg``, ``image/png`` or ``image/webp`` by the first bytes; ``None`` otherwise."""
    for signature, kind in IMAGE_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def read_images(uploads, errors: list[dict], *, count: int, max_bytes: int, at_least: int = 0,
                field: str = "photos") -> list[tuple[str, bytes]]:
    """The attached images as ``(type, bytes)``: ``at_least`` to ``count`` files, each a JPEG, PNG
    or WebP of at most ``max_bytes`` (read no further). A refusal names ``field`` and returns ``[]``."""
    from .i18n import translate

    files = [f for f in (uploads or []) if getattr(f, "filename", "")]
    if len(files) < at_least:
        errors.append({"field": field, "message": translate("至少附 %(n)s 张照片", n=at_least)})
        return []
    if len(files) > count:
        errors.append({"field": field, "message": translate("最多附 %(n)s 张照片", n=count)})
        return []
    images = []
    for upload in files:
        content = upload.read(max_bytes + 1)
        kind = image_type(content)
        if len(content) > max_bytes or kind is None:
            errors.append({"field": field, "message": translate(
                "照片须为 JPEG、PNG 或 WebP，每张不超过 %(size)s", size=human_size(max_bytes))})
            return []
        images.append((kind, content))
    return images


class TooLarge(ServiceError):
    """A file over its configured size, found by a service (the request itself was allowed)."""

    status, title = 413, "上传的文件过大"


def human_size(size: int) -> str:
    """``10 MB``, ``512 KB``, ``40 B``: what a limit is called in a message."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) or value >= 10 else f"{value:.1f} {unit}"
    return f"{size} B"


def upload_limit(key: str, *, field: str = "file") -> Callable[[F], F]:
    """Mark a view as taking a file of up to ``config[key]`` bytes in the form field ``field``.

    Put it under the route decorator; wrappers made with ``functools.wraps`` keep the mark.
    """

    def mark(view: F) -> F:
        view.upload_limit = (key, field)  # type: ignore[attr-defined]
        return view

    return mark


def limit_of(endpoint: str | None) -> tuple[int | None, str | None]:
    """The byte limit of a request to ``endpoint`` and the file field it names (None: no file)."""
    config = current_app.config
    view = current_app.view_functions.get(endpoint) if endpoint else None
    mark = getattr(view, "upload_limit", None)
    if mark is None:
        return config.get("MAX_CONTENT_LENGTH"), None
    key, field = mark
    return int(config[key]) + FORM_OVERHEAD, field


class Request(FlaskRequest):
    """Flask's request whose default ``max_content_length`` depends on the matched view."""

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        if self._max_content_length is not None or not current_app:
            return super().max_content_length
        return limit_of(self.endpoint)[0]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def init_app(app: Flask) -> None:
    app.request_class = Request

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        from flask import request

        db.session.rollback()
        limit, field = limit_of(request.endpoint)
        title = gettext("上传的内容过大")
        if limit:
            allowed = limit - FORM_OVERHEAD if field else limit
            detail = gettext("请求内容超过 %(limit)s 的限制，未作处理。", limit=human_size(allowed))
        else:
            detail = gettext("请求内容过大，未作处理。")
        errors = [{"field": field, "message": detail}] if field else []
        if wants_problem_json():
            return problem(413, title, detail, errors)
        return render_template("error.html", status=413, title=title, detail=detail, errors=[]), 413
