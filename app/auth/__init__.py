"""Sign-in (登录), server-side sessions, users, passwords and API tokens.

Other areas read :class:`User` rows (recipients of notifications, depot managers).
"""
from __future__ import annotations

from flask import Flask

from ..api import token_loader
from ..extensions import login_manager
from . import api, cli, hooks, views
from .models import User
from .service import init_token_cache, load_session_user, user_for_token

__all__ = ["User", "register"]


def register(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"
    # The cookie names the user and the secret of a server-side session (see User.session_cookie_id).
    login_manager.id_attribute = "session_cookie_id"
    login_manager.user_loader(load_session_user)
    token_loader(app, user_for_token)
    init_token_cache(app)
    app.cli.add_command(cli.users_cli)
    hooks.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="auth_api")
