from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from .. import audit
from ..errors import ServiceError
from ..extensions import db, limiter
from ..permissions import ROLE_LABELS, require
from . import service
from .models import User

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(message="请输入用户名")])
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码")])


class UserForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=80)])
    full_name = StringField("姓名", validators=[Length(max=80)])
    role = SelectField("角色", choices=list(ROLE_LABELS.items()))
    region_code = StringField("管辖区划代码", validators=[DataRequired()],
                              description="6 位（省/市/县）、9 位（乡镇）或 12 位（村）；000000 为全国")
    password = PasswordField("初始密码", validators=[DataRequired(), Length(min=8)])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: __import__("flask").current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.username.data, form.password.data)
        if user is None:
            flash("用户名或密码错误。", "danger")
        else:
            login_user(user)
            audit.record(user, "user.login", "user", user.id, region_code=user.region_code)
            db.session.commit()
            target = request.args.get("next")
            if not target or not target.startswith("/") or target.startswith("//"):
                target = url_for("main.index")
            return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users():
    require(current_user, "user.manage", current_user.region_code)
    form = UserForm()
    if form.validate_on_submit():
        try:
            service.create_user(current_user, form.username.data.strip(), form.role.data,
                                form.region_code.data.strip(), form.password.data,
                                form.full_name.data.strip())
            flash(f"已创建用户 {form.username.data}。", "success")
            return redirect(url_for("auth.users"))
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.detail + " " + "；".join(f"{e['field']}: {e['message']}" for e in exc.errors), "danger")
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("auth/users.html", form=form, users=rows, role_labels=ROLE_LABELS)
