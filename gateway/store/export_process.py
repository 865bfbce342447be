"""Exports run as a process of their own: SQLite formats the CSV lines, this writes them.

The gateway starts `python -m gateway.store.export_process` per export and reads its progress:
an export keeps a core busy for seconds, and in the server's process every row would also
contend for the GIL with the event loop. Here nothing is shared but the database file (WAL:
the export's reads never block the gateway's writes, nor the other way round).

Protocol: one JSON line on stdin (the spec); on stdout one JSON line per page written,
`{"done": rows}`, then `{"rows": …, "bytes": …, "sha256": …}`. Exit status 0 on success.
"""

import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from gateway.store import search_sql
from gateway.store.base import EXPORT_HEADER, ExportFile, Keyset, SearchCriteria, SortOrder
from gateway.store.epoch_ms import from_ms, to_ms


def _csv_time(column: str) -> str:
    return f"COALESCE(datetime({column} / 1000, 'unixepoch'), '0000-00-00 00:00:00')"


def _csv_text(column: str) -> str:
    # RFC 4180: a quoted field, its quotes doubled; commas and line breaks are then safe.
    return f"""'"' || replace({column}, '"', '""') || '"'"""


# One CSV line per row, in the order of EXPORT_HEADER, built by SQLite while it reads (C code
# that runs without the GIL), followed by the row's keyset (created, id).
EXPORT_LINE = (
    " || ',' || ".join(
        [
            "hash",
            "direction",
            _csv_text("sender"),
            _csv_text("recipient"),
            _csv_text("text"),
            "encoding",
            "parts",
            "nature",
            _csv_text("user_data"),
            "status",
            _csv_text("status_error"),
            "COALESCE(cost, '')",
            "currency",
            _csv_time("created_at_ms"),
            _csv_time("updated_at_ms"),
            _csv_time("sent_at_ms"),
            _csv_time("received_at_ms"),
        ]
    )
    + ", created_at_ms, id"
)


@dataclass(frozen=True, slots=True)
class ExportSpec:
    database: str
    account_id: int
    criteria: SearchCriteria
    part_path: str
    page_rows: int

    def to_json(self) -> str:
        criteria = asdict(self.criteria)
        criteria["created_from"] = to_ms(self.criteria.created_from)
        if self.criteria.created_to is not None:
            criteria["created_to"] = to_ms(self.criteria.created_to)
        return json.dumps({**asdict(self), "criteria": criteria})

    @classmethod
    def from_json(cls, text: str) -> "ExportSpec":
        spec = json.loads(text)
        criteria = spec.pop("criteria")
        criteria["created_from"] = from_ms(criteria["created_from"])
        if criteria["created_to"] is not None:
            criteria["created_to"] = from_ms(criteria["created_to"])
        criteria["statuses"] = tuple(criteria["statuses"])
        return cls(criteria=SearchCriteria(**criteria), **spec)


def write_export(spec: ExportSpec, progress: Callable[[int], None]) -> ExportFile:
    """Write every match, in date_creation order, to `spec.part_path`, then fsync it."""
    connection = sqlite3.connect(f"file:{spec.database}?mode=ro", uri=True)
    connection.execute("PRAGMA busy_timeout = 5000")
    sha256 = hashlib.sha256()
    rows = written = 0
    parent = os.getppid()
    try:
        with open(spec.part_path, "wb") as output:

            def write(lines: list[str]) -> None:
                nonlocal written
                # RFC 4180: CRLF after every record, the last one included.
                data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
                sha256.update(data)
                output.write(data)
                written += len(data)

            write([",".join(EXPORT_HEADER)])
            after: Keyset | None = None
            while os.getppid() == parent:  # a gateway that died takes its exports with it
                # Keyset pages, each its own short read: the WAL is never pinned for long.
                sql, params = search_sql.page(
                    EXPORT_LINE,
                    spec.account_id,
                    spec.criteria,
                    SortOrder(),
                    after=after,
                    offset=0,
                    limit=spec.page_rows,
                    few_matches=False,
                )
                page: list[tuple[str, int, int]] = connection.execute(sql, params).fetchall()
                if not page:
                    break
                write([line for line, _, _ in page])
                rows += len(page)
                after = Keyset(page[-1][1], page[-1][2])
                progress(rows)
            else:
                raise SystemExit("the gateway is gone")
            output.flush()
            os.fsync(output.fileno())
    finally:
        connection.close()
    return ExportFile(rows, written, sha256.hexdigest())


def _report(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    spec = ExportSpec.from_json(sys.stdin.readline())
    done = write_export(spec, lambda rows: _report({"done": rows}))
    _report(asdict(done))


if __name__ == "__main__":
    main()
