"""English pages get ASCII punctuation in the page's own words (template text and catalogue
messages), never in what people typed: a value a template prints, or what a form sends back."""
from __future__ import annotations


def test_what_people_typed_is_shown_verbatim_on_an_english_page(app, client, auth):
    """A supply request's reason and a forwarding note keep their Chinese punctuation on the
    English page, where the page's own words around them (名称（代码）, 当前受理级别：) read in
    ASCII punctuation."""
    from tests.test_depots_api import API
    from tests.test_depots_supply import _ok, _tiers

    _tiers(app, auth)
    reason = "县库帐篷已全部发放，尚缺 500 顶（含备用）；请尽快调拨：急！"
    county = auth.token("coordinator", "140105", username="county")
    rid = _ok(client.post(f"{API}/supply-requests", headers=county, json={
        "from_region_code": "140105", "reason": reason, "lines": [{"item": "tent", "quantity": 500}]}), 201)["id"]
    note = "市级库存不足，转报省级、请协调。"
    _ok(client.post(f"{API}/supply-requests/{rid}/forward", json={"note": note},
                    headers=auth.token("coordinator", "140100", username="pref")))
    auth.login("coordinator", "140105", username="county")
    english = client.get(f"/depots/supply-requests/{rid}?lang=en").get_data(as_text=True)
    assert reason in english and note in english
    assert "小店区 (140105)</dd>" in english and "小店区（140105）" not in english  # the page's own marks
    assert "Acting level: <strong" in english
    chinese = client.get(f"/depots/supply-requests/{rid}?lang=zh_CN").get_data(as_text=True)
    assert reason in chinese and note in chinese and "小店区（140105）</dd>" in chinese


def test_only_template_text_is_given_english_punctuation(app, client):
    """Template text changes; a value a template prints does not, and neither does template text
    that a form sends back (a value attribute)."""
    from flask import render_template_string

    template = ("<p>{{ name }}（{{ code }}）：{{ typed }}</p><input name=a value=\"甲、乙\">"
                "<option value=\"（无）\">（无）</option><textarea name=note>灾情稳定、道路畅通（已核实）</textarea>")
    app.add_url_rule("/test-template-punctuation", "test_template_punctuation", lambda: render_template_string(
        template, name="示例镇", code="140105001", typed="已核实，无误（见附件）"))
    english = client.get("/test-template-punctuation?lang=en").get_data(as_text=True)
    assert "<p>示例镇 (140105001): 已核实，无误（见附件）</p>" in english
    assert 'value="甲、乙"' in english and 'value="（无）"> (无)</option>' in english
    assert "<textarea name=note>灾情稳定、道路畅通（已核实）</textarea>" in english
    chinese = client.get("/test-template-punctuation?lang=zh_CN").get_data(as_text=True)
    assert "<p>示例镇（140105001）：已核实，无误（见附件）</p>" in chinese


def test_the_english_catalogues_are_written_with_ascii_punctuation():
    """Nothing rewrites a catalogue message on its way to a page, so the English ones carry
    ASCII punctuation themselves; full-width marks appear only inside Chinese quoted as it is
    (a header a file must have: 金额（元）)."""
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po

    from app.i18n import _ENGLISH_PUNCTUATION

    marks = [chr(c) for c in _ENGLISH_PUNCTUATION if chr(c) != "\u3000"]
    quoted_chinese = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff" + re.escape("".join(marks)) + r"]*")
    app_dir = Path(__file__).resolve().parents[1] / "app"
    found = []
    for path in sorted(app_dir.glob("**/translations/en/LC_MESSAGES/messages.po")):
        with path.open("rb") as handle:
            for message in read_po(handle):
                texts = message.string if isinstance(message.string, tuple) else (message.string,)
                for text in texts:
                    if message.id and text and any(m in quoted_chinese.sub("", text) for m in marks):
                        found.append(f"{path.relative_to(app_dir)}: {text[:80]!r}")
    assert found == []


def test_a_key_or_a_catalogue_message_of_marks_is_not_rewritten(app, client):
    """A page's script looks its words up by their Chinese (``{"、": _("、")}``): the key stays,
    the value is the catalogue's; a joiner the template prints is the reader's."""
    from flask import render_template_string

    template = '{{ {"、": _("、"), "；": _("；")}|tojson }}|{{ ["甲", "乙"]|join("、") }}'
    app.add_url_rule("/test-marks", "test_marks", lambda: render_template_string(template))
    english = client.get("/test-marks?lang=en").get_data(as_text=True)
    assert english == '{"、": ", ", "；": "; "}|甲, 乙'
    assert client.get("/test-marks?lang=zh_CN").get_data(as_text=True).endswith("|甲、乙")
