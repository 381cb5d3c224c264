"""What the auth area adds to every request: until a temporary or initial password is changed,
pages go to the change page and the API answers 403; and a throttled sign-in (429) answers with
the time to try again (problem+json with ``retry_at`` in the API, a page otherwise)."""
from __future__ import annotations

from flask import Flask, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ..errors import problem, wants_problem_json
from ..extensions import db
from . import views
from .service import refuse_until_password_changed
from .throttle import LoginThrottled

#: Pages a user who must change their password may still open.
PAGES_WHILE_PASSWORD_CHANGE = frozenset({"auth.login", "auth.logout", "auth.password", "main.help_page"})


def init_app(app: Flask) -> None:
    app.before_request(password_change_first)
    app.register_error_handler(LoginThrottled, throttled)


def password_change_first():
    """Until a temporary or initial password is changed: pages go to the change page, the
    API (with the session cookie) answers 403. Bearer tokens are checked in
    ``user_for_token``; static files load no user."""
    endpoint = request.endpoint or ""
    if endpoint.endswith("static") or endpoint == "xstatic":
        return None
    if request.path.startswith("/api/") and request.headers.get("Authorization", "").lower().startswith("bearer "):
        return None
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if request.path.startswith("/api/"):
        refuse_until_password_changed(current_user, endpoint, api=True)
        return None
    if endpoint in PAGES_WHILE_PASSWORD_CHANGE:
        return None
    flash(gettext("请先修改密码（临时密码或初始密码只能用来设置新密码）。"), "warning")
    return redirect(url_for("auth.password"))


def throttled(exc: LoginThrottled):
    """A 429 that says when to try again; whatever the request began is rolled back."""
    db.session.rollback()
    if not wants_problem_json():
        return views.throttled_page(exc)
    body, status, headers = problem(exc.status, exc.title, exc.detail, exc.errors, exc.type)
    body["retry_at"] = exc.retry_at.isoformat()
    return body, status, {**headers, "Retry-After": str(exc.retry_after)}
