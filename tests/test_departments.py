"""Department sharing (部门共享): each department sees only the fields its task needs, in its own
jurisdiction, every access audited; the export has the same columns; 住建's house-safety
appraisal sets a household's damage class with the document attached."""
from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from app.models_common import AuditEntry
from app.cycles.models import Household
from app.departments.models import DEPARTMENT_FIELDS, FIELD_LABELS, HouseAppraisal
from app.extensions import db
from tests.test_cycles_support import make_household

ROSTER_FIELDS = sorted(FIELD_LABELS)


@pytest.fixture
def household(app):
    return make_household(app, head_name="赵大", address="示例一村 3 组", contact="13700001111",
                          damage_class="generally_damaged")


@pytest.mark.parametrize("role", sorted(DEPARTMENT_FIELDS))
@pytest.mark.parametrize("field", ROSTER_FIELDS)
def test_department_field_matrix(app, client, auth, household, role, field):
    """role × field: a column is on the page and in the export exactly when the role may see it."""
    auth.login(role, "140105")
    html = client.get("/departments/").get_data(as_text=True)
    allowed = field in DEPARTMENT_FIELDS[role][1]
    assert (f'data-field="{field}"' in html) is allowed
    sheet = load_workbook(BytesIO(client.get("/departments/export.xlsx").data)).active
    headings = [cell.value for cell in sheet[1]]
    assert (FIELD_LABELS[field] in headings) is allowed


@pytest.mark.parametrize("role", sorted(DEPARTMENT_FIELDS))
def test_every_access_is_audited_with_the_fields_given(app, client, auth, household, role):
    auth.login(role, "140105")
    client.get("/departments/")
    client.get("/departments/export.xlsx")
    with app.app_context():
        entries = db.session.query(AuditEntry).filter(AuditEntry.action.like("department.%")).all()
        assert [e.action for e in entries] == ["department.view", "department.export"]
        assert all(e.after["fields"] == list(DEPARTMENT_FIELDS[role][1]) for e in entries)


@pytest.mark.parametrize("role, region, status", [
    ("dept_police", "140105", 200), ("dept_police", "650100", 200),  # their own jurisdiction: empty
    ("coordinator", "140105", 403), ("officer", "140105", 403), ("admin", "000000", 403),
    ("auditor", "140105", 403)])
def test_only_department_accounts_use_the_sharing_pages(app, client, auth, household, role, region, status):
    auth.login(role, region)
    response = client.get("/departments/")
    assert response.status_code == status
    if region == "650100":
        assert "赵大" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["dept_education", "dept_health", "dept_police", "dept_finance", "dept_hrss"])
def test_departments_see_none_of_the_relief_areas(app, client, auth, role):
    auth.login(role, "140105")
    for url in ("/events", "/cycles/", "/complaints/", "/releases/", "/audit/"):
        assert client.get(url).status_code in (403, 404), url


def test_housing_appraisal_sets_the_damage_class_with_the_report(app, client, auth, household):
    auth.login("dept_housing", "140105")
    pdf = (BytesIO(b"%PDF-1.4 appraisal"), "鉴定报告.pdf", "application/pdf")
    response = client.post("/departments/appraisals", data={
        "household_id": household, "damage_class": "collapsed", "appraisal_no": "JD-2026-001",
        "appraised_on": "2026-07-02", "file": pdf}, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Household, household).damage_class == "collapsed"
        appraisal = db.session.query(HouseAppraisal).one()
        assert (appraisal.damage_class_before, appraisal.damage_class) == ("generally_damaged", "collapsed")
        actions = {e.action for e in db.session.query(AuditEntry).all()}
        assert {"household.appraisal", "department.import"} <= actions
    download = client.get(f"/departments/appraisals/{appraisal.id}/file")
    assert download.data == b"%PDF-1.4 appraisal"


def test_appraisal_refusals_name_each_field(app, client, auth, household):
    auth.login("dept_housing", "140105")
    response = client.post("/departments/appraisals", data={
        "household_id": household, "damage_class": "flattened", "appraisal_no": "",
        "appraised_on": "tomorrow"}, content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    for name in ("damage_class", "appraisal_no", "appraised_on", "file"):
        assert name in html
    with app.app_context():
        assert db.session.get(Household, household).damage_class == "generally_damaged"
    auth.login("dept_police", "140105")
    assert client.post("/departments/appraisals", data={"household_id": household}).status_code == 403


def test_housing_appraises_only_inside_its_jurisdiction(app, client, auth):
    outside = make_household(app, village_code="140106", head_name="外区户")
    auth.login("dept_housing", "140105")
    response = client.post("/departments/appraisals", data={
        "household_id": outside, "damage_class": "collapsed", "appraisal_no": "JD-9", "appraised_on": "2026-07-02",
        "file": (BytesIO(b"%PDF-1.4"), "a.pdf", "application/pdf")}, content_type="multipart/form-data")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Household, outside).damage_class == "none"


@pytest.mark.parametrize("role", sorted(DEPARTMENT_FIELDS))
def test_a_department_account_has_a_home_and_its_own_account(client, auth, role):
    auth.login(role, "140105")
    home = client.get("/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert "/departments/" in html and "/cycles/" not in html and "/events" not in html
    assert client.get("/account").status_code == 200
