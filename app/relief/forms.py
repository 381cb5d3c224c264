"""The page form of the relief-work table, for rendering and labels only (the service validates
the posted form by its ``Field`` s, the same as the API's body)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField

from .models import TYPED


class ReliefWorkForm(FlaskForm):
    region_code = SelectField("填报单位", choices=[], validate_choice=False)
    note = TextAreaField("备注", render_kw={"maxlength": 2000, "rows": 2})


for _name, _label, _unit in TYPED:
    setattr(ReliefWorkForm, _name, IntegerField(f"{_label}（{_unit}）", render_kw={"min": 0, "max": 10_000_000}))
