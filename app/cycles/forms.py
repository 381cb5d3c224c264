"""Page forms (Flask-WTF): labels, descriptions and widgets, and the CSRF token (CSRFProtect checks
it on every post). They decide nothing: each field is named as the service's ``Field`` it posts
to, and the service checks the posted form as it checks the API's body, so a refused field is
named by its label here."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, MultipleFileField, SelectField, StringField, TextAreaField

from .models import FUND_LEVELS
from .rules import DAMAGE_CLASSES, EXCLUSIONS, FLAGS, KINDS, STAGE_LABELS

NUMERIC = {"inputmode": "numeric"}


class CycleForm(FlaskForm):
    kind = SelectField("救助项目", choices=list(KINDS.items()), validate_choice=False)
    region_code = StringField("县级区划代码", render_kw=NUMERIC,
                              description="救助周期由县级组织审定（县定），填 6 位县级代码。")
    event_id = StringField("灾害过程编号", render_kw=NUMERIC,
                           description="过渡期、倒损住房重建、抚慰金、旱灾临时救助须指定灾害过程；冬春救助不填。")
    year = StringField("年度（冬春救助）", render_kw=NUMERIC,
                       description="冬春救助按年度：填当年冬季所在年份，如 2025 表示 2025—2026 年度。")
    starts_on = StringField("过渡期救助起始日", description="不填则为灾情稳定之日；按每人每天标准、按自然月分段逐月发放。")
    months = StringField("过渡期救助月数", render_kw=NUMERIC, description="默认 3 个月；超过须填写批准文号，最长 6 个月。")
    months_approval_ref = StringField("批准文号")
    name = StringField("名称（可不填，自动生成）")


class ConfirmForm(FlaskForm):
    """A button that posts nothing but its CSRF token (list households by the rules, approve a roll)."""


class TransitionForm(FlaskForm):
    action = HiddenField()
    reason = StringField("原因")
    location = StringField("公示地点")


class BeneficiaryForm(FlaskForm):
    household_id = StringField("受灾户编号", render_kw=NUMERIC)
    persons = StringField("救助人数", render_kw=NUMERIC, description="不填则为家庭人口。")
    deceased = StringField("因灾遇难人数（抚慰金）", render_kw=NUMERIC)


class ReviewForm(FlaskForm):
    stage = HiddenField()
    household_id = HiddenField("受灾户编号")
    decision = HiddenField()


class FundLineForm(FlaskForm):
    fund_line_id = SelectField("资金指标", choices=[], validate_choice=False)


class ComplaintForm(FlaskForm):
    content = TextAreaField("投诉举报内容")
    complainant = StringField("投诉人")
    contact = StringField("联系方式")


class ResolveForm(FlaskForm):
    resolution = TextAreaField("办理结果")


class SupplementaryRollForm(FlaskForm):
    """A supplementary roll (补充名册) typed on the cycle page: one household per line (``lines``,
    read by ``service.create_supplementary``, whose errors name a line as ``lines[i]``)."""

    purpose = SelectField("类别", choices=[("add", "增补（列入新的户）"), ("adjust", "补发（已列入的户补发金额）"),
                                         ("extend", "延长过渡期救助（须批准文号）")], validate_choice=False)
    reason = StringField("原因")
    lines = TextAreaField("受灾户（每行一户）",
                          description="增补：受灾户编号 [救助人数] [遇难人数]；补发：受灾户编号 金额（元） [说明]；"
                                      "延长：受灾户编号，不填则为名册中的全部户。用空格或逗号分隔。")
    months_total = StringField("延长后的总月数", render_kw=NUMERIC)
    approval_ref = StringField("批准文号")
    location = StringField("公示地点")

    def label_of(self, field: str) -> str:
        """Name a field of the service's errors as the page shows it (``lines[2].amount`` → 第 3 行;
        ``entries``, ``household_ids`` → the lines' label)."""
        found = re.match(r"lines\[(\d+)\]", field)
        if found:
            return f"第 {int(found.group(1)) + 1} 行"
        if field in ("entries", "household_ids"):
            return self.lines.label.text
        return self[field].label.text if field in self else field


class RollStepForm(FlaskForm):
    stage = HiddenField()
    decision = HiddenField()
    note = StringField("意见")
    location = StringField("公示地点")


class CheckForm(FlaskForm):
    """逐户核查 of one house (the page posts it with its photos)."""

    household_id = HiddenField("受灾户编号")
    found_class = SelectField("核查认定的倒损等级", choices=list(DAMAGE_CLASSES.items()), validate_choice=False)
    exclusion = SelectField("排除情形", choices=[("", "不排除")] + list(EXCLUSIONS.items()), validate_choice=False)
    reason = StringField("理由", description="排除或改变等级时必填。")
    checkers = StringField("核查人员")
    late_reason = StringField("逾期原因", description="超过核查期限时必填。")
    photos = MultipleFileField("现场照片")


class CancelRollForm(FlaskForm):
    reason = StringField("撤销原因")


class ProgressForm(FlaskForm):
    stage = SelectField("到达阶段", choices=list(STAGE_LABELS.items()), validate_choice=False)
    note = StringField("说明")


class HouseholdForm(FlaskForm):
    village_code = StringField("村级区划代码（12 位）", render_kw=NUMERIC)
    head_name = StringField("户主姓名")
    id_number = StringField("户主身份证号码", description="18 位，最后一位为校验码（可为 X），系统按 GB 11643 校验。")
    members = StringField("家庭人口", render_kw=NUMERIC)
    contact = StringField("联系电话")
    bank_account = StringField("一卡通账号", render_kw=NUMERIC,
                               description="惠民惠农财政补贴资金“一卡通”账号，发放名册导出给银行时使用。")
    bank_name = StringField("开户银行")
    damage_class = SelectField("住房倒损", choices=list(DAMAGE_CLASSES.items()), default="none", validate_choice=False)
    no_housing = BooleanField(FLAGS["no_housing"])
    no_livelihood = BooleanField(FLAGS["no_livelihood"])
    no_self_rescue = BooleanField(FLAGS["no_self_rescue"])
    dibao = BooleanField(FLAGS["dibao"])
    tekun = BooleanField(FLAGS["tekun"])
    cannot_return = BooleanField(FLAGS["cannot_return"])


class ImportForm(FlaskForm):
    file = FileField("台账文件（.xlsx）", render_kw={"accept": ".xlsx"})
    mode = SelectField("已登记的户", choices=[("create", "视为错误（不导入）"), ("upsert", "用文件内容更新")],
                       validate_choice=False)


class BankReturnForm(FlaskForm):
    file = FileField("银行回盘文件（.xlsx 或 .csv）", render_kw={"accept": ".xlsx,.csv"})


class FundSourceForm(FlaskForm):
    code = StringField("编号（文号）")
    name = StringField("名称")
    level = SelectField("来源", choices=list(FUND_LEVELS.items()), validate_choice=False)
    region_code = StringField("管理区划代码", render_kw=NUMERIC)
    year = StringField("年度", render_kw=NUMERIC)
    relief_item = SelectField("资金指标：救助项目", choices=list(KINDS.items()), validate_choice=False)
    amount = StringField("金额（元）", render_kw={"inputmode": "decimal"})


class AllocationReceivedForm(FlaskForm):
    """An allocation received from the level above (下达资金), recorded as a source with one line."""

    code = StringField("文号")
    name = StringField("名称")
    level = SelectField("来源", choices=[(k, v) for k, v in FUND_LEVELS.items() if k != "county"],
                        validate_choice=False)
    region_code = SelectField("县（市、区）", choices=[], validate_choice=False)
    year = HiddenField()
    relief_item = SelectField("救助项目", choices=list(KINDS.items()), validate_choice=False)
    amount = StringField("金额（元）", render_kw={"inputmode": "decimal"})
    note = StringField("说明")


class AllocationForm(FlaskForm):
    line_id = HiddenField()
    amount = StringField("金额（元，负数为调减）", render_kw={"inputmode": "decimal"})
    note = StringField("文号或说明")


class SubmitNeedsForm(FlaskForm):
    region_code = HiddenField()
