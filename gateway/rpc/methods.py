"""The METHODS table: the one place where a JSON-RPC wire name meets its Python handler."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, NonNegativeInt

from gateway.rpc.params import (
    ControlSmsParams,
    CountForBodyParams,
    ExportParams,
    GetListParams,
    GetParams,
    JobIdParams,
    NoParams,
    NumberCountParams,
    NumberCreateParams,
    NumberFiltersParam,
    NumberOptions,
    NumberParams,
    NumberSearchOptions,
    NumberSearchParams,
    QuoteParams,
    SearchFilters,
    SearchOptions,
    SearchParams,
    SendBatchParams,
    SendParams,
    SmsOptions,
    SubscribeParams,
    SubscriptionHashParams,
    WebhookOptions,
    parse_number_sort,
    parse_sort,
)
from gateway.services.container import Services
from gateway.services.messaging import SendOptions
from gateway.services.numbers import NumberPageRequest
from gateway.services.search import MessageFilters, PageRequest
from gateway.services.subscriptions import EVENT_TYPES
from gateway.services.wire import (
    CharsetMappingResult,
    JobResult,
    NumberResult,
    NumberSearchResults,
    QuoteResult,
    SearchResults,
    SendBatchResult,
    SmsResult,
    WebhookResult,
)
from gateway.store.base import Account, NumberFilters, SortOrder, WebhookTarget

# An object hash (API.md `hash`): 8 characters of [A-Z0-9].
HashResult = Annotated[str, Field(pattern=r"^[A-Z0-9]{8}$")]

# The account is None only for public methods, which the endpoint lets through unauthenticated.
Handler = Callable[[Services, Any, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class RpcMethod:
    name: str
    params: tuple[str, ...]  # wire names, in positional order
    model: type[BaseModel]
    handler: Handler
    summary: str
    result: Any  # the result's type, for the published schema
    public: bool = False  # callable without authentication


METHODS: dict[str, RpcMethod] = {}


def rpc_method(
    name: str, *, params: tuple[str, ...], model: type[BaseModel], result: Any, public: bool = False
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        summary = (handler.__doc__ or "").strip().splitlines()[0]
        METHODS[name] = RpcMethod(name, params, model, handler, summary, result, public)
        return handler

    return register


def _send_options(options: SmsOptions | None, raw: dict[str, Any] | None) -> SendOptions:
    if options is None:
        return SendOptions()
    return SendOptions(
        force_encoding=options.force_encoding,
        nature=options.nature or "ALERTING",
        user_data=options.user_data or "",
        idempotency_key=options.idempotency_key,
        validity_s=options.validity_s,
        endpoints=tuple(
            (prop, endpoint)
            for prop, endpoint in (
                ("options.webhook.endpoint", options.webhook.endpoint if options.webhook else None),
                ("options.push_dlr_url", options.push_dlr_url),
            )
            if endpoint is not None
        ),
        as_given=raw,
    )


@rpc_method(
    "sms.send", params=("from", "to", "body", "options"), model=SendParams, result=HashResult
)
async def send(services: Services, account: Account, p: SendParams) -> str:
    """Send an SMS; answers its hash once it is stored."""
    options = _send_options(
        p.options, p.options.model_dump(exclude_unset=True) if p.options else None
    )
    return await services.messaging.send(account.id, p.sender, p.to, p.body, options)


@rpc_method(
    "sms.send_batch",
    params=("from", "to_list", "body", "options"),
    model=SendBatchParams,
    result=SendBatchResult,
)
async def send_batch(services: Services, account: Account, p: SendBatchParams) -> dict[str, Any]:
    """One text to many recipients; each is sent or refused on its own."""
    options = _send_options(
        p.options, p.options.model_dump(exclude_unset=True) if p.options else None
    )
    outcome = await services.messaging.send_batch(account.id, p.sender, p.to_list, p.body, options)
    return SendBatchResult.of(outcome).model_dump()


@rpc_method("sms.get", params=("id",), model=GetParams, result=SmsResult)
async def get(services: Services, account: Account, p: GetParams) -> dict[str, Any]:
    """Get one SMS of the account by its hash."""
    message = await services.messaging.get(account.id, p.id)
    return SmsResult.wire(message)


def _filters(filters: SearchFilters | None) -> MessageFilters:
    if filters is None:
        return MessageFilters()
    return MessageFilters(
        direction=filters.type,
        hash=filters.hash,
        sender=filters.sender,
        recipient=filters.to,
        text=filters.text,
        nature=filters.nature,
        statuses=filters.status or (),
        user_data=filters.user_data,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )


@rpc_method("sms.search", params=("filters", "options"), model=SearchParams, result=SearchResults)
async def search(services: Services, account: Account, p: SearchParams) -> dict[str, Any]:
    """Search the account's messages: filters, sort, offset or cursor paging, exact total."""
    options = p.options or SearchOptions()
    request = PageRequest(
        offset=options.offset,
        limit=options.limit,
        order=parse_sort(options.sort) if options.sort else SortOrder(),
        cursor=options.cursor,
    )
    page = await services.search.search(account.id, _filters(p.filters), request)
    return SearchResults.wire(page)


@rpc_method(
    "sms.get_list", params=("type", "from", "to"), model=GetListParams, result=list[SmsResult]
)
async def get_list(services: Services, account: Account, p: GetListParams) -> list[Any]:
    """Deprecated: every inbound or outbound SMS created in a date range, oldest first."""
    messages = await services.search.list_between(account.id, p.type, p.date_from, p.date_to)
    return [SmsResult.wire(message) for message in messages]


@rpc_method(
    "sms.export_async", params=("filters", "webhook"), model=ExportParams, result=HashResult
)
async def export_async(services: Services, account: Account, p: ExportParams) -> str:
    """Start a CSV export of the messages the filters find; answers the job's hash."""
    webhook = _target(p.webhook.endpoint, p.webhook.options) if p.webhook else None
    return await services.jobs.create_export(account.id, _filters(p.filters), webhook)


@rpc_method("jobs.get", params=("id",), model=JobIdParams, result=JobResult)
async def get_job(services: Services, account: Account, p: JobIdParams) -> dict[str, Any]:
    """Get one job of the account: status, progress and, once done, its result."""
    return JobResult.of(await services.jobs.get(account.id, p.id)).model_dump()


@rpc_method("jobs.cancel", params=("id",), model=JobIdParams, result=Literal[True])
async def cancel_job(services: Services, account: Account, p: JobIdParams) -> bool:
    """Cancel a pending or running job."""
    await services.jobs.cancel(account.id, p.id)
    return True


def _target(endpoint: str, options: WebhookOptions | None) -> WebhookTarget:
    return WebhookTarget(
        endpoint,
        options.hmac_secret if options else None,
        (options.hmac_algo if options else None) or "SHA256",
    )


@rpc_method(
    "webhooks.subscribe",
    params=("type", "endpoint", "options"),
    model=SubscribeParams,
    result=WebhookResult,
)
async def subscribe(services: Services, account: Account, p: SubscribeParams) -> dict[str, Any]:
    """Send the account's events of one type to an endpoint; answers the `Webhook`."""
    target = _target(p.endpoint, p.options)
    subscription = await services.subscriptions.subscribe(account.id, p.type, target)
    return WebhookResult.of(subscription).model_dump()


@rpc_method(
    "webhooks.unsubscribe", params=("hash",), model=SubscriptionHashParams, result=Literal[True]
)
async def unsubscribe(services: Services, account: Account, p: SubscriptionHashParams) -> bool:
    """Stop a webhook subscription."""
    await services.subscriptions.unsubscribe(account.id, p.hash)
    return True


@rpc_method("webhooks.get_list", params=(), model=NoParams, result=list[WebhookResult])
async def list_webhooks(services: Services, account: Account, p: NoParams) -> list[Any]:
    """The account's webhook subscriptions, oldest first."""
    return [WebhookResult.of(s).model_dump() for s in services.subscriptions.list(account.id)]


@rpc_method("webhooks.get_event_types", params=(), model=NoParams, result=list[str])
async def event_types(services: Services, account: Account, p: NoParams) -> list[str]:
    """The event types a webhook can subscribe to."""
    return list(EVENT_TYPES)


def _number_filters(filters: NumberFiltersParam | None) -> NumberFilters:
    if filters is None:
        return NumberFilters()
    return NumberFilters(filters.sms_enabled, filters.prefix, filters.date_from, filters.date_to)


@rpc_method(
    "numbers.create", params=("number", "options"), model=NumberCreateParams, result=NumberResult
)
async def create_number(
    services: Services, account: Account, p: NumberCreateParams
) -> dict[str, Any]:
    """Register an E.164 number or a shortcode to the account."""
    options = p.options or NumberOptions()
    enabled = True if options.sms_enabled is None else options.sms_enabled
    owned = await services.numbers.create(account.id, p.number, enabled, options.label or "")
    return NumberResult.of(owned).model_dump()


@rpc_method("numbers.get", params=("number",), model=NumberParams, result=NumberResult)
async def get_number(services: Services, account: Account, p: NumberParams) -> dict[str, Any]:
    """One number of the account."""
    return NumberResult.of(await services.numbers.get(account.id, p.number)).model_dump()


@rpc_method("numbers.delete", params=("number",), model=NumberParams, result=Literal[True])
async def delete_number(services: Services, account: Account, p: NumberParams) -> bool:
    """Give a number up."""
    await services.numbers.delete(account.id, p.number)
    return True


@rpc_method(
    "numbers.control_sms", params=("number", "action"), model=ControlSmsParams, result=Literal[True]
)
async def control_sms(services: Services, account: Account, p: ControlSmsParams) -> bool:
    """Enable or disable SMS on a number (sending from it and receiving on it)."""
    await services.numbers.control_sms(account.id, p.number, p.action == "enable")
    return True


@rpc_method("numbers.count", params=("filters",), model=NumberCountParams, result=NonNegativeInt)
async def count_numbers(services: Services, account: Account, p: NumberCountParams) -> int:
    """How many numbers of the account match the filters."""
    return await services.numbers.count(account.id, _number_filters(p.filters))


@rpc_method(
    "numbers.search",
    params=("filters", "options"),
    model=NumberSearchParams,
    result=NumberSearchResults,
)
async def search_numbers(
    services: Services, account: Account, p: NumberSearchParams
) -> dict[str, Any]:
    """The account's numbers: filters, sort, offset or cursor paging, exact total."""
    options = p.options or NumberSearchOptions()
    by_number, descending = parse_number_sort(options.sort or "")
    request = NumberPageRequest(
        offset=options.offset,
        limit=options.limit,
        by_number=by_number,
        descending=descending,
        cursor=options.cursor,
    )
    page = await services.numbers.search(account.id, _number_filters(p.filters), request)
    return NumberSearchResults.of(page).model_dump()


@rpc_method(
    "sms.get_quote", params=("to", "text", "options"), model=QuoteParams, result=QuoteResult
)
async def get_quote(services: Services, account: Account, p: QuoteParams) -> dict[str, Any]:
    """Price an SMS: parts billed, encoding and cost for a text and a destination."""
    force_encoding = p.options.force_encoding if p.options else None
    return QuoteResult.of(services.messaging.quote(p.to, p.text, force_encoding)).model_dump()


@rpc_method(
    "sms.get_count_for_body", params=("body",), model=CountForBodyParams, result=QuoteResult
)
async def get_count_for_body(
    services: Services, account: Account, p: CountForBodyParams
) -> dict[str, Any]:
    """Deprecated: the parts and encoding of a body, without a price."""
    return QuoteResult.of(services.messaging.count_for_body(p.body)).model_dump()


@rpc_method("sms.get_gsm_charset_mapping", params=(), model=NoParams, result=CharsetMappingResult)
async def get_gsm_charset_mapping(
    services: Services, account: Account, p: NoParams
) -> dict[str, Any]:
    """The GSM 03.38 characters and the mapping used when GSM encoding is forced."""
    return CharsetMappingResult.of(services.messaging.charset_mapping()).model_dump()


@rpc_method("rpc.discover", params=(), model=NoParams, result=dict[str, Any], public=True)
async def discover(services: Services, account: Account | None, p: NoParams) -> dict[str, Any]:
    """The OpenRPC document of this API."""
    # Imported here: the document is built from this very table.
    from gateway.rpc.openrpc import openrpc_document

    return openrpc_document()
