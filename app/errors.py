"""Domain errors raised by services, and their rendering.

Services raise these; the API renders them as ``application/problem+json`` (RFC 9457) and pages
render a friendly Chinese error page. A request that raises one changes nothing: the session is
rolled back before rendering.
"""
from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from .extensions import db


class ServiceError(Exception):
    status = 400
    title = "请求有误"
    type = "about:blank"
    #: A refusal that the same request may overcome when sent again (a lost race, work in
    #: progress): ``Idempotency-Key`` never stores it, so the retry runs afresh.
    retryable = False

    def __init__(self, detail: str = "", errors: list[dict] | None = None, title: str | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        if title:
            self.title = title


class Unauthorized(ServiceError):
    status, title = 401, "未登录或令牌无效"


class Forbidden(ServiceError):
    status, title = 403, "无权执行此操作"


class NotFound(ServiceError):
    status, title = 404, "未找到"


class Conflict(ServiceError):
    status, title = 409, "状态冲突"


class RetryableConflict(Conflict):
    """A 409 that asks for a retry ("submitted concurrently, retry", "in progress")."""

    retryable = True


class Invalid(ServiceError):
    status, title = 422, "输入有误"


def problem(status: int, title: str, detail: str = "", errors: list | None = None, type_: str = "about:blank"):
    body = {"type": type_, "title": title, "status": status, "detail": detail or title, "errors": errors or []}
    return body, status, {"Content-Type": "application/problem+json"}


def wants_problem_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        db.session.rollback()
        if wants_problem_json():
            return problem(exc.status, exc.title, exc.detail, exc.errors, exc.type)
        return render_template("error.html", status=exc.status, title=exc.title, detail=exc.detail,
                               errors=exc.errors), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        db.session.rollback()
        title, detail = _chinese(exc)
        if wants_problem_json():
            return problem(exc.code or 500, title, detail)
        return render_template("error.html", status=exc.code, title=title, detail=detail,
                               errors=[]), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_problem_json():
            return problem(500, "服务器内部错误", "服务器内部错误，已记录日志。")
        return render_template("error.html", status=500, title="服务器内部错误",
                               detail="服务器内部错误，已记录日志，请稍后重试。", errors=[]), 500


def _chinese(exc: HTTPException) -> tuple[str, str]:
    """Title and a detail that says what to do, in Chinese. A description given on purpose
    (``abort(404, "…")``) is kept; Werkzeug's English defaults are replaced."""
    from flask_wtf.csrf import CSRFError

    title = _CHINESE_TITLES.get(exc.code, exc.name)
    if isinstance(exc, CSRFError):
        return "表单已过期", "表单已过期或缺少安全令牌 (CSRF)，请刷新页面后重新提交。"
    if exc.code == 429:
        return title, f"请求过于频繁，请稍后再试（限制：{exc.description}）。"
    if exc.description and exc.description != type(exc).description:
        return title, exc.description
    return title, _CHINESE_DETAILS.get(exc.code, title)


_CHINESE_DETAILS = {
    400: "请求格式不正确，请检查后重试。",
    401: "请先登录，或在 Authorization 头中提供有效的 Bearer 令牌。",
    403: "当前用户无权访问此内容。",
    404: "请求的页面或资源不存在，请检查地址。",
    405: "此地址不支持该请求方法。",
    413: "上传的文件超过大小限制。",
    500: "服务器内部错误，已记录日志，请稍后重试。",
}

_CHINESE_TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的请求方法",
    409: "状态冲突",
    413: "上传的文件过大",
    422: "输入有误",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误",
}
