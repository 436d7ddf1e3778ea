"""422 answers that always render: a request body may carry ``NaN``/``Infinity`` literals (Python's
JSON reader accepts them), and FastAPI's default handler echoes the offending input, which JSON
cannot encode, so the client got a 500 or a dropped connection instead of the field's error. The same
held for a lone surrogate escape in a JSON string (``"\\udbde"``): valid JSON, not encodable as UTF-8."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def finite(value: Any) -> Any:
    """``value`` with every non-finite float written as text (``"nan"``, ``"inf"``, ``"-inf"``) and every lone
    surrogate in a string written as its escape (``"\\udbde"``), so that the answer encodes as JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {finite(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


async def _unprocessable(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": finite(jsonable_encoder(exc.errors()))})


def lone_surrogate(value: Any, where: str = "body") -> str | None:
    """Where in a parsed JSON document a string holds a lone surrogate (not Unicode text), or ``None``."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            found = lone_surrogate(k, f"{where} key") or lone_surrogate(v, f"{where}.{_text(k)}")
            if found:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = lone_surrogate(v, f"{where}[{i}]")
            if found:
                return found
    return None


class UnicodeBodies:
    """A JSON request body whose strings are not Unicode text (a lone surrogate escape such as ``"\\udbde"``)
    is a 422 naming where, before any route sees it: such text would otherwise fail later, in the store, the
    broker or the answer (HTTP 500), possibly after part of the request had been acted upon."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "json" not in Headers(scope=scope).get("content-type", ""):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:  # the body is already bounded by the app's max_body_size (outside this middleware)
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _SURROGATE_ESCAPE.search(body):
            try:
                where = lone_surrogate(json.loads(body))
            except ValueError:
                where = None  # not JSON at all: the route's own parsing answers that
            if where:
                answer = JSONResponse(status_code=422, content={"detail": [{
                    "type": "unicode", "loc": where.replace("[", ".").replace("]", "").split("."),
                    "msg": f"{where} is not Unicode text (a lone UTF-16 surrogate escape such as \\udbde)"}]})
                await answer(scope, receive, send)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _unprocessable)
    app.add_middleware(UnicodeBodies)
