"""English pages get ASCII punctuation, except in what a form sends back (the user's own text)."""
from __future__ import annotations


def test_form_values_keep_their_punctuation_on_an_english_page(app, client):
    app.add_url_rule("/test-punctuation", "test_punctuation", lambda: (
        "<!doctype html><title>t</title><p>名称（代码）：甲、乙</p>"
        "<textarea name=note>灾情稳定、道路畅通（已核实）</textarea>"
        "<input name=a value=\"甲、乙：丙\"><input name=b value='丁，戊'>"))
    english = client.get("/test-punctuation?lang=en").get_data(as_text=True)
    assert "<p>名称 (代码): 甲, 乙</p>" in english
    assert "<textarea name=note>灾情稳定、道路畅通（已核实）</textarea>" in english
    assert 'value="甲、乙：丙"' in english and "value='丁，戊'" in english
    chinese = client.get("/test-punctuation?lang=zh_CN").get_data(as_text=True)
    assert "<p>名称（代码）：甲、乙</p>" in chinese
