"""App factory, health, errors, auth, tokens, regions API, OpenAPI and audit."""
from __future__ import annotations

import pytest

from app import create_app


def test_config_layers(monkeypatch, tmp_path):
    monkeypatch.setenv("JIUZAI_REPORT_INITIAL_HOURS", "3")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    app = create_app({"TESTING": True, "REPORT_JUMP_UP_FACTOR": 4.0})
    assert app.config["REPORT_INITIAL_HOURS"] == 3  # env, parsed as JSON
    assert app.config["REPORT_JUMP_UP_FACTOR"] == 4.0  # test override wins
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite")


def test_default_database_is_instance_sqlite(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/jiuzai.sqlite"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_api_without_token_is_401_problem_json(client):
    response = client.get("/api/v1/regions/140000")
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 401 and body["title"] and "errors" in body


def test_bad_token_is_401(client):
    response = client.get("/api/v1/regions/140000", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_token_for_user_made_by_cli_opens_api(app, client, runner):
    result = runner.invoke(args=["users", "create", "li", "--role", "officer", "--region", "140105",
                                 "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    response = client.post("/api/v1/auth/token", json={"username": "li", "password": "s3cret-pass"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token"] and "T" in body["expires_at"]
    headers = {"Authorization": f"Bearer {body['token']}"}
    region = client.get("/api/v1/regions/140000", headers=headers)
    assert region.status_code == 200
    assert region.get_json()["name"] == "山西省"
    assert client.get("/api/v1/me", headers=headers).get_json()["region_code"] == "140105"


@pytest.mark.parametrize("args, message", [
    (["--role", "king", "--region", "140000", "--password", "longenough"], "role"),
    (["--role", "officer", "--region", "999999", "--password", "longenough"], "region"),
    (["--role", "officer", "--region", "140000", "--password", "short"], "password"),
])
def test_users_create_rejects_bad_input(runner, args, message):
    result = runner.invoke(args=["users", "create", "zhang", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_token_wrong_password_and_missing_fields(client, auth):
    auth.user("officer", "140105", username="wang")
    assert client.post("/api/v1/auth/token", json={"username": "wang", "password": "x"}).status_code == 401
    response = client.post("/api/v1/auth/token", json={"username": "wang"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "password", "message": "必填"}]


def test_regions_children_and_404(client, auth):
    headers = auth.token("officer", "140105")
    response = client.get("/api/v1/regions/140000/children", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 2
    assert [r["code"] for r in body["items"]] == ["140100", "140200"]
    assert body["items"][0]["level"] == "prefecture"
    assert client.get("/api/v1/regions/140999", headers=headers).status_code == 404
    bad = client.get("/api/v1/regions/14x", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "code"


def test_region_accepts_padded_12_digit_code(client, auth):
    headers = auth.token()
    assert client.get("/api/v1/regions/140105000000", headers=headers).get_json()["code"] == "140105"


def test_pagination(client, auth):
    headers = auth.token()
    body = client.get("/api/v1/regions/140000/children?limit=1&offset=1", headers=headers).get_json()
    assert body["total"] == 2 and [r["code"] for r in body["items"]] == ["140200"]
    assert client.get("/api/v1/regions/140000/children?limit=-1", headers=headers).status_code == 422


def test_openapi_describes_the_api(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/regions/{code}" in doc["paths"]
    token_op = doc["paths"]["/auth/token"]["post"]
    assert token_op["security"] == []
    assert set(token_op["requestBody"]["content"]["application/json"]["schema"]["required"]) == {"username", "password"}


def test_login_page_and_home_in_chinese(client, auth):
    page = client.get("/login")
    assert "登录" in page.get_data(as_text=True)
    assert auth.login("coordinator", "140000").status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "减灾委协调员" in home and "山西省" in home


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_wrong_password(client, auth):
    auth.user("officer", "140105", username="zhao")
    page = client.post("/login", data={"username": "zhao", "password": "wrong"})
    assert "用户名或密码错误" in page.get_data(as_text=True)


def test_english_on_request(client, auth):
    auth.login("coordinator", "140000")
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Workbench" in english and "Sign out" in english and "工作台" not in english
    assert 'lang="en"' in english
    # remembered in the session, and switched back on request
    assert "Workbench" in client.get("/").get_data(as_text=True)
    assert "工作台" in client.get("/?lang=zh_CN").get_data(as_text=True)


def test_friendly_404_page(client, auth):
    auth.login()
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "页面不存在" in page.get_data(as_text=True)


def test_pages_reference_no_external_url(client, auth):
    auth.login()
    import re

    for path in ("/", "/login", "/help", "/regions/", "/regions/140000"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r'(src|href)=["\'](https?:)?//', html), path


def test_local_assets_are_served(client):
    assert client.get("/xstatic/leaflet/leaflet.js").status_code == 200
    assert client.get("/xstatic/fontawesome/css/all.min.css").status_code == 200
    assert client.get("/xstatic/jquery/jquery.min.js").status_code == 200


def test_login_is_rate_limited(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r.sqlite'}",
                      "WTF_CSRF_ENABLED": False, "LOGIN_ACCOUNT_MAX_FAILURES": 4})
    from app.extensions import db

    with app.app_context():
        db.create_all()
    client = app.test_client()
    codes = [client.post("/login", data={"username": "a", "password": "b"}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_csrf_protects_forms(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.sqlite'}",
                      "RATELIMIT_ENABLED": False})
    from app.extensions import db

    with app.app_context():
        db.create_all()
    response = app.test_client().post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_invalid_json(client, auth, constant):
    headers = {**auth.token(), "Content-Type": "application/json"}
    body = '{"username": "a", "password": "b", "x": %s}' % constant
    response = client.post("/api/v1/auth/token", data=body, headers=headers)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


def test_http_errors_say_what_to_do_in_chinese(client, auth):
    headers = auth.token()
    body = client.get("/api/v1/no-such-thing", headers=headers).get_json()
    assert body["status"] == 404 and body["detail"] == "请求的页面或资源不存在，请检查地址。"
    assert client.delete("/api/v1/regions/140000", headers=headers).get_json()["detail"] == "此地址不支持该请求方法。"


def test_int_arg(app):
    from app.api import int_arg
    from app.errors import Invalid

    with app.test_request_context("/?year=2026&empty=&bad=1.5"):
        assert int_arg("year") == 2026
        assert int_arg("empty") is None and int_arg("absent") is None
        with pytest.raises(Invalid) as caught:
            int_arg("bad")
        assert caught.value.errors == [{"field": "bad", "message": "必须是整数"}]


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert client.get("/static/favicon.svg").status_code == 200
