"""Sign-in (登录), server-side sessions, users, passwords and API tokens.

Other areas read :class:`User` rows (recipients of notifications, depot managers).
"""
from __future__ import annotations

from flask import Flask, flash, redirect, request, url_for
from flask_login import current_user

from ..api import token_loader
from ..extensions import login_manager
from .models import User

__all__ = ["User", "register"]

#: Pages a user who must change their password may still open.
PAGES_WHILE_PASSWORD_CHANGE = frozenset({"auth.login", "auth.logout", "auth.password", "main.help_page"})


def register(app: Flask) -> None:
    from . import api, cli, views
    from .service import load_session_user, refuse_until_password_changed, user_for_token
    from .throttle import LoginThrottled

    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    # The cookie names the user and the secret of a server-side session (see User.session_cookie_id).
    login_manager.id_attribute = "session_cookie_id"
    login_manager.user_loader(load_session_user)
    token_loader(app, user_for_token)
    app.cli.add_command(cli.users_cli)

    @app.before_request
    def _password_change_first():
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
        from flask_babel import gettext

        flash(gettext("请先修改密码（临时密码或初始密码只能用来设置新密码）。"), "warning")
        return redirect(url_for("auth.password"))

    @app.errorhandler(LoginThrottled)
    def _throttled(exc: LoginThrottled):
        from ..errors import problem, wants_problem_json
        from ..extensions import db

        db.session.rollback()
        if wants_problem_json():
            body, status, headers = problem(exc.status, exc.title, exc.detail, exc.errors, exc.type)
            body["retry_at"] = exc.retry_at.isoformat()
        else:
            return views.throttled_page(exc)
        return body, status, {**headers, "Retry-After": str(exc.retry_after)}

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="auth_api")
