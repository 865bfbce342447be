"""Settings: frozen pydantic models, one per TOML table, loaded from config.toml."""

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigError(Exception):
    """The configuration cannot be read or is not valid; the message says where and why."""


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServerSettings(_Table):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # Larger bodies are refused with HTTP 413 before they are read.
    max_request_bytes: int = Field(1024 * 1024, ge=1024)
    max_batch_size: int = Field(100, ge=1)
    # A client must send its whole body within this many seconds (slow clients hold sockets).
    body_read_timeout_s: float = Field(10.0, gt=0)
    public_url: str = "http://127.0.0.1:8080"
    # HTTP requests a second per account on the RPC endpoint; 0 means no limit. Over it, calls
    # answer QUOTA_EXCEEDED with data.retry_after.
    account_requests_per_s: float = Field(0, ge=0)
    shutdown_timeout_s: float = Field(10.0, gt=0)
    # Connections one client address may hold open at once; a further one is answered 503 and
    # closed before it is read. 0 means no cap. Behind a reverse proxy every connection comes
    # from the proxy's address: size it for the proxy, or 0.
    max_connections_per_address: int = Field(256, ge=0)
    # "json" writes one JSON object a log line (for log shippers); "text" is for people.
    log_format: Literal["text", "json"] = "text"


class StoreSettings(_Table):
    path: Path = Path("data/gateway.db")
    # NORMAL survives a process crash; FULL also survives power loss (fsync on every commit).
    durability: Literal["NORMAL", "FULL"] = "NORMAL"
    reader_connections: int = Field(2, ge=1, le=16)
    max_write_batch: int = Field(512, ge=1)


class AuthSettings(_Table):
    credential_cache_ttl_s: float = Field(60.0, ge=0)
    credential_cache_size: int = Field(10_000, ge=0)
    # hashlib.scrypt cost; 2**14 takes tens of milliseconds, which is the point.
    scrypt_n: int = Field(2**14, ge=2)
    # After this many failed authentications of one login, or from one client address, within
    # the window, further attempts are refused (HTTP 429) until the window has passed.
    max_failed_logins: int = Field(10, ge=1)
    failed_login_window_s: float = Field(300, gt=0)


class MessagingSettings(_Table):
    default_sender: str = "36180"
    stop_number: str = "36173"
    idempotency_window_s: int = Field(24 * 3600, ge=1)
    # An undelivered message is given up as EXPIRED after this long (options.validity_s may
    # shorten it).
    validity_s: int = Field(48 * 3600, ge=60, le=3 * 24 * 3600)  # options.validity_s's bound
    # Recipients of one sms.send_batch.
    max_batch_recipients: int = Field(100, ge=1, le=1000)


class SearchSettings(_Table):
    # sms.search, sms.get_list and exports see only messages created in this many last days.
    window_days: int = Field(183, ge=1)
    # sms.get_list answers at most this many messages; a wider range is refused, not cut.
    get_list_max_rows: int = Field(1000, ge=1, le=100_000)


class ExportSettings(_Table):
    directory: Path = Path("data/exports")
    # A done export's file can be downloaded this long, then it is deleted.
    expiry_days: float = Field(7.0, gt=0)
    max_concurrent_jobs: int = Field(2, ge=1, le=32)
    # Rows read and written per step: memory stays flat whatever the export's size.
    page_rows: int = Field(5000, ge=100, le=100_000)
    # How often the runner looks for new jobs and expired files when nothing wakes it.
    poll_interval_s: float = Field(1.0, gt=0)


class WebhookSettings(_Table):
    timeout_s: float = Field(10.0, gt=0)
    # Delay before each retry; after the list, every `retry_every_s` until `give_up_after_s`.
    retry_schedule_s: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600)
    retry_every_s: float = Field(3600, gt=0)
    give_up_after_s: float = Field(24 * 3600, gt=0)
    # Each delay is spread by up to this fraction either way, so retries do not arrive in herds.
    jitter: float = Field(0.2, ge=0, lt=1)
    max_concurrent: int = Field(128, ge=1)
    # A slow or dead receiver holds at most this many of the slots above; a healthy receiver
    # of every delivery report needs enough of them to keep up.
    max_concurrent_per_endpoint: int = Field(32, ge=1)
    # Refuse endpoints that resolve to loopback, private or link-local addresses, when a
    # webhook is given and again before every POST (for gateways shared by several parties).
    deny_private_networks: bool = False
    poll_interval_s: float = Field(1.0, gt=0)


class SimulatorSettings(_Table):
    # Seconds from submit to the REMOTE_QUEUED receipt, then to the final receipt.
    remote_queued_delay_s: float = Field(0.5, ge=0)
    final_receipt_delay_s: float = Field(2.0, ge=0)
    # Bearer secret of POST /carrier/simulator/mo; empty turns the route off.
    mo_secret: str = ""


class CarrierSettings(_Table):
    connector: Literal["simulator"] = "simulator"
    # false holds every message PENDING (maintenance); they go once it is true again.
    dispatch: bool = True
    max_concurrent_submits: int = Field(64, ge=1)
    # Messages a second handed to the carrier in all, and per account; 0 means no limit.
    # Over the limit, messages wait their turn (PENDING) rather than being refused.
    max_messages_per_s: float = Field(0, ge=0)
    account_max_messages_per_s: float = Field(0, ge=0)
    poll_interval_s: float = Field(1.0, gt=0)
    simulator: SimulatorSettings = SimulatorSettings()


class PricingSettings(_Table):
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    # Price of one SMS part by ISO 3166 alpha-2 destination country.
    countries: dict[str, Decimal] = Field(default_factory=dict)
    # Overrides by E.164 prefix ("+3375"); the longest matching prefix wins.
    prefixes: dict[str, Decimal] = Field(default_factory=dict)

    @field_validator("countries")
    @classmethod
    def _country_codes(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for code in value:
            # A code phonenumbers never answers ("UK" for GB) would price nothing, silently.
            if code not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"not an ISO 3166 alpha-2 code of a numbering plan: {code!r}")
        return _prices(value)

    @field_validator("prefixes")
    @classmethod
    def _prefixes(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for prefix in value:
            if not _E164_PREFIX.fullmatch(prefix):
                raise ValueError(f"not an E.164 prefix (+ and 1 to 15 digits): {prefix!r}")
        return _prices(value)


_E164_PREFIX = re.compile(r"\+[1-9][0-9]{0,14}")
# Prices are per part, in the currency's units, to 4 decimals (what `cost` shows).
_MAX_PART_PRICE = Decimal(1000)


def _prices(value: dict[str, Decimal]) -> dict[str, Decimal]:
    for key, price in value.items():
        if not (price.is_finite() and 0 <= price <= _MAX_PART_PRICE):
            raise ValueError(f"{key}: a price is 0 to {_MAX_PART_PRICE}, not {price}")
        if price != price.quantize(Decimal("0.0001")):
            raise ValueError(f"{key}: a price has at most 4 decimals, not {price}")
    return value


class Settings(_Table):
    server: ServerSettings = ServerSettings()
    store: StoreSettings = StoreSettings()
    auth: AuthSettings = AuthSettings()
    messaging: MessagingSettings = MessagingSettings()
    search: SearchSettings = SearchSettings()
    exports: ExportSettings = ExportSettings()
    webhooks: WebhookSettings = WebhookSettings()
    carrier: CarrierSettings = CarrierSettings()
    pricing: PricingSettings = PricingSettings()


def load_settings(
    path: Path | None, overrides: dict[str, dict[str, Any]] | None = None
) -> Settings:
    """Read a TOML file (or nothing) and apply per-table overrides, such as command-line flags."""
    raw: dict[str, Any] = {}
    source = str(path) if path is not None else "settings"
    if path is not None:
        try:
            with path.open("rb") as handle:
                raw = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"{source}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not TOML: {exc}") from None
    for table, values in (overrides or {}).items():
        raw.setdefault(table, {}).update({k: v for k, v in values.items() if v is not None})
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from None
