"""The common searches are index-driven: no full scan, no sort of the whole window."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.store import search_sql
from gateway.store.base import Keyset, SearchCriteria, SortField, SortOrder
from gateway.store.sqlite import SqliteStore

T = datetime(2026, 1, 1, tzinfo=UTC)
U = datetime(2026, 2, 1, tzinfo=UTC)

COMMON = {
    "first page": (SearchCriteria(created_from=T), SortOrder(), None, "messages_account_created"),
    "newest first": (
        SearchCriteria(created_from=T),
        SortOrder(descending=True),
        None,
        "messages_account_created",
    ),
    "to": (
        SearchCriteria(created_from=T, recipient="+33612345678"),
        SortOrder(),
        None,
        "recipient",
    ),
    "status and dates": (
        SearchCriteria(created_from=T, created_to=U, statuses=("FAILED",)),
        SortOrder(),
        None,
        "messages_account_status",
    ),
    "cursor": (SearchCriteria(created_from=T), SortOrder(), Keyset(1, 2), "created"),
    "cursor by update": (
        SearchCriteria(created_from=T),
        SortOrder(SortField.DATE_UPDATE),
        Keyset(1, 2),
        "messages_account_updated",
    ),
    "by parts": (SearchCriteria(created_from=T), SortOrder(SortField.PARTS), None, "parts"),
    "user_data": (SearchCriteria(created_from=T, user_data="o-1"), SortOrder(), None, "user_data"),
}


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    store = SqliteStore(
        tmp_path / "plans.db", durability="NORMAL", reader_connections=1, max_write_batch=8
    )
    await store.open()  # applies the migrations
    await store.close()
    return tmp_path / "plans.db"


def _plan(database: Path, sql: str, params: list[object]) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


@pytest.mark.parametrize("case", COMMON)
def test_common_pages_walk_an_index_in_order(database: Path, case: str) -> None:
    criteria, order, after, index = COMMON[case]
    sql, params = search_sql.page(
        "id", 1, criteria, order, after=after, offset=0, limit=100, few_matches=False
    )
    plan = " | ".join(_plan(database, sql, params))
    assert index in plan and "USING" in plan, plan
    assert "SCAN messages" not in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("case", COMMON)
def test_counts_use_an_index(database: Path, case: str) -> None:
    criteria = COMMON[case][0]
    plan = " | ".join(_plan(database, *search_sql.count(1, criteria)))
    assert "SCAN messages" not in plan and "USING" in plan, plan
    if criteria.only_dates:
        assert "message_day_counts" in plan


def test_few_matches_of_several_statuses_are_looked_up_not_walked(database: Path) -> None:
    criteria = SearchCriteria(created_from=T, statuses=("FAILED", "EXPIRED"))
    sql, params = search_sql.page(
        "id", 1, criteria, SortOrder(), after=None, offset=0, limit=100, few_matches=True
    )
    plan = " | ".join(_plan(database, sql, params))
    assert "messages_account_status" in plan and "SCAN messages" not in plan, plan
