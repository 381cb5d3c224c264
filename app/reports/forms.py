"""Page forms of loss reporting (CSRF-protected by Flask-WTF)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .models import HAZARDS


class EventForm(FlaskForm):
    name = StringField("灾害过程名称", validators=[DataRequired(message="请填写名称"), Length(max=200)],
                       description="例如：2026年7月太原市暴雨洪涝")
    hazard = SelectField("灾种", choices=list(HAZARDS.items()))
    started_at = DateTimeLocalField("开始时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                    validators=[DataRequired(message="请填写开始时间")],
                                    description="初报时限自此起算（默认 2 小时内）")
    region_codes = StringField("受灾区划代码", validators=[DataRequired(message="请至少填写一个区划代码")],
                               description="多个代码用逗号或空格分隔；填写地市或省时，其下各县均须报送")
    major = BooleanField("重大灾害", description="重大灾害的每份报告须附现场照片（国家系统要求，默认至少 3 张，可配置）")


class AtForm(FlaskForm):
    at = DateTimeLocalField("时间（北京时间）", format="%Y-%m-%dT%H:%M", validators=[Optional()],
                            description="留空表示现在")


class ImportForm(FlaskForm):
    file = FileField("快报表 Excel 文件（.xlsx）", validators=[FileRequired(message="请选择文件")],
                     description="格式与「导出 Excel」相同；任何一行有错则全部不导入")


class ForwardForm(FlaskForm):
    region_code = SelectField("上报单位", choices=[], validate_choice=False)
    kind = SelectField("类型", choices=[("initial", "初报"), ("update", "续报"), ("final", "核报")])
    note = TextAreaField("审核意见", validators=[Optional(), Length(max=4000)],
                         description="上报的是本单位下级报告的当前汇总数；合计仍按下级汇总，不会因上报而冻结")
