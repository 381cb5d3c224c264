"""Page forms of the rosters, for rendering and labels only (the service validates the posted
form by its ``Field`` s, the same as the API's body): their field names are the service's."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField

from ..reports import HAZARDS
from .models import CHANGE_LABELS, DAMAGE_CLASSES, DECISIONS, SEXES


class CasualtyForm(FlaskForm):
    region_code = SelectField("所在区划", choices=[], validate_choice=False)
    name = StringField("姓名", render_kw={"required": True, "maxlength": 50})
    sex = SelectField("性别", choices=list(SEXES.items()), validate_choice=False)
    id_number = StringField("身份证号码", render_kw={"required": True, "maxlength": 18, "inputmode": "text",
                                                  "autocomplete": "off"})
    age = IntegerField("年龄", render_kw={"min": 0, "max": 150})
    address = StringField("住址", render_kw={"required": True, "maxlength": 200})
    occurred_on = DateField("死亡或失踪日期", render_kw={"required": True})
    place = StringField("死亡或失踪地点", render_kw={"required": True, "maxlength": 200})
    cause = StringField("死亡或失踪原因", render_kw={"required": True, "maxlength": 200})
    hazard = SelectField("灾种", choices=list(HAZARDS.items()), validate_choice=False)
    status = SelectField("死亡或失踪", choices=[("dead", "死亡"), ("missing", "失踪")], validate_choice=False)


class StatusForm(FlaskForm):
    action = SelectField("变更为", choices=list(CHANGE_LABELS.items()), validate_choice=False)
    reason = StringField("原因", render_kw={"required": True, "maxlength": 2000})


class NoteForm(FlaskForm):
    text = TextAreaField("差异说明", render_kw={"required": True, "maxlength": 4000, "rows": 2})


class HouseForm(FlaskForm):
    region_code = SelectField("所在区划", choices=[], validate_choice=False)
    head_name = StringField("户主姓名", render_kw={"required": True, "maxlength": 50})
    id_number = StringField("身份证号码", render_kw={"required": True, "maxlength": 18, "autocomplete": "off"})
    address = StringField("住址", render_kw={"required": True, "maxlength": 200})
    rooms = IntegerField("间数", render_kw={"required": True, "min": 1, "max": 200})
    damage_class = SelectField("损坏等级", choices=list(DAMAGE_CLASSES.items()), validate_choice=False)


class ImportForm(FlaskForm):
    file = FileField("一览表 Excel 文件（.xlsx）", description="格式与「导出 Excel」相同；任何一行有错则全部不导入，并逐行列出错误")


class ReviewForm(FlaskForm):
    decision = SelectField("审核结果", choices=list(DECISIONS.items()), validate_choice=False)
    reason = StringField("意见或退回原因", render_kw={"maxlength": 4000})


class TextForm(FlaskForm):
    kind = SelectField("说明类型", choices=[("disaster", "灾情文字说明"), ("relief", "救灾工作文字说明")],
                       validate_choice=False)
    text = TextAreaField("文字说明", render_kw={"maxlength": 20000, "rows": 4})
