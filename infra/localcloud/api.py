"""Serve the template's ``Api`` events locally, the way API Gateway (REST, Lambda proxy) would.

moto's API Gateway stores the API but cannot serve a SAM API. Here each request is matched
against the ``Path`` templates of the functions' ``Api`` events, turned into a REST v1 proxy
event (``resource`` and ``requestContext.resourcePath`` are the *template* path -- Chalice routes
on it exactly), and the function is invoked through moto's Lambda invoke, the same path as AWS.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra.localcloud import usage
from infra.localcloud.template import ApiRoute


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class ApiRequest:
    """A request as the local server received it (also what ``extra_routes`` handlers get)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes | None
    source_ip: str = "127.0.0.1"

    def header(self, name: str, default: str | None = None) -> str | None:
        for key, value in reversed(self.headers):
            if key.lower() == name.lower():
                return value
        return default


ExtraRoute = Callable[[ApiRequest], tuple[int, dict[str, str], bytes | str]]


@dataclass(frozen=True)
class BoundRoute:
    """An ``Api`` event bound to the deployed function, API id and stage."""

    route: ApiRoute
    function_name: str
    api_id: str
    stage: str
    pattern: re.Pattern[str] = field(compare=False)
    literal_segments: int = 0

    @classmethod
    def build(cls, route: ApiRoute, function_name: str, api_id: str, stage: str) -> BoundRoute:
        parts = []
        literals = 0
        for segment in [s for s in route.path.split("/") if s]:
            greedy = re.fullmatch(r"\{([A-Za-z0-9_.-]+)\+\}", segment)
            param = re.fullmatch(r"\{([A-Za-z0-9_.-]+)\}", segment)
            if greedy:
                parts.append(f"(?P<{_group(greedy.group(1))}>.+)")
            elif param:
                parts.append(f"(?P<{_group(param.group(1))}>[^/]+)")
            else:
                parts.append(re.escape(segment))
                literals += 1
        pattern = re.compile("^/" + "/".join(parts) + "/?$" if parts else "^/$")
        return cls(route, function_name, api_id, stage, pattern, literals)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        if found is None:
            return None
        names = re.findall(r"\{([A-Za-z0-9_.-]+)\+?\}", self.route.path)
        return {name: unquote(found.group(_group(name))) for name in names}


def _group(name: str) -> str:
    return "p_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return (single or None), (multi or None)


def build_event(
    bound: BoundRoute, request: ApiRequest, path_params: dict[str, str], account_id: str
) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy event for ``request`` matched to ``bound``."""
    headers, multi_headers = _multi(request.headers)
    query, multi_query = _multi(request.query)
    body: str | None = None
    is_base64 = False
    if request.body:
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            body = base64.b64encode(request.body).decode("ascii")
            is_base64 = True
    now = time.time()
    request_id = str(uuid.uuid4())
    host = request.header("host") or "localhost"
    return {
        "resource": bound.route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid4().hex[:6],
            "resourcePath": bound.route.path,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{bound.stage}{request.path}",
            "accountId": account_id,
            "protocol": "HTTP/1.1",
            "stage": bound.stage,
            "domainPrefix": host.split(".")[0],
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None, "accountId": None, "cognitoIdentityId": None,
                "caller": None, "sourceIp": request.source_ip, "principalOrgId": None,
                "accessKey": None, "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None,
                "userArn": None, "userAgent": request.header("user-agent"), "user": None,
            },
            "domainName": host,
            "apiId": bound.api_id,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _json_error(status: int, error: str, message: str, extra: dict[str, str] | None = None) -> ApiResponse:
    headers = {"Content-Type": "application/json", **(extra or {})}
    return ApiResponse(status, headers, json.dumps({"error": error, "message": message}).encode())


def proxy_response(payload: bytes | str | None, function_error: bool) -> ApiResponse:
    """Turn a Lambda proxy result into an HTTP response; a bad result is a 502, as on AWS."""
    if function_error:
        return ApiResponse(502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}')
    try:
        result = json.loads(payload or b"null")
        status = int(result["statusCode"])
    except (ValueError, TypeError, KeyError):
        return ApiResponse(502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}')
    headers: dict[str, str] = {}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(str(v) for v in values)
    for key, value in (result.get("headers") or {}).items():
        headers[key] = str(value)
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    else:
        body = str(raw).encode("utf-8")
    return ApiResponse(status, headers, body)


class ApiRouter:
    """The template's ``Api`` events as a router that invokes functions through moto."""

    def __init__(self, routes: list[BoundRoute], invoke: Callable[[str, bytes], tuple[bytes, bool]],
                 account_id: str) -> None:
        # API Gateway prefers the most specific resource: more literal segments first.
        self.routes = sorted(routes, key=lambda r: (-r.literal_segments, -len(r.route.path)))
        self._invoke = invoke
        self.account_id = account_id

    def handle(self, request: ApiRequest) -> ApiResponse:
        allowed: list[str] = []
        for bound in self.routes:
            params = bound.match(request.path)
            if params is None:
                continue
            if bound.route.method not in (request.method, "ANY"):
                allowed.append(bound.route.method)
                continue
            event = build_event(bound, request, params, self.account_id)
            payload, errored = self._invoke(bound.function_name, json.dumps(event).encode())
            return proxy_response(payload, errored)
        if allowed:
            return _json_error(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}",
                               {"Allow": ", ".join(sorted(set(allowed)))})
        return _json_error(404, "not_found", f"No route for {request.method} {request.path}")


def make_request(method: str, path: str, headers: dict[str, str] | None, body: Any) -> ApiRequest:
    """An :class:`ApiRequest` from the convenient ``invoke_api`` arguments (dict body = JSON)."""
    parts = urlsplit(path)
    header_list = list((headers or {}).items())
    raw: bytes | None
    if body is None:
        raw = None
    elif isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raw = json.dumps(body).encode("utf-8")
        if not any(k.lower() == "content-type" for k, _ in header_list):
            header_list.append(("Content-Type", "application/json"))
    return ApiRequest(
        method=method.upper(),
        path=parts.path or "/",
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=header_list,
        body=raw,
    )


class LocalApiServer:
    """A ThreadingHTTPServer on 127.0.0.1 in a daemon thread; ``.url`` and ``.shutdown()``."""

    def __init__(self, router: ApiRouter, host: str, port: int,
                 extra_routes: dict[tuple[str, str], ExtraRoute] | None = None) -> None:
        self.router = router
        self.extra_routes = {(m.upper(), p): fn for (m, p), fn in (extra_routes or {}).items()}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                parts = urlsplit(self.path)
                request = ApiRequest(
                    method=self.command,
                    path=parts.path or "/",
                    query=parse_qsl(parts.query, keep_blank_values=True),
                    # API Gateway tells the function the scheme the client used (here: plain HTTP).
                    headers=[*self.headers.items(), *([("X-Forwarded-Proto", "http")]
                                                      if "X-Forwarded-Proto" not in self.headers else [])],
                    body=body,
                    source_ip=self.client_address[0],
                )
                extra = server.extra_routes.get((request.method, request.path))
                if extra is not None:
                    status, headers, raw = extra(request)
                    response = ApiResponse(status, dict(headers), raw.encode() if isinstance(raw, str) else raw)
                elif request.header(usage.UNMETERED_HEADER):
                    with usage.unmetered():
                        response = server.router.handle(request)
                else:
                    response = server.router.handle(request)
                self.send_response(response.status)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        bound_host, bound_port = self._httpd.server_address[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="localcloud-api", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
