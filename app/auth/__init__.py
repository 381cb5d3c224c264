"""Sign-in (登录), users and API tokens."""
from __future__ import annotations

from flask import Flask

from ..extensions import db, login_manager


def register(app: Flask) -> None:
    from . import api, views
    from .models import User

    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "warning"

    @login_manager.user_loader
    def _load(user_id: str):
        return db.session.get(User, int(user_id))

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp, name="auth_api")
