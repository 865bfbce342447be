"""The SQLite store: every table's queries on one file's connections."""

from gateway.store.sqlite_accounts import AccountTables
from gateway.store.sqlite_jobs import JobTables
from gateway.store.sqlite_messages import MessageTables
from gateway.store.sqlite_numbers import NumberTables
from gateway.store.sqlite_outbox import OutboxTables
from gateway.store.sqlite_subscriptions import SubscriptionTables


class SqliteStore(
    AccountTables, MessageTables, JobTables, OutboxTables, SubscriptionTables, NumberTables
):
    """Implements the store Protocols of `gateway.store.base` on one SQLite file."""
