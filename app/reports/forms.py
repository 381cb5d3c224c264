"""Page forms of loss reporting, for rendering only: labels, descriptions and widgets, and the
CSRF token (CSRFProtect checks it on every post). They decide nothing: the service validates the
posted form by its ``Field`` s (the same as the API's body), so the field names here are the
service's, and a refused field is named by its label here.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from .models import HAZARDS, REPORT_KINDS


class EventForm(FlaskForm):
    name = StringField("灾害过程名称", render_kw={"required": True, "maxlength": 200},
                       description="例如：2026年7月太原市暴雨洪涝")
    hazard = SelectField("灾种", choices=list(HAZARDS.items()), validate_choice=False)
    started_at = StringField("开始时间（北京时间）", render_kw={"required": True},
                             description="初报时限自此起算（默认 2 小时内）")
    region_codes = StringField("受灾区划代码", render_kw={"required": True},
                               description="多个代码用逗号或空格分隔；填写地市或省时，其下各县均须报送")
    major = BooleanField("重大灾害", description="重大灾害的每份报告须附现场照片（国家系统要求，默认至少 3 张，可配置）")


class AtForm(FlaskForm):
    at = StringField("时间（北京时间）", description="留空表示现在")


class ImportForm(FlaskForm):
    file = FileField("快报表 Excel 文件（.xlsx）", description="格式与「导出 Excel」相同；任何一行有错则全部不导入")


class ForwardForm(FlaskForm):
    region_code = SelectField("上报单位", choices=[], validate_choice=False)
    kind = SelectField("类型", choices=list(REPORT_KINDS.items()), validate_choice=False)
    note = TextAreaField("审核意见", render_kw={"maxlength": 4000},
                         description="上报的是本单位下级报告的当前汇总数；合计仍按下级汇总，不会因上报而冻结")


class AddRegionForm(FlaskForm):
    region_code = SelectField("新增受灾区划", choices=[], validate_choice=False,
                              description="从灾害过程所在省（管辖范围内）的地市、县中选择；选地市则其下各县均须报送")
    impact_at = StringField("首次受灾时间（北京时间）", description="初报时限自此起算；留空为现在（加入时）")


class WithdrawForm(FlaskForm):
    region_code = SelectField("撤回的受灾区划", choices=[], validate_choice=False)
    reason = StringField("撤回原因", render_kw={"required": True, "maxlength": 500},
                         description="误加等；已有报告的区划不能撤回")


class StabiliseUnitForm(FlaskForm):
    region_code = SelectField("县（区）", choices=[], validate_choice=False)
    at = StringField("稳定时间（北京时间）", description="留空为现在；该县续报停止，核报时限开始计算")
