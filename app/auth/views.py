"""Pages: sign-in, my account (我的账户: password, sessions, tokens) and user management
(用户管理: list within the jurisdiction, create, reset password, deactivate, revoke tokens,
end sessions). Thin: each posted form goes as it is to the service, which reads it by the same
``Field`` s as the API's body; the forms below only render (labels, descriptions) and carry the
CSRF token, which CSRFProtect checks before any view runs."""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField

from ..errors import Invalid, Unauthorized
from ..pages import flash_refusal, labels_of, perform, refusals_flashed
from ..permissions import ROLE_LABELS
from . import service
from .throttle import LoginThrottled

bp = Blueprint("auth", __name__)

PER_PAGE = 50


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"))
    password = PasswordField(_l("密码"))


class PasswordForm(FlaskForm):
    old_password = PasswordField(_l("当前密码"), description=_l("管理员重置后，这里填临时密码"))
    new_password = PasswordField(_l("新密码"),
                                 description=_l("至少 8 位，含字母、数字、符号中的至少两类，不含用户名，不同于当前密码"))
    confirm = PasswordField(_l("再次输入新密码"))


class UserForm(FlaskForm):
    username = StringField(_l("用户名"))
    full_name = StringField(_l("姓名"))
    role = SelectField(_l("角色"), choices=list(ROLE_LABELS.items()), validate_choice=False)
    region_code = StringField(_l("管辖区划（代码或名称）"), description=_l("如 140105 或 小店区；000000 或 全国 为全国"))
    password = PasswordField(_l("初始密码"), description=_l("用户首次登录时必须修改"))


class ActionForm(FlaskForm):
    """The CSRF token of a one-button form."""


def _me():
    return current_user._get_current_object()


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _filter_label(field: str) -> str:
    return {"q": _("搜索"), "region_code": _("区划")}.get(field, field)


def throttled_page(exc: LoginThrottled):
    """A 429 page with the time to try again (for throttled forms other than the login page)."""
    response = make_response(render_template("error.html", status=429, title=_("登录失败次数过多"),
                                             detail=exc.detail, errors=[]), 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


# --- Sign-in -------------------------------------------------------------------------------

def _safe_next() -> str:
    """Where to go after signing in: ``?next=`` when it is a path on this site."""
    target = request.args.get("next")
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("main.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status, headers = 200, {}
    if request.method == "POST":
        try:
            user = service.sign_in(request.form)
        except LoginThrottled as exc:
            flash_refusal(exc)
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        except (Unauthorized, Invalid) as exc:
            flash_refusal(exc, labels_of(form))
        else:
            login_user(user)
            if user.must_change_password:
                flash(_("请先设置新密码。"), "warning")
                return redirect(url_for("auth.password"))
            return redirect(_safe_next())
    return render_template("auth/login.html", form=form), status, headers


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    service.sign_out(_me())
    logout_user()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("auth.login"))


# --- My account ----------------------------------------------------------------------------

@bp.get("/account")
@login_required
def account():
    return _no_store(make_response(render_template(
        "auth/account.html", **service.account_page(_me()), action_form=ActionForm())))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if request.method == "POST":
        with refusals_flashed(labels_of(form), refusals=(Invalid,)):
            result = service.change_password(_me(), request.form, confirm=True)
            flash(_("密码已修改；其他 %(sessions)s 个会话已退出，%(tokens)s 个令牌已作废。",
                    sessions=result["sessions_ended"], tokens=result["tokens_revoked"]), "success")
            return redirect(url_for("auth.account"))
    return _no_store(make_response(render_template("auth/password.html", form=form)))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_my_session(session_id: int):
    if service.end_my_session(_me(), session_id):
        logout_user()
        flash(_("已退出登录。"), "info")
        return redirect(url_for("auth.login"))
    flash(_("该会话已退出。"), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/sessions/end-others")
@login_required
def end_my_other_sessions():
    count = service.end_my_other_sessions(_me())
    flash(_("已退出其他 %(n)s 个会话。", n=count), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_my_token(token_id: int):
    service.revoke_my_token(_me(), token_id)
    flash(_("令牌已作废。"), "success")
    return redirect(url_for("auth.account"))


# --- User management -----------------------------------------------------------------------

@bp.route("/users", methods=["GET", "POST"])
@login_required
def users():
    form = UserForm()
    if request.method == "POST":
        with refusals_flashed(labels_of(form)):
            user = service.create_user(_me(), request.form)
            flash(_("已创建用户 %(name)s；首次登录时须修改初始密码。", name=user.username), "success")
            return redirect(url_for("auth.user_detail", user_id=user.id))
    filters, page = service.page_filters(request.args)
    listing = {"items": [], "total": 0}
    with refusals_flashed(_filter_label):
        listing = service.list_users(_me(), filters, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template("auth/users.html", form=form, users=listing["items"], total=listing["total"],
                           page=page, pages=max(1, -(-listing["total"] // PER_PAGE)), role_labels=ROLE_LABELS,
                           args=request.args, **service.management(_me()))


@bp.get("/users/<int:user_id>")
@login_required
def user_detail(user_id: int):
    return _no_store(make_response(render_template(
        "auth/user.html", **service.user_page(_me(), user_id), role_labels=ROLE_LABELS, action_form=ActionForm())))


@bp.post("/users/<int:user_id>/reset-password")
@login_required
def reset_password(user_id: int):
    with refusals_flashed():
        reset = service.reset_password(_me(), user_id)
        # shown in this response only: never flashed (the session cookie is readable), never stored
        return _no_store(make_response(render_template("auth/reset_done.html", reset=reset, user=reset.user)))
    return redirect(url_for("auth.user_detail", user_id=user_id))


def _user_action(user_id: int, run, message):
    return perform(lambda: run(_me(), user_id), message, url_for("auth.user_detail", user_id=user_id))


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
