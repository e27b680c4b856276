"""The floor: a bare aiohttp handler that parses the activity and posts one reply to the connector.

python tests/bench/echo_bare.py PORT
"""

import json
import sys
from urllib.parse import quote

import aiohttp
from aiohttp import web


async def on_startup(app: web.Application) -> None:
    app["http"] = aiohttp.ClientSession()


async def on_cleanup(app: web.Application) -> None:
    await app["http"].close()


async def messages(request: web.Request) -> web.Response:
    activity = json.loads(await request.read())
    conversation = activity["conversation"]["id"]
    reply = {
        "type": "message",
        "text": f"Echo: {activity.get('text', '')}",
        "replyToId": activity["id"],
        "conversation": activity["conversation"],
        "from": activity["recipient"],
        "recipient": activity["from"],
    }
    base = f"{activity['serviceUrl'].rstrip('/')}/v3/conversations/{quote(conversation, safe='')}"
    url = f"{base}/activities/{activity['id']}"
    async with request.app["http"].post(url, json=reply) as response:
        await response.read()
    return web.Response(status=200)


app = web.Application()
app.router.add_post("/api/messages", messages)
app.on_startup.append(on_startup)
app.on_cleanup.append(on_cleanup)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
