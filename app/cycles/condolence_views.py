"""The condolence page of a cycle (抚慰金): the lines made from the roster of the dead and a form
per person still without one. Thin: each route calls one service function with the user first."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from ..errors import ServiceError
from ..i18n import translate
from ..pages import perform
from .service import condolence

bp = Blueprint("cycles_condolence", __name__, url_prefix="/cycles")


@bp.get("/<int:cycle_id>/condolence")
@login_required
def page(cycle_id: int):
    state = condolence.condolence_state(current_user, cycle_id)
    return render_template("cycles/condolence.html", **state,
                           may_generate=condolence.may_generate(current_user, state["cycle"]))


@bp.post("/<int:cycle_id>/condolence")
@login_required
def generate(cycle_id: int):
    return perform(lambda: condolence.generate_one(current_user, cycle_id, request.form),
                   lambda made: translate("已为 %(name)s 生成抚慰金发放对象。", name=made[0].kin_name),
                   url_for("cycles_condolence.page", cycle_id=cycle_id), form=CondolenceForm(),
                   refusals=(ServiceError,))


class CondolenceForm(FlaskForm):
    """The labels a refusal names the page's fields by."""

    casualty_id = HiddenField("遇难人员")
    kin_name = StringField("领款人姓名")
    kin_id_number = StringField("领款人身份证号码")
    relation = StringField("关系")
    village_code = StringField("领款人所在村（新户必填）")
    bank_account = StringField("一卡通账号")
