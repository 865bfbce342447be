"""The ceiling for this stack: a bare aiohttp app that parses a JSON body and echoes it back."""

import json
import sys

from aiohttp import web


async def echo(request: web.Request) -> web.Response:
    document = json.loads(await request.read())
    return web.Response(body=json.dumps(document).encode(), content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_post("/", echo)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
