"""Pages: sign-in, my account (我的账户: password, sessions, tokens) and user management
(用户管理: list within the jurisdiction, create, reset password, deactivate, revoke tokens,
end sessions). Thin: every decision is the service's."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from gis import codes

from ..errors import Invalid, Unauthorized
from ..extensions import db
from ..pages import flash_form_errors, refusals_flashed
from ..permissions import ROLE_LABELS, can
from . import service
from .throttle import LoginThrottled

bp = Blueprint("auth", __name__)

PER_PAGE = 50


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(message=_l("请输入用户名"))])
    password = PasswordField(_l("密码"), validators=[DataRequired(message=_l("请输入密码"))])


class PasswordForm(FlaskForm):
    old_password = PasswordField(_l("当前密码"), validators=[DataRequired(message=_l("请输入当前密码"))],
                                 description=_l("管理员重置后，这里填临时密码"))
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(message=_l("请输入新密码"))],
                                 description=_l("至少 8 位，含字母、数字、符号中的至少两类，不含用户名，不同于当前密码"))
    confirm = PasswordField(_l("再次输入新密码"), validators=[
        DataRequired(message=_l("请再次输入新密码")), EqualTo("new_password", message=_l("两次输入的新密码不一致"))])


class UserForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(message=_l("请输入用户名")), Length(max=80)])
    full_name = StringField(_l("姓名"), validators=[Optional(), Length(max=80)])
    role = SelectField(_l("角色"), choices=list(ROLE_LABELS.items()))
    region_code = StringField(_l("管辖区划（代码或名称）"), validators=[DataRequired(message=_l("请填写管辖区划"))],
                              description=_l("如 140105 或 小店区；000000 或 全国 为全国"))
    password = PasswordField(_l("初始密码"), validators=[DataRequired(message=_l("请输入初始密码"))],
                             description=_l("用户首次登录时必须修改"))


class ActionForm(FlaskForm):
    """The CSRF token of a one-button form."""


def _posted() -> bool:
    """A one-button form came with a valid CSRF token; otherwise say so."""
    if ActionForm().validate_on_submit():
        return True
    flash(_("表单已过期或缺少安全令牌，请刷新页面后重试。"), "danger")
    return False


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _label(field: str) -> str:
    return {"username": _("用户名"), "full_name": _("姓名"), "role": _("角色"), "region_code": _("管辖区划"),
            "password": _("初始密码"), "old_password": _("当前密码"), "new_password": _("新密码")}.get(field, field)


def throttled_page(exc: LoginThrottled):
    """A 429 page with the time to try again (for throttled forms other than the login page)."""
    response = make_response(render_template("error.html", status=429, title=_("登录失败次数过多"),
                                             detail=exc.detail, errors=[]), 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


# --- Sign-in -------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            user = service.sign_in(form.username.data, form.password.data)
        except LoginThrottled as exc:
            db.session.rollback()
            flash(exc.detail, "danger")
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        except Unauthorized as exc:
            db.session.rollback()
            flash(exc.detail, "danger")
        else:
            login_user(user)
            if user.must_change_password:
                flash(_("请先设置新密码。"), "warning")
                return redirect(url_for("auth.password"))
            target = request.args.get("next")
            if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
                target = url_for("main.index")
            return redirect(target)
    return render_template("auth/login.html", form=form), status, headers


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    service.sign_out(current_user._get_current_object())
    logout_user()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("auth.login"))


# --- My account ----------------------------------------------------------------------------

@bp.get("/account")
@login_required
def account():
    me = current_user._get_current_object()
    return _no_store(make_response(render_template(
        "auth/account.html", me=me, region_name=service.region_names([me.region_code]).get(me.region_code),
        sessions=service.my_sessions(me), tokens=service.my_tokens(me), action_form=ActionForm())))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        with refusals_flashed(_label, refusals=(Invalid,)):
            result = service.change_password(current_user._get_current_object(), form.old_password.data,
                                              form.new_password.data)
            flash(_("密码已修改；其他 %(sessions)s 个会话已退出，%(tokens)s 个令牌已作废。",
                    sessions=result["sessions_ended"], tokens=result["tokens_revoked"]), "success")
            return redirect(url_for("auth.account"))
    elif request.method == "POST":
        flash_form_errors(form)
    return _no_store(make_response(render_template("auth/password.html", form=form)))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_my_session(session_id: int):
    if _posted():
        me = current_user._get_current_object()
        service.end_my_session(me, session_id)
        if session_id == me.session_id:
            logout_user()
            flash(_("已退出登录。"), "info")
            return redirect(url_for("auth.login"))
        flash(_("该会话已退出。"), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/sessions/end-others")
@login_required
def end_my_other_sessions():
    if _posted():
        count = service.end_my_other_sessions(current_user._get_current_object())
        flash(_("已退出其他 %(n)s 个会话。", n=count), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_my_token(token_id: int):
    if _posted():
        service.revoke_my_token(current_user._get_current_object(), token_id)
        flash(_("令牌已作废。"), "success")
    return redirect(url_for("auth.account"))


# --- User management -----------------------------------------------------------------------

def _region_choices(me) -> list[tuple[str, str]]:
    """Regions down to the county inside ``me``'s jurisdiction, for the region input's list."""
    from sqlalchemy import select

    from ..regions import Region

    stmt = (select(Region.code, Region.name).where(Region.level.in_(("province", "prefecture", "county")))
            .order_by(Region.code).limit(500))
    if me.region_code != codes.NATIONAL:
        stmt = stmt.where(Region.code.like(codes.prefix_of(me.region_code) + "%"))
    return [tuple(row) for row in db.session.execute(stmt)]


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users():
    me = current_user._get_current_object()
    form = UserForm()
    if request.method == "POST":
        if form.validate_on_submit():
            with refusals_flashed(_label):
                user = service.create_user(me, form.username.data, form.role.data, form.region_code.data,
                                           form.password.data, form.full_name.data or "")
                flash(_("已创建用户 %(name)s；首次登录时须修改初始密码。", name=user.username), "success")
                return redirect(url_for("auth.user_detail", user_id=user.id))
        else:
            flash_form_errors(form)
    args = request.args
    filters = {"q": (args.get("q") or "").strip() or None,
               "role": args.get("role") if args.get("role") in ROLE_LABELS else None,
               "active": {"active": True, "inactive": False}.get(args.get("status", "")),
               "region": (args.get("region") or "").strip() or None}
    page = max(1, min(args.get("page", 1, type=int) or 1, 100_000))
    listing = {"items": [], "total": 0}
    with refusals_flashed(lambda field: {"q": _("搜索"), "region_code": _("区划")}.get(field, field)):
        listing = service.list_users(me, **filters, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    manage = can(me, "user.manage")
    return render_template("auth/users.html", form=form, users=listing["items"], total=listing["total"],
                           page=page, pages=max(1, -(-listing["total"] // PER_PAGE)), role_labels=ROLE_LABELS,
                           args=args, can_manage=manage, region_choices=_region_choices(me) if manage else [])


@bp.get("/users/<int:user_id>")
@login_required
def user_detail(user_id: int):
    me = current_user._get_current_object()
    user = service.get_user(me, user_id)
    return _no_store(make_response(render_template(
        "auth/user.html", user=user, names=service.region_names([user.region_code]),
        sessions=service.user_sessions(me, user_id), tokens=service.user_tokens(me, user_id),
        role_labels=ROLE_LABELS, action_form=ActionForm(), can_manage=service.may_manage(me, user))))


@bp.post("/users/<int:user_id>/reset-password")
@login_required
def reset_password(user_id: int):
    if not _posted():
        return redirect(url_for("auth.user_detail", user_id=user_id))
    with refusals_flashed(_label):
        reset = service.reset_password(current_user._get_current_object(), user_id)
        # shown in this response only: never flashed (the session cookie is readable), never stored
        return _no_store(make_response(render_template(
            "auth/reset_done.html", reset=reset, user=reset.user)))
    return redirect(url_for("auth.user_detail", user_id=user_id))


def _user_action(user_id: int, run, message):
    if _posted():
        with refusals_flashed(_label):
            result = run(current_user._get_current_object(), user_id)
            flash(message(result), "success")
    return redirect(url_for("auth.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def deactivate(user_id: int):
    return _user_action(user_id, lambda me, uid: service.set_active(me, uid, False),
                        lambda user: _("已停用用户 %(name)s；其会话和令牌已全部作废。", name=user.username))


@bp.post("/users/<int:user_id>/activate")
@login_required
def activate(user_id: int):
    return _user_action(user_id, lambda me, uid: service.set_active(me, uid, True),
                        lambda user: _("已启用用户 %(name)s。", name=user.username))


@bp.post("/users/<int:user_id>/revoke-tokens")
@login_required
def revoke_tokens(user_id: int):
    return _user_action(user_id, service.revoke_user_tokens, lambda n: _("已作废 %(n)s 个令牌。", n=n))


@bp.post("/users/<int:user_id>/end-sessions")
@login_required
def end_sessions(user_id: int):
    return _user_action(user_id, service.end_user_sessions, lambda n: _("已退出 %(n)s 个会话。", n=n))
