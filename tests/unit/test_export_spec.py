"""An export's spec crosses to its process as JSON and comes back the same."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.store.base import SearchCriteria
from gateway.store.export_process import ExportSpec

_MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
_TEXT = st.none() | st.text(max_size=20)


@given(
    st.builds(
        SearchCriteria,
        created_from=_MOMENTS,
        created_to=st.none() | _MOMENTS,
        direction=_TEXT,
        hash=_TEXT,
        sender=_TEXT,
        recipient=_TEXT,
        text=_TEXT,
        nature=_TEXT,
        statuses=st.lists(st.sampled_from(["SENT", "RECEIVED", "ERROR"])).map(tuple),
        user_data=_TEXT,
    ),
    st.integers(1, 2**40),
)
def test_spec_round_trips_through_json(criteria: SearchCriteria, account_id: int) -> None:
    spec = ExportSpec("/data/gateway.db", account_id, criteria, "/exports/X.csv.part", 5000)
    assert ExportSpec.from_json(spec.to_json()) == spec
