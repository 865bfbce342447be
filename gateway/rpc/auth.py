"""Reads the Authorization header (Basic, Api-Key, Bearer) into an account."""

from gateway.services.accounts import AccountService
from gateway.store.base import Account


async def authenticate(header: str | None, accounts: AccountService) -> Account | None:
    """The account the header proves, or None; the scheme is matched case-insensitively."""
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "basic":
        return await accounts.authenticate_basic(credentials)
    if scheme in ("api-key", "bearer"):
        return await accounts.authenticate_api_key(credentials)
    return None
