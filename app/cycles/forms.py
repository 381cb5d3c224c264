"""Page forms (Flask-WTF, CSRF). Validation of substance stays in the service."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from .models import FUND_LEVELS
from .rules import DAMAGE_CLASSES, FLAGS, KINDS, STAGE_LABELS


class CycleForm(FlaskForm):
    kind = SelectField("救助项目", choices=list(KINDS.items()))
    region_code = StringField("县级区划代码", validators=[DataRequired(message="请填写县级区划代码")],
                              description="救助周期由县级组织审定（县定），填 6 位县级代码。")
    event_id = IntegerField("灾害过程编号", validators=[Optional()],
                            description="过渡期、倒损住房重建、抚慰金、旱灾临时救助须指定灾害过程；冬春救助不填。")
    year = IntegerField("年度（冬春救助）", validators=[Optional()],
                        description="冬春救助按年度：填当年冬季所在年份，如 2025 表示 2025—2026 年度。")
    starts_on = DateField("过渡期救助起始日", validators=[Optional()],
                          description="不填则为灾情稳定之日；按每人每天标准、按自然月分段逐月发放。")
    months = IntegerField("过渡期救助月数", validators=[Optional(), NumberRange(min=1, max=12)],
                          description="默认 3 个月；超过须填写批准文号，最长 6 个月。")
    months_approval_ref = StringField("批准文号", validators=[Optional(), Length(max=100)])
    name = StringField("名称（可不填，自动生成）", validators=[Optional(), Length(max=200)])


class ConfirmForm(FlaskForm):
    """A button that posts nothing but its CSRF token (list households by the rules, approve a roll)."""


class TransitionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = StringField("原因", validators=[Optional(), Length(max=500)])
    location = StringField("公示地点", validators=[Optional(), Length(max=200)])


class BeneficiaryForm(FlaskForm):
    household_id = IntegerField("受灾户编号", validators=[DataRequired(message="请填写受灾户编号")])
    persons = IntegerField("救助人数", validators=[Optional(), NumberRange(min=1)],
                           description="不填则为家庭人口。")
    deceased = IntegerField("因灾遇难人数（抚慰金）", validators=[Optional(), NumberRange(min=0)])


class ReviewForm(FlaskForm):
    stage = HiddenField(validators=[DataRequired()])
    household_id = HiddenField("受灾户编号", validators=[DataRequired(), Regexp(r"\A[0-9]{1,10}\Z", message="必须是整数")])
    decision = HiddenField(validators=[DataRequired()])


class FundLineForm(FlaskForm):
    fund_line_id = SelectField("资金指标", coerce=int, choices=[])


class ComplaintForm(FlaskForm):
    content = TextAreaField("投诉举报内容", validators=[DataRequired(message="请填写内容")])
    complainant = StringField("投诉人", validators=[Optional(), Length(max=60)])
    contact = StringField("联系方式", validators=[Optional(), Length(max=40)])


class ResolveForm(FlaskForm):
    resolution = TextAreaField("办理结果", validators=[DataRequired(message="请填写办理结果")])


ROLL_PURPOSES = {"add": "增补（列入新的户）", "adjust": "补发（已列入的户补发金额）",
                 "extend": "延长过渡期救助（须批准文号）"}
_SEPARATORS = re.compile(r"[\s,，、;；]+")


class SupplementaryRollForm(FlaskForm):
    """A supplementary roll (补充名册) typed on the cycle page: one household per line. The
    substance (who may be listed, amounts, months) is checked by ``service.create_supplementary``."""

    purpose = SelectField("类别", choices=list(ROLL_PURPOSES.items()))
    reason = StringField("原因", validators=[Optional(), Length(max=500)])
    lines = TextAreaField("受灾户（每行一户）", validators=[Optional()],
                          description="增补：受灾户编号 [救助人数] [遇难人数]；补发：受灾户编号 金额（元） [说明]；"
                                      "延长：受灾户编号，不填则为名册中的全部户。用空格或逗号分隔。")
    months_total = IntegerField("延长后的总月数", validators=[Optional()])
    approval_ref = StringField("批准文号", validators=[Optional(), Length(max=100)])
    location = StringField("公示地点", validators=[Optional(), Length(max=200)])
    _rows: list[int] = []  # the textarea line of each entry (of each household id when extending)

    def to_service(self) -> tuple[dict, list[dict]]:
        """The body for ``service.create_supplementary`` and the lines that could not be read,
        as ``[{"field": "第 n 行", "message"}]``."""
        data = {"purpose": self.purpose.data, "reason": self.reason.data, "approval_ref": self.approval_ref.data,
                "location": self.location.data}
        errors: list[dict] = []
        self._rows = []
        items: list = []
        for number, text in enumerate((self.lines.data or "").splitlines(), start=1):
            parts = [p for p in _SEPARATORS.split(text.strip()) if p]
            if not parts:
                continue
            where = f"第 {number} 行"
            if self.purpose.data == "extend":
                if not all(p.isdigit() for p in parts):
                    errors.append({"field": where, "message": "受灾户编号必须是数字"})
                    continue
                items += [int(p) for p in parts]
                self._rows += [number] * len(parts)
                continue
            if not parts[0].isdigit():
                errors.append({"field": where, "message": "第一项必须是受灾户编号（数字）"})
                continue
            item: dict = {"household_id": int(parts[0])}
            if self.purpose.data == "adjust":
                try:
                    item["amount"] = float(Decimal(parts[1]))
                except (IndexError, InvalidOperation):
                    errors.append({"field": where, "message": "补发须写明金额（元），如：12 300"})
                    continue
                if len(parts) > 2:
                    item["note"] = " ".join(parts[2:])
            else:
                if len(parts) > 3 or not all(p.isdigit() for p in parts[1:]):
                    errors.append({"field": where, "message": "增补写：受灾户编号 [救助人数] [遇难人数]，均为整数"})
                    continue
                for name, value in zip(("persons", "deceased"), parts[1:]):
                    item[name] = int(value)
            items.append(item)
            self._rows.append(number)
        if self.purpose.data == "extend":
            data["months_total"] = self.months_total.data
            if items:
                data["household_ids"] = items
        else:
            data["entries"] = items
        return data, errors

    def label_of(self, field: str) -> str:
        """Name a field of the service's errors as the page shows it (``entries[2].amount`` → 第 n 行)."""
        found = re.match(r"(?:entries|household_ids)\[(\d+)\]", field)
        if found and int(found.group(1)) < len(self._rows):
            return f"第 {self._rows[int(found.group(1))]} 行"
        if field == "entries" or field == "household_ids":
            return self.lines.label.text
        return self[field].label.text if field in self else field


class CancelRollForm(FlaskForm):
    reason = StringField("撤销原因", validators=[Optional(), Length(max=500)])


class ProgressForm(FlaskForm):
    stage = SelectField("到达阶段", choices=list(STAGE_LABELS.items()))
    note = StringField("说明", validators=[Optional(), Length(max=500)])


class HouseholdForm(FlaskForm):
    village_code = StringField("村级区划代码（12 位）", validators=[DataRequired(message="请填写村代码")])
    head_name = StringField("户主姓名", validators=[DataRequired(message="请填写户主姓名"), Length(max=60)])
    id_number = StringField("户主身份证号码", validators=[DataRequired(message="请填写身份证号码")],
                            description="18 位，最后一位为校验码（可为 X），系统按 GB 11643 校验。")
    members = IntegerField("家庭人口", validators=[DataRequired(message="请填写家庭人口"), NumberRange(min=1, max=99)])
    contact = StringField("联系电话", validators=[Optional(), Length(max=40)])
    bank_account = StringField("一卡通账号", validators=[Optional(), Length(max=40)],
                               description="惠民惠农财政补贴资金“一卡通”账号，发放名册导出给银行时使用。")
    bank_name = StringField("开户银行", validators=[Optional(), Length(max=60)])
    damage_class = SelectField("住房倒损", choices=list(DAMAGE_CLASSES.items()), default="none")
    no_housing = BooleanField(FLAGS["no_housing"])
    no_livelihood = BooleanField(FLAGS["no_livelihood"])
    no_self_rescue = BooleanField(FLAGS["no_self_rescue"])
    dibao = BooleanField(FLAGS["dibao"])
    tekun = BooleanField(FLAGS["tekun"])
    cannot_return = BooleanField(FLAGS["cannot_return"])


class ImportForm(FlaskForm):
    file = FileField("台账文件（.xlsx）", validators=[FileRequired(message="请选择文件"),
                                                 FileAllowed(["xlsx"], "只接受 .xlsx 文件")])
    mode = SelectField("已登记的户", choices=[("create", "视为错误（不导入）"), ("upsert", "用文件内容更新")])


class FundSourceForm(FlaskForm):
    code = StringField("编号（文号）", validators=[DataRequired(message="请填写编号"), Length(max=40)])
    name = StringField("名称", validators=[DataRequired(message="请填写名称"), Length(max=200)])
    level = SelectField("来源", choices=list(FUND_LEVELS.items()))
    region_code = StringField("管理区划代码", validators=[DataRequired(message="请填写区划代码")])
    year = IntegerField("年度", validators=[DataRequired(message="请填写年度")])
    relief_item = SelectField("资金指标：救助项目", choices=list(KINDS.items()))
    amount = DecimalField("金额（元）", places=2, validators=[DataRequired(message="请填写金额")])


class AllocationForm(FlaskForm):
    line_id = HiddenField(validators=[DataRequired()])
    amount = DecimalField("金额（元，负数为调减）", places=2, validators=[DataRequired(message="请填写金额")])
    note = StringField("文号或说明", validators=[DataRequired(message="请填写文号或说明"), Length(max=200)])


class SubmitNeedsForm(FlaskForm):
    region_code = HiddenField(validators=[DataRequired()])
