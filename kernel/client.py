"""Calling another service's endpoint: typed request out, typed response or RemoteError back."""

from __future__ import annotations

import json

from nats.aio.client import Client as NatsClient
from nats.errors import ConnectionClosedError, NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from kernel.endpoints import ERROR_CODE, ERROR_MESSAGE, CallContext, EndpointSpec, Req, Resp
from kernel.errors import RemoteError
from kernel.naming import endpoint_subject

UNAVAILABLE = "unavailable"  # the error code of a service that did not answer in time


class ServiceClient:
    """Sends requests over NATS request-reply on behalf of a caller."""

    def __init__(self, nc: NatsClient, namespace: str, *, timeout: float = 10.0) -> None:
        self.nc, self.namespace, self.timeout = nc, namespace, timeout

    async def call(self, spec: EndpointSpec[Req, Resp], request: Req, ctx: CallContext) -> Resp:
        """Send `request` to `spec`'s endpoint; raise RemoteError on an error reply."""
        subject = endpoint_subject(self.namespace, spec.service, spec.verb)
        try:
            reply = await self.nc.request(
                subject,
                request.model_dump_json().encode(),
                timeout=self.timeout,
                headers=ctx.headers(),
            )
        except (NoRespondersError, NatsTimeoutError, ConnectionClosedError) as error:
            # An outage, not a bug: callers (and their clients) may retry, so it gets a code.
            raise RemoteError(
                UNAVAILABLE, f"the {spec.service} service did not answer; retry later"
            ) from error
        headers = reply.headers or {}
        if ERROR_CODE in headers:
            raise _remote_error(headers, reply.data)
        return spec.response.model_validate_json(reply.data)


def _remote_error(headers: dict[str, str], data: bytes) -> RemoteError:
    try:
        body = json.loads(data) if data else {}
    except ValueError:
        body = {}
    return RemoteError(headers[ERROR_CODE], headers.get(ERROR_MESSAGE, ""), body.get("field"))
