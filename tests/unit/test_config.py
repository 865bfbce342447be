"""config.toml checks: a setting that could only misprice, misroute or crash is refused at load."""

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_settings

SHIPPED = Path(__file__).resolve().parent.parent.parent / "config.toml"


def test_the_shipped_config_loads() -> None:
    settings = load_settings(SHIPPED)
    assert {"FR", "GB", "US", "DE"} <= settings.pricing.countries.keys()


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"countries": {"UK": "0.05"}}, "pricing.countries"),  # GB's numbers would go unpriced
        ({"countries": {"FR": "-0.05"}}, "a price is 0 to 1000"),
        ({"countries": {"FR": "1E+30"}}, "a price is 0 to 1000"),
        ({"countries": {"FR": "NaN"}}, "finite number"),
        ({"countries": {"FR": "0.00004"}}, "at most 4 decimals"),  # billed as free
        ({"prefixes": {"+0": "0.05"}}, "not an E.164 prefix"),
        ({"prefixes": {"+٤٤": "0.05"}}, "not an E.164 prefix"),  # digits, but not ASCII ones
        ({"prefixes": {"+" + "1" * 16: "0.05"}}, "not an E.164 prefix"),
    ],
)
def test_pricing_that_could_only_misprice_is_refused(
    overrides: dict[str, dict[str, str]], problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(SHIPPED, {"pricing": overrides})
    assert problem in str(refused.value)


def test_a_validity_beyond_what_a_send_may_ask_is_refused() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(SHIPPED, {"messaging": {"validity_s": 10**12}})
    assert "messaging.validity_s" in str(refused.value)
