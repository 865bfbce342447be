"""Accounts and API keys in SQLite."""

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from gateway.errors import DuplicateLogin
from gateway.store.base import Account, AccountCredentials
from gateway.store.epoch_ms import from_ms, to_ms
from gateway.store.sqlite_base import SqliteBase


def _insert_account(
    connection: sqlite3.Connection, payloads: Sequence[tuple[str, str, bytes, int]]
) -> list[int | None]:
    ids: list[int | None] = []
    for login, password_hash, token_sha256, now_ms in payloads:
        try:
            cursor = connection.execute(
                "INSERT INTO accounts (login, password_hash, created_at_ms) VALUES (?, ?, ?)",
                (login, password_hash, now_ms),
            )
        except sqlite3.IntegrityError:
            ids.append(None)
            continue
        account_id = cursor.lastrowid
        connection.execute(
            "INSERT INTO api_keys (account_id, name, token_sha256, created_at_ms) "
            "VALUES (?, 'default', ?, ?)",
            (account_id, token_sha256, now_ms),
        )
        ids.append(account_id)
    return ids


class AccountTables(SqliteBase):
    async def create_account(
        self, login: str, password_hash: str, api_key_sha256: bytes, now: datetime
    ) -> Account:
        account_id = await self._write(
            _insert_account, (login, password_hash, api_key_sha256, to_ms(now))
        )
        if account_id is None:
            raise DuplicateLogin("login", "an account with this login exists")
        return Account(account_id, login, now)

    async def list_accounts(self) -> list[Account]:
        rows = await self._read("SELECT id, login, created_at_ms FROM accounts ORDER BY id", ())
        return [Account(row[0], row[1], from_ms(row[2])) for row in rows]

    async def credentials_for_login(self, login: str) -> AccountCredentials | None:
        rows = await self._read_point(
            "SELECT id, login, created_at_ms, password_hash FROM accounts WHERE login = ?",
            (login,),
        )
        if not rows:
            return None
        row = rows[0]
        return AccountCredentials(Account(row[0], row[1], from_ms(row[2])), row[3])

    async def account_for_api_key(self, token_sha256: bytes) -> Account | None:
        rows = await self._read_point(
            "SELECT a.id, a.login, a.created_at_ms FROM api_keys k "
            "JOIN accounts a ON a.id = k.account_id WHERE k.token_sha256 = ?",
            (token_sha256,),
        )
        return Account(rows[0][0], rows[0][1], from_ms(rows[0][2])) if rows else None
