"""SQL for message searches: WHERE clauses, keyset pages and counts (no I/O here)."""

from typing import Any

from gateway.store.base import Keyset, SearchCriteria, SortField, SortOrder
from gateway.store.epoch_ms import to_ms

DAY_MS = 86_400_000
_NO_END_MS = 1 << 53  # past any stored time: an open range ends on a day with no rows

SORT_COLUMNS = {
    SortField.DATE_CREATION: "created_at_ms",
    SortField.DATE_UPDATE: "updated_at_ms",
    SortField.STATUS: "status",
    SortField.PARTS: "parts",
}


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where(
    account_id: int, criteria: SearchCriteria, *, created: str = "created_at_ms"
) -> tuple[str, list[Any]]:
    """The WHERE clause of `criteria` for one account; every clause can use an index."""
    clauses = ["account_id = ?", f"{created} >= ?"]
    params: list[Any] = [account_id, to_ms(criteria.created_from)]
    if criteria.created_to is not None:
        clauses.append(f"{created} <= ?")
        params.append(to_ms(criteria.created_to))
    for column, value in (
        ("direction", criteria.direction),
        ("hash", criteria.hash),
        ("sender", criteria.sender),
        ("recipient", criteria.recipient),
        ("nature", criteria.nature),
        ("user_data", criteria.user_data),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if criteria.user_data:
        # Lets SQLite use the partial index, which leaves out the many rows without user_data.
        clauses.append("user_data <> ''")
    if criteria.statuses:
        clauses.append(f"status IN ({', '.join('?' * len(criteria.statuses))})")
        params.extend(criteria.statuses)
    if criteria.text is not None:
        # LIKE is case-insensitive for ASCII letters in SQLite.
        clauses.append("text LIKE ? ESCAPE '\\'")
        params.append(_like_pattern(criteria.text))
    return " AND ".join(clauses), params


def _has_indexed_filter(criteria: SearchCriteria) -> bool:
    return bool(
        criteria.hash
        or criteria.sender
        or criteria.recipient
        or criteria.statuses
        or criteria.user_data
    )


def page(
    columns: str,
    account_id: int,
    criteria: SearchCriteria,
    order: SortOrder,
    *,
    after: Keyset | None,
    offset: int,
    limit: int,
    few_matches: bool,
) -> tuple[str, list[Any]]:
    """One page in (sort column, id) order; `after` continues a keyset walk.

    A single indexed filter reads its index in date_creation order. Otherwise (a unary `+`
    keeps SQLite from using an index for that term):
    - few matches of indexed filters that their index cannot give in the asked order (several
      statuses, another sort): look them up through the filter's index and sort them, rather
      than walk the whole window in sort order testing every row;
    - only a date range and another sort than date_creation: walk the sort column's index and
      test the window, rather than sort the whole window;
    - a cursor in date_creation order: seek the index to the cursor, not to the window start.
    """
    column = SORT_COLUMNS[order.field]
    created = "created_at_ms"
    order_column = column
    out_of_order = len(criteria.statuses) > 1 or order.field is not SortField.DATE_CREATION
    if few_matches and out_of_order and _has_indexed_filter(criteria):
        created, order_column = "+created_at_ms", f"+{column}"
    elif criteria.only_dates and order.field is not SortField.DATE_CREATION:
        created = "+created_at_ms"
    elif after is not None and order.field is SortField.DATE_CREATION:
        # Two lower bounds on created_at_ms: SQLite would seek to the window's and test every
        # row up to the cursor; seek to the cursor instead.
        created = "+created_at_ms"
    condition, params = where(account_id, criteria, created=created)
    direction = "DESC" if order.descending else "ASC"
    if after is not None:
        # A row-value comparison: SQLite seeks the index to it instead of skipping rows.
        condition += f" AND ({column}, id) {'<' if order.descending else '>'} (?, ?)"
        params.extend([after.value, after.row_id])
    sql = (
        f"SELECT {columns} FROM messages WHERE {condition} "
        f"ORDER BY {order_column} {direction}, id {direction} LIMIT ? OFFSET ?"
    )
    return sql, [*params, limit, offset]


def count(account_id: int, criteria: SearchCriteria) -> tuple[str, list[Any]]:
    """COUNT(*) of the matches; with only a date range, from the per-day counters."""
    if not criteria.only_dates:
        condition, params = where(account_id, criteria)
        return f"SELECT COUNT(*) FROM messages WHERE {condition}", params
    low = to_ms(criteria.created_from)
    high = to_ms(criteria.created_to) if criteria.created_to is not None else _NO_END_MS
    if high < low:
        # date_to before the window's start (or date_from): nothing, not the edge days' rows.
        return "SELECT 0", []
    low_day, high_day = low // DAY_MS, high // DAY_MS
    exact = "SELECT COUNT(*) FROM messages WHERE account_id = ? AND created_at_ms BETWEEN ? AND ?"
    if low_day == high_day:
        return exact, [account_id, low, high]
    # Whole days in between from the counters; the two edge days counted row by row.
    return (
        f"SELECT ({exact}) + ({exact}) + (SELECT COALESCE(SUM(count), 0) "
        "FROM message_day_counts WHERE account_id = ? AND day > ? AND day < ?)",
        [
            account_id,
            low,
            (low_day + 1) * DAY_MS - 1,
            account_id,
            high_day * DAY_MS,
            high,
            account_id,
            low_day,
            high_day,
        ],
    )
