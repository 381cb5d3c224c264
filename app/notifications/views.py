"""The notification page: my notifications, mark one or all as read, follow a link."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from . import service

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


class PlainForm(FlaskForm):
    """CSRF only."""


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default


@bp.get("/")
@login_required
def index():
    unread_only = request.args.get("unread") == "1"
    return render_template("notifications/index.html", rows=service.recent(current_user, unread_only),
                           form=PlainForm(), unread_only=unread_only)


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    if not PlainForm().validate_on_submit():
        flash(_("表单已过期，请刷新后重试。"), "danger")
        return redirect(url_for("notifications.index"))
    row = service.mark_read(current_user, notification_id)
    if request.form.get("go") == "1" and row.link:
        return redirect(_safe_next(row.link, url_for("notifications.index")))
    return redirect(url_for("notifications.index"))


@bp.post("/read-all")
@login_required
def read_all():
    if PlainForm().validate_on_submit():
        count = service.mark_all_read(current_user)
        flash(_("已将 %(count)s 条通知标记为已读。", count=count), "success")
    return redirect(url_for("notifications.index"))
