"""A local OPA server for tests: the REST endpoints the bot uses, evaluated by real OPA in-process.

Runs werkzeug in a thread on 127.0.0.1:<free port>. Policies and data live in
memory; every change rebuilds an `opa_bindings` engine (the Go OPA the `opa`
engine uses), so answers are OPA's own. It can be told to be down: ``"503"``
(every request answers 503), ``"slow"`` (answers after ``slow_seconds``) or
``"refuse"`` (the socket is closed: connection refused).

Endpoints: GET /health; GET /v1/policies; PUT/GET/DELETE /v1/policies/{id};
PUT/PATCH/GET/DELETE /v1/data/{path}; POST /v1/data/{path} with {"input": ...}.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any

from opa_bindings.engine import OpaEngine, OpaError, OpaUndefinedError
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

_DATA_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_URLS = Map(
    [
        Rule("/health", endpoint="health", methods=["GET"]),
        Rule("/v1/policies", endpoint="policies", methods=["GET"], strict_slashes=False),
        Rule("/v1/policies/<path:policy_id>", endpoint="policy", methods=["GET", "PUT", "DELETE"]),
        Rule(
            "/v1/data/", endpoint="data", methods=_DATA_METHODS, defaults={"path": ""}, strict_slashes=False
        ),
        Rule("/v1/data/<path:path>", endpoint="data", methods=_DATA_METHODS),
    ]
)


class OpaStandin:
    """``with OpaStandin() as opa: ... opa.url ...``; ``opa.requests`` lists (method, path) of every request."""

    def __init__(self) -> None:
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.requests: list[tuple[str, str]] = []
        self.mode = "up"  # up | 503 | slow | refuse
        self.slow_seconds = 3.0
        self._engine: OpaEngine | None = None
        self._lock = threading.RLock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> OpaStandin:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.mode != "refuse":
            self._server.shutdown()
        self._server.server_close()
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None

    def go_down(self, mode: str) -> None:
        """``"503"``, ``"slow"`` or ``"refuse"`` (closes the socket for good)."""
        if mode == "refuse":
            self._server.shutdown()
            self._server.server_close()
        self.mode = mode

    def forget(self) -> None:
        """Lose every policy and all data, as a restarted server without bundles would."""
        with self._lock:
            self.policies, self.data = {}, {}
            self._rebuild({}, {})

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))

    # -- WSGI ---------------------------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append((request.method, request.path))
        if self.mode == "503":
            response = _json({"code": "unavailable", "message": "server is shutting down"}, 503)
        else:
            if self.mode == "slow":
                time.sleep(self.slow_seconds)
            adapter = _URLS.bind_to_environ(environ)
            try:
                endpoint, args = adapter.match()
            except Exception:  # noqa: BLE001 - werkzeug's NotFound / MethodNotAllowed
                response = _json({"code": "resource_not_found", "message": "unknown endpoint"}, 404)
            else:
                with self._lock:
                    response = getattr(self, f"_on_{endpoint}")(request, **args)
        return response(environ, start_response)

    def _on_health(self, request: Request) -> Response:
        return _json({})

    def _on_policies(self, request: Request) -> Response:
        return _json(
            {"result": [{"id": pid, "raw": raw, "ast": {}} for pid, raw in sorted(self.policies.items())]}
        )

    def _on_policy(self, request: Request, policy_id: str) -> Response:
        if request.method == "GET":
            if policy_id not in self.policies:
                return _not_found(f"policy id {policy_id!r}")
            return _json({"result": {"id": policy_id, "raw": self.policies[policy_id], "ast": {}}})
        candidate = dict(self.policies)
        if request.method == "DELETE":
            if candidate.pop(policy_id, None) is None:
                return _not_found(f"policy id {policy_id!r}")
        else:
            candidate[policy_id] = request.get_data(as_text=True)
        problem = self._rebuild(candidate, self.data)
        if problem:
            return _json(
                {
                    "code": "invalid_parameter",
                    "message": "error(s) occurred while compiling module(s)",
                    "errors": [
                        {"code": "rego_parse_error", "message": problem, "location": {"file": policy_id}}
                    ],
                },
                400,
            )
        self.policies = candidate
        return _json({})

    def _on_data(self, request: Request, path: str) -> Response:
        keys = [k for k in path.split("/") if k]
        if request.method in ("GET", "POST"):
            body = request.get_json(silent=True) or {}
            return self._evaluate(keys, body.get("input") if isinstance(body, dict) else None)
        data = copy.deepcopy(self.data)
        if request.method == "PUT":
            data = _set(data, keys, request.get_json())
        elif request.method == "DELETE":
            if not _delete(data, keys):
                return _not_found(f"document {path!r}")
        else:
            for op in request.get_json():
                target = keys + [k for k in op["path"].split("/") if k]
                data = (
                    _delete(data, target) and data
                    if op["op"] == "remove"
                    else _set(data, target, op["value"])
                )
        problem = self._rebuild(self.policies, data)
        if problem:
            return _json({"code": "invalid_parameter", "message": problem}, 400)
        self.data = data
        return Response(status=204)

    # -- OPA ----------------------------------------------------------------------------------

    def _rebuild(self, policies: dict[str, str], data: dict[str, Any]) -> str:
        """Compile ``policies`` with ``data`` into a fresh engine; the error text when they do not compile."""
        engine = OpaEngine()
        try:
            for pid, raw in sorted(policies.items()):
                engine.add_policy(pid, raw)
            engine.add_data(data)
            engine.eval_query("true")
        except OpaError as e:
            engine.close()
            return e.message
        if self._engine is not None:
            self._engine.close()
        self._engine = engine
        return ""

    def _evaluate(self, keys: list[str], input: Any) -> Response:
        if self._engine is None and self._rebuild(self.policies, self.data):
            return _json({"code": "internal_error", "message": "policies do not compile"}, 500)
        assert self._engine is not None
        try:
            value = self._engine.eval_document(".".join(keys), input=input) if keys else self._all_data(input)
        except OpaUndefinedError:
            return _json({})  # OPA answers 200 without "result" when the document is undefined
        except OpaError as e:
            return _json({"code": "internal_error", "message": e.message}, 500)
        return _json({"result": value})

    def _all_data(self, input: Any) -> Any:
        rows = self._engine.eval_query("x := data", input=input) if self._engine else []
        return rows[0]["x"] if rows else {}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:
        pass


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _not_found(what: str) -> Response:
    return _json({"code": "resource_not_found", "message": f"storage_not_found_error: {what}"}, 404)


def _set(data: dict, keys: list[str], value: Any) -> dict:
    if not keys:
        return value if isinstance(value, dict) else data
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return data


def _delete(data: dict, keys: list[str]) -> bool:
    node: Any = data
    for key in keys[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if not keys or not isinstance(node, dict) or keys[-1] not in node:
        return False
    del node[keys[-1]]
    return True
