"""The SQLite store: every table's queries on one file's connections."""

from gateway.store.sqlite_accounts import AccountTables
from gateway.store.sqlite_messages import MessageTables


class SqliteStore(AccountTables, MessageTables):
    """Implements the store Protocols of `gateway.store.base` on one SQLite file."""
