"""`GET /exports/{hash}.csv`: a done export's file, to the account that made it, nobody else."""

from aiohttp import web

from gateway.errors import NotFound
from gateway.rpc.auth import authenticate_request
from gateway.services.container import Services


class ExportDownloads:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def handle(self, request: web.Request) -> web.StreamResponse:
        account = await authenticate_request(request, self._services.accounts)
        if isinstance(account, web.Response):
            self._services.metrics.auth_refusals.labels(str(account.status)).inc()
            return account
        job_hash = request.match_info["job_hash"]
        try:
            path = await self._services.jobs.export_file(account.id, job_hash)
        except NotFound:
            raise web.HTTPNotFound() from None
        return web.FileResponse(
            path,
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{job_hash}.csv"',
            },
        )
