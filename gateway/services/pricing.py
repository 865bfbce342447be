"""Prices per SMS part: by E.164 prefix override, else by destination country."""

from decimal import Decimal

from gateway.config import PricingSettings

COST_QUANTUM = Decimal("0.0001")


class PriceList:
    def __init__(self, settings: PricingSettings) -> None:
        self.currency = settings.currency
        self._countries = {c: p.quantize(COST_QUANTUM) for c, p in settings.countries.items()}
        # Longest prefix first, so the first match is the most specific.
        self._prefixes = sorted(
            ((prefix, price.quantize(COST_QUANTUM)) for prefix, price in settings.prefixes.items()),
            key=lambda item: -len(item[0]),
        )

    def unit_price(self, number: str, country: str) -> Decimal | None:
        """The price of one part to this number, or None when the destination has no route."""
        for prefix, price in self._prefixes:
            if number.startswith(prefix):
                return price
        return self._countries.get(country)

    @staticmethod
    def total(unit_price: Decimal, parts: int) -> Decimal:
        return (unit_price * parts).quantize(COST_QUANTUM)
