"""GraphQL over HTTP POST with a JSON body: the dashboards' requests, served without FastAPI.

FastAPI's routing and dependency solving cost a fifth of the gateway's CPU per dashboard
request (profiled at 2,000 requests/s), for a route that needs neither: the caller's key is
checked by the same `authorised` as FastAPI's route, then strawberry runs the same schema.
So `JsonPosts`, an ASGI middleware inside the gateway's own (body limits, security headers,
CORS), hands such requests to a strawberry ASGI view; everything else on /graphql (GraphiQL,
GET queries, WebSockets, other bodies) still goes through FastAPI's GraphQLRouter. Both
views share one `Coalescer` (gateway/coalesce.py) and encode with orjson.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from cross_web import AsyncHTTPRequestAdapter
from cross_web import HTTPException as Malformed
from fastapi import HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from gateway.coalesce import Coalescer, sharing_key
from gateway.context import GatewayContext
from kernel import wire

Refusal = Callable[[Request, Exception], Awaitable[Response]]


class SharedExecution:
    """For strawberry's HTTP views: queries shared between identical callers, orjson out."""

    coalescer: Coalescer[ExecutionResult]

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: GatewayContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """The query's result, shared with the same callers' same query if one is asked
        before it starts."""
        # the view's own execute_single, next in the method resolution order
        execute = super().execute_single  # type: ignore[misc]
        run = partial(
            execute, request, request_adapter, sub_response, context, root_value, request_data
        )
        key = sharing_key(context.principal, request_adapter.method, request_data)
        result: ExecutionResult = await (run() if key is None else self.coalescer.shared(key, run))
        return result

    def encode_json(self, data: object) -> bytes:
        return wire.encode(data)  # orjson: the standard library's was a tenth of a request


class JsonGraphQL(SharedExecution, GraphQL[GatewayContext, None]):
    """Strawberry's plain ASGI view, for POSTed JSON only, with the gateway's context."""

    def __init__(
        self,
        schema: BaseSchema,
        authorised: Callable[[Request], Awaitable[GatewayContext]],
        coalescer: Coalescer[ExecutionResult],
    ) -> None:
        super().__init__(schema, graphql_ide=None, allow_queries_via_get=False)
        self.authorised, self.coalescer = authorised, coalescer

    async def get_context(self, request: Request, response: Response) -> GatewayContext:  # type: ignore[override]
        return await self.authorised(request)


class JsonPosts:
    """POST `path` with a JSON body goes to `view`; any other request to `app`."""

    def __init__(self, app: ASGIApp, view: JsonGraphQL, refuse: Refusal, path: str) -> None:
        self.app, self.view, self.refuse, self.path = app, view, refuse, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._is_json_post(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.view.run(request, context=UNSET)
        except HTTPException as error:  # 401, 429, 503 from `authorised`: the gateway's shape
            response = await self.refuse(request, error)
        except Malformed as error:  # strawberry's own (a body that is not JSON): as FastAPI's route
            response = PlainTextResponse(error.reason, status_code=error.status_code)
        await response(scope, receive, send)

    def _is_json_post(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            return False
        for name, value in scope["headers"]:
            if name == b"content-type":
                return bool(value.split(b";")[0].strip().lower() == b"application/json")
        return False
