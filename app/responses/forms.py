"""Forms of the response pages (CSRF through Flask-WTF)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ResponseActionForm(FlaskForm):
    """One decision on a response; the panel renders it once per card and action."""

    plan_id = HiddenField(validators=[DataRequired()])
    region_code = HiddenField(validators=[DataRequired()])
    action = SelectField("操作", choices=[("start", "启动响应"), ("adjust", "调整等级"), ("end", "终止响应")])
    level = StringField("响应等级", validators=[Optional(), Length(max=20)])
    reason = TextAreaField("理由", validators=[Optional(), Length(max=4000)],
                           description="调整、终止必须填写；灾情未达到所选等级的启动条件"
                                       "（按预测或会商研判启动）时也必须填写。")
    next = HiddenField()


class PlanUploadForm(FlaskForm):
    file = FileField("预案文件（.yaml / .yml / .json）")
    text = TextAreaField("或粘贴预案全文", validators=[Optional()],
                         description="与内置预案同一格式（可在预案详情页下载 YAML 作为模板）。"
                                     "编号相同即为新版本，version 必须与已有版本不同；上传后新版本立即生效，"
                                     "旧版本保留，已作出的响应决定仍记录其当时的版本。")


class ActivationForm(FlaskForm):
    version = HiddenField()
    active = HiddenField(default="1")


class PlainForm(FlaskForm):
    """A form with nothing but the CSRF token (mark read, …)."""
