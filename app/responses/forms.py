"""Forms of the response pages: they render (labels, descriptions) and carry the CSRF token
(CSRFProtect checks it); the service checks what is posted, by the same ``Field`` names, so a
refused field is named by its label here."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField


class ResponseActionForm(FlaskForm):
    """One decision on a response; the panel renders it once per card and action."""

    plan_id = HiddenField(_l("预案"))
    region_code = HiddenField(_l("评估单元"))
    action = SelectField(_l("操作"), choices=[("start", "启动响应"), ("adjust", "调整等级"), ("end", "终止响应")],
                         validate_choice=False)
    level = StringField(_l("响应等级"))
    reason = TextAreaField(_l("理由"), description="调整、终止必须填写；灾情未达到所选等级的启动条件"
                                                "（按预测或会商研判启动）时也必须填写。")
    next = HiddenField()


class PlanUploadForm(FlaskForm):
    file = FileField(_l("预案文件（.yaml / .yml / .json）"))
    text = TextAreaField(_l("或粘贴预案全文"),
                         description=_l("与内置预案同一格式（可在预案详情页下载 YAML 作为模板）。"
                                        "编号相同即为新版本，version 必须与已有版本不同；上传后新版本立即生效，"
                                        "旧版本保留，已作出的响应决定仍记录其当时的版本。"))


class ActivationForm(FlaskForm):
    version = HiddenField(_l("版本"))
    active = HiddenField(default="1")
