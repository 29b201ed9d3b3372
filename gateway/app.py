"""The ASGI application: GraphQL (with GraphiQL) at /graphql, a health check at /health."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from billing.clock import Clock
from billing.errors import BillingError, ErrorCode
from gateway.auth import CallerCache, authenticate
from gateway.auth_failures import AuthFailureLimit, deferred_check
from gateway.availability import UnavailableAsJson, ready_endpoint, refuse_if_unavailable
from gateway.body_limit import BodyLimit
from gateway.client_address import client_address
from gateway.collector import tune_for_serving
from gateway.cors import BrowserCors
from gateway.db import close_database, open_database
from gateway.finance_exports import finance_export_endpoint
from gateway.fixed_clock_setting import gateway_clock
from gateway.graphiql import ASSET_ROUTE as GRAPHIQL_ASSET_ROUTE
from gateway.graphiql import GraphiQL
from gateway.graphiql import disabled as graphiql_disabled
from gateway.graphql_http import (
    GRAPHQL_RESPONSE_JSON,
    negotiated,
    response_media_type,
    without_data_on_request_error,
)
from gateway.http_errors import auth_error_response, error_response
from gateway.idempotency import IdempotencyRefused, run_keyed, stored_response
from gateway.introspection import REFUSAL as INTROSPECTION_REFUSAL
from gateway.introspection import REFUSAL_CODE, asks_for_introspection
from gateway.invoice_route import credit_note_pdf_endpoint, invoice_pdf_endpoint
from gateway.logs import configure_logging
from gateway.metrics import metrics_endpoint
from gateway.persisted import OperationRefused, PersistedOperations
from gateway.portal_routes import portal_routes
from gateway.portal_session_route import ROUTE as PORTAL_SESSION_ROUTE
from gateway.portal_session_route import portal_session_endpoint
from gateway.pricing_route import pricing_page_endpoint
from gateway.processor import build_mailer, build_processor
from gateway.public_catalog import PublicCatalogCache, public_documents
from gateway.query_limits import (
    CheckedOperation,
    QueryTooComplex,
    check_operation,
    refusal_response,
    within_time_limit,
)
from gateway.rate_limits import RateLimited, RateLimits
from gateway.request_body import CheckedRequestBody
from gateway.request_log import RequestLog, caller_kind, note_caller, note_operation, operation_name
from gateway.response_json import leaves_are_plain, response_json
from gateway.security_headers import SecurityHeaders
from gateway.settings import Settings, load_settings
from gateway.shared_documents import shared_documents
from gateway.trusted_documents import load_manifest
from gateway.usage_csv import usage_csv_endpoint
from gateway.usage_ingest import UsageIngest
from gateway.webhooks import webhook_endpoint
from gateway.worker import run_periodically
from payments.port import PaymentProcessor
from resolvers import caller_cache
from resolvers.api_keys import ApiKeyPrincipal
from resolvers.loaders import Loaders
from resolvers.portal_sessions import LinkOptions
from resolvers.viewer import Viewer
from resolvers.webhook_delivery import DeliveryOptions
from schema import schema
from schema.context import Context
from schema.errors import coded_error

# At shutdown, how long the billing clock may take to finish the batch it is in.
CLOCK_STOP_SECONDS = 60.0


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


class GraphQLEndpoint(CheckedRequestBody, GraphQL[Context, None]):
    def __init__(self, settings: Settings, clock: Clock, processor: PaymentProcessor) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.settings = settings
        self.clock = clock
        self.processor = processor
        self.graphiql = GraphiQL() if settings.graphiql else None
        manifest = load_manifest()
        self.persisted = PersistedOperations(manifest, shared=shared_documents(settings))
        self.usage_ingest = UsageIngest(manifest, schema._schema)
        self.rate_limits = RateLimits(settings)
        self.callers: CallerCache = caller_cache.CallerCache(settings.caches.caller_ttl, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except _Refused as refused:
            response = refused.response
        except IdempotencyRefused as refused:
            response = refused.response()
        except RateLimited as limited:
            response = limited.response()
        except HTTPException as error:
            code = ErrorCode.BAD_USER_INPUT if error.status_code == 400 else "BAD_REQUEST"
            response = error_response(error.status_code, code, _http_error_message(error.reason))
        await response(scope, receive, send)

    async def get_context(self, request: Any, response: Any) -> Context:
        try:
            caller = await authenticate(
                request.headers.get("authorization"), self.settings, self.callers
            )
        except BillingError as error:
            raise _Refused(auth_error_response(error)) from None
        note_caller(caller_kind(caller))
        return Context(
            viewer=caller if isinstance(caller, Viewer) else None,
            api_key=caller if isinstance(caller, ApiKeyPrincipal) else None,
            clock=self.clock,
            sandbox=self.settings.is_sandbox,
            processor=self.processor,
            public_catalog=self.settings.public_catalog,
            client_address=client_address(request.scope, self.settings.trusted_proxies),
            webhooks_allow_private=self.settings.webhooks_allow_private,
            loaders=Loaders(self.clock, self.settings.caches.catalog_check),
            # Made when a portal session asks for them: the request's base URL takes a copy of
            # its scope and a walk over its headers, about 20 µs of every request otherwise.
            links=partial(self._portal_links, request),
        )

    def _portal_links(self, request: Any) -> LinkOptions:
        portal = self.settings.portal_sessions
        base_url = self.settings.ops.public_url or str(request.base_url).rstrip("/")
        return LinkOptions(base_url, portal.link_seconds, portal.allows)

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """Strawberry's, with the common request (a POST of `application/json` holding one
        operation of the usual shape) read without parsing its Content-Type as a MIME header
        through the email package, and without looking for a streaming transport in its
        Accept header (this view offers none). Anything else, a refusal included, Strawberry
        reads and answers itself."""
        if (
            request.method == "POST"
            and request.content_type in _PLAIN_JSON
            and not self._stream_transport_map
        ):
            data = self.parse_json(await request.get_body())
            if type(data) is dict:
                query, variables = data.get("query"), data.get("variables")
                extensions = data.get("extensions")
                if (
                    (query is None or type(query) is str)
                    and (variables is None or type(variables) is dict)
                    and (extensions is None or type(extensions) is dict)
                ):
                    return GraphQLRequestData(
                        query=query,
                        variables=variables,
                        operation_name=data.get("operationName"),
                        extensions=extensions,
                        protocol="http",
                    )
        return await super().parse_http_body(request)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a persisted document is a query, even with a browser's `Accept: */*`.
        # Only a GET renders the IDE (Strawberry's first test): a POST reads no query string.
        return (
            request.method == "GET"
            and "extensions" not in request.query_params
            and super().should_render_graphql_ide(request)
        )

    async def execute_operation(
        self,
        request: Any,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: Any,
        sub_response: Any,
    ) -> Any:
        # Every operation passes here, whatever the transport, so persisted operations (ACC-6)
        # are resolved before anything runs. Batching is off: Strawberry refuses lists earlier.
        if isinstance(request_data, list):
            raise HTTPException(400, "Batched requests are not accepted.")
        # The text sent is measured first: an automatic persisted query registers it, once
        # `_spend` has let the request through (gateway/auth_failures.py).
        checked = self._checked(request, request_data, request_data.query, context)
        try:
            document = await self.persisted.resolve(
                request_data.query,
                request_data.extensions,
                partner=context.api_key is not None,
            )
        except OperationRefused as refused:
            await self._spend(request, context, 0, sub_response)
            error = GraphQLError(refused.message, extensions={"code": refused.code})
            return ExecutionResult(data=None, errors=[error])
        if document != request_data.query:
            checked = self._checked(request, request_data, document, context)
        note_operation(operation_name(checked, request_data.operation_name))
        if (
            context.viewer is None
            and not self.settings.anonymous_introspection
            and asks_for_introspection(document)
        ):
            refusal = GraphQLError(INTROSPECTION_REFUSAL, extensions={"code": REFUSAL_CODE.value})
            return ExecutionResult(data=None, errors=[refusal])
        await self._spend(request, context, checked.cost if checked else 0, sub_response)
        if context.viewer is not None:
            await self.persisted.register(request_data.query, request_data.extensions)
        resolved = (
            request_data
            if document == request_data.query
            else replace(request_data, query=document)
        )

        async def run() -> Any:
            # Ingestion's hot path answers the trusted RecordUsage document itself.
            answered = await self.usage_ingest.answer(
                request.method,
                document,
                request_data.operation_name,
                request_data.variables,
                context,
            )
            if answered is not None:
                return answered
            return await super(GraphQLEndpoint, self).execute_operation(
                request, request_adapter, resolved, context, root_value, sub_response
            )

        try:
            if checked is None or checked.is_mutation(request_data.operation_name):
                # A mutation that has moved money is never cancelled half-way; a retry with its
                # Idempotency-Key answers the first result (IDM-1).
                return await run_keyed(request, resolved, context, sub_response, run)
            return await within_time_limit(run(), self.settings.limits.query_timeout_seconds)
        except QueryTooComplex as refusal:
            raise _Refused(refusal_response(refusal, request.headers.get("accept"))) from None
        except HTTPException as error:
            # GraphQL over HTTP: a mutation sent with GET is 405 Method Not Allowed.
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise HTTPException(
                    405, "Mutations are not run over GET: send them with POST."
                ) from None
            raise

    def _checked(
        self, request: Any, data: GraphQLRequestData, document: str | None, context: Context
    ) -> CheckedOperation | None:
        """README "Limits": a document too big to run is refused before anything runs."""
        if document is None:
            return None
        variables = data.variables if isinstance(data.variables, dict) else None
        anonymous = context.viewer is None and context.api_key is None
        try:
            return check_operation(
                self.settings.limits, document, variables, data.operation_name, anonymous=anonymous
            )
        except QueryTooComplex as refusal:
            raise _Refused(refusal_response(refusal, request.headers.get("accept"))) from None

    async def _spend(
        self,
        request: Request,
        context: Context,
        cost: int,
        sub_response: Response,
    ) -> None:
        """Spends the request's weight from its caller's budget (raises RateLimited); for a
        request bearing credentials, first checks its address's failed-authentication budget,
        in the same Redis round trip (gateway/auth_failures.py)."""
        address = client_address(request.scope, self.settings.trusted_proxies)
        caller = context.viewer or context.api_key
        check = deferred_check(request.scope)
        if check is None:
            decision = await self.rate_limits.spend(caller, address, cost)
        else:
            try:
                decision = await self.rate_limits.spend(
                    caller, address, cost, failures_of=check.address
                )
            except RateLimited:
                check.done = True
                raise
            check.done = True
        sub_response.headers.update(decision.headers())

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = [coded_error(error) for error in result.errors]
            refuse_if_unavailable(result.errors)  # the whole answer becomes a 503
        processed = await super().process_result(request, result)
        if response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON:
            processed = without_data_on_request_error(processed, result)
        return await stored_response(request, result, processed)

    # GraphQL over HTTP: the media type the client accepts (gateway/graphql_http.py).
    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        return negotiated(response, response_data, sub_response.media_type)

    async def render_graphql_ide(self, request: Request) -> Response:
        return self.graphiql.page() if self.graphiql else graphiql_disabled()

    def encode_json(self, data: object) -> str:
        return response_json(data, data_is_plain=_DATA_IS_PLAIN)


_DATA_IS_PLAIN = leaves_are_plain(schema._schema)
# What Strawberry's parse of the header reads as `application/json` with no other parameter
# that matters; any other spelling goes through that parse.
_PLAIN_JSON = frozenset({"application/json", "application/json; charset=utf-8"})


def _http_error_message(reason: str) -> str:
    if reason == "Unable to parse request body as JSON":
        return 'The request body is not valid JSON: send {"query": "...", "variables": {...}}.'
    return reason


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    processor: PaymentProcessor | None = None,
    *,
    manage_database: bool = True,
    tick_seconds: float = 60.0,
    run_clock: bool = False,
    tune_collector: bool = False,
) -> Starlette:
    """`manage_database=False` leaves the database and the billing clock to the caller (tests).
    `run_clock` runs the billing clock inside this process (the embedded default's `serve`);
    otherwise `billing-gateway worker` processes run it. `tune_collector`: the garbage
    collector's settings for serving (gateway/collector.py), applied once start-up is over."""
    endpoint = GraphQLEndpoint(
        settings,
        clock or gateway_clock(settings.fixed_clock),
        processor or build_processor(settings),
    )

    @asynccontextmanager
    async def lifespan(owner: Starlette) -> AsyncIterator[None]:
        async with started(owner):
            warm_up = tune_for_serving() if tune_collector else None
            try:
                yield
            finally:
                if warm_up is not None:
                    warm_up.cancel()
                endpoint.rate_limits.close()

    @asynccontextmanager
    async def started(_: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        await open_database(settings.database_url)
        if not run_clock:
            try:
                yield
            finally:
                await close_database()
            return
        stop = asyncio.Event()
        worker = asyncio.create_task(
            run_periodically(
                endpoint.clock,
                endpoint.processor,
                tick_seconds,
                build_mailer(settings),
                DeliveryOptions(allow_private=settings.webhooks_allow_private),
                stop=stop,
            )
        )
        try:
            yield
        finally:
            stop.set()  # the clock finishes the batch it is in, then stops
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(worker), CLOCK_STOP_SECONDS)
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            await close_database()

    app = Starlette(
        routes=_routes(settings, endpoint),
        lifespan=lifespan,
        middleware=_middleware(settings, endpoint),
    )
    if settings.ops.tracing:
        from gateway.tracing import enable_tracing

        enable_tracing(app)
    return app


def _routes(settings: Settings, endpoint: GraphQLEndpoint) -> list[BaseRoute]:
    graphql: ASGIApp = endpoint
    if settings.public_catalog:
        graphql = PublicCatalogCache(endpoint, public_documents(load_manifest()))
    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready_endpoint(settings), methods=["GET"]),
        Route("/metrics", metrics_endpoint(settings.ops.metrics_token, endpoint.clock)),
        Route("/invoices/{invoice_id}.pdf", invoice_pdf_endpoint(settings), methods=["GET"]),
        Route(
            "/credit-notes/{credit_note_id}.pdf",
            credit_note_pdf_endpoint(settings),
            methods=["GET"],
        ),
        Route("/usage.csv", usage_csv_endpoint(settings), methods=["GET"]),
        Route("/exports/{kind}.csv", finance_export_endpoint(settings), methods=["GET"]),
        Route(
            PORTAL_SESSION_ROUTE,
            portal_session_endpoint(settings, endpoint.clock),
            methods=["GET"],
        ),
        Route("/pricing", pricing_page_endpoint(), methods=["GET"]),
        Route(
            "/webhooks/stripe",
            webhook_endpoint(endpoint.processor, endpoint.clock),
            methods=["POST"],
        ),
    ]
    if endpoint.graphiql is not None:
        routes.append(Route(GRAPHIQL_ASSET_ROUTE, endpoint.graphiql.asset, methods=["GET"]))
    return routes + portal_routes(settings)


def _middleware(settings: Settings, endpoint: GraphQLEndpoint) -> list[Middleware]:
    # Outermost first: every answer, a 503 or a 413 too, carries the browser headers.
    return [
        Middleware(RequestLog),  # its log line and metrics see every answer
        Middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors),
        Middleware(BrowserCors, origins=settings.cors_origins),
        Middleware(
            AuthFailureLimit,
            limits=endpoint.rate_limits,
            trusted_proxies=settings.trusted_proxies,
            deferred_paths=_deferred_failures_check(settings),
        ),
        Middleware(UnavailableAsJson),
        Middleware(BodyLimit, max_bytes=settings.limits.max_body_bytes),
    ]


def _deferred_failures_check(settings: Settings) -> tuple[str, ...]:
    """The routes whose endpoint checks the failed-authentication budget itself: /graphql,
    unless authenticating may provision a user (GATEWAY_JWT_JIT), a write made before `_spend`."""
    provider = settings.identity_provider
    return () if provider is not None and provider.jit else ("/graphql",)


def app_from_environment() -> Starlette:
    """The app of one worker process of `serve --workers N`, from the environment's settings."""
    settings = load_settings()
    configure_logging(settings.ops)
    return create_app(settings, tune_collector=True)
