"""An ActivityPub peer built on bovine (PyPI, MIT), an implementation nobody in this project
wrote, for `tests/http/federation.rs`: it serves an actor, its WebFinger and an inbox on a free
loopback port, signs what it sends with bovine's HTTP Signatures and checks what it receives
with bovine's verifier.

Driven through standard input, one command a line; it answers each with one JSON line:

    follow <actor URL>         sends a signed Follow to that actor's inbox
    send <inbox URL> <JSON>    sends the activity, signed; answers its status and the start of
                               its text ({"error": ...} when no answer came within 30 s)
    forge <inbox URL> <JSON>   sends it signed by another key under this actor's keyId
    wait <type>                waits (20 s at most) for a verified activity of that type
    inputs                     the examples of fediverse-pasture-inputs (PyPI), if installed
                               here: {"version": ..., "inputs": [{"name": ..., "example": ...}]}
"""

import asyncio
import json
import socket
import sys

import aiohttp
from aiohttp import web
from bovine.clients.signed_http import SignedHttpClient
from bovine.crypto import build_validate_http_signature_raw, generate_rsa_public_private_key
from bovine.crypto.types import CryptographicIdentifier

ACTIVITY_JSON = "application/activity+json"


def say(value):
    print(json.dumps(value), flush=True)


def pasture_inputs():
    """Every example of fediverse-pasture-inputs: what its tables of Fediverse software send to
    each server (the part of a Note each one sets), named by its table and place."""
    try:
        from fediverse_pasture_inputs import available
        from fediverse_pasture_inputs.version import __version__
    except ImportError as e:
        return {"error": f"fediverse-pasture-inputs is not installed in this Python ({e})"}
    inputs = [
        {"name": f"{table}/{index}", "example": example}
        for table, data in sorted(available.items())
        for index, example in enumerate(data.examples)
    ]
    return {"version": __version__, "inputs": inputs}


async def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    public, private = generate_rsa_public_private_key()
    _, other_private = generate_rsa_public_private_key()
    actor_id = f"{base}/actor"
    key_id = f"{actor_id}#main-key"
    actor = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_id,
        "type": "Person",
        "preferredUsername": "peer",
        "inbox": f"{base}/inbox",
        "outbox": f"{base}/outbox",
        "publicKey": {"id": key_id, "owner": actor_id, "publicKeyPem": public},
    }
    received = asyncio.Queue()

    async def retrieve(key):
        async with aiohttp.ClientSession() as session:
            async with session.get(key, headers={"accept": ACTIVITY_JSON}) as response:
                data = await response.json(content_type=None)
        return CryptographicIdentifier.from_public_key(data.get("publicKey", data))

    validate = build_validate_http_signature_raw(retrieve)

    async def get_actor(request):
        return web.json_response(actor, content_type=ACTIVITY_JSON)

    async def webfinger(request):
        return web.json_response(
            {
                "subject": f"acct:peer@127.0.0.1:{port}",
                "links": [{"rel": "self", "type": ACTIVITY_JSON, "href": actor_id}],
            },
            content_type="application/jrd+json",
        )

    async def inbox(request):
        body = await request.read()

        async def read_body():
            return body

        owner = await validate(request.method, str(request.url), request.headers, read_body)
        if not owner:
            return web.Response(status=401)
        await received.put((owner, json.loads(body)))
        return web.Response(status=202)

    app = web.Application()
    app.add_routes(
        [
            web.get("/actor", get_actor),
            web.get("/.well-known/webfinger", webfinger),
            web.post("/inbox", inbox),
        ]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    say({"actor": actor_id, "handle": f"peer@127.0.0.1:{port}"})

    # No request waits for ever: a server that does not answer is reported, not waited for.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        signed = SignedHttpClient(session, key_id, private)
        forger = SignedHttpClient(session, key_id, other_private)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            command, _, rest = line.strip().partition(" ")
            if command == "follow":
                async with session.get(rest, headers={"accept": ACTIVITY_JSON}) as response:
                    target = await response.json(content_type=None)
                follow = {
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"{actor_id}#follow-1",
                    "type": "Follow",
                    "actor": actor_id,
                    "object": target["id"],
                }
                response = await signed.post(
                    target["inbox"], json.dumps(follow), content_type=ACTIVITY_JSON
                )
                say({"status": response.status})
            elif command in ("send", "forge"):
                url, _, activity = rest.partition(" ")
                client = signed if command == "send" else forger
                try:
                    response = await client.post(url, activity, content_type=ACTIVITY_JSON)
                    text = await response.text(errors="replace")
                    say({"status": response.status, "text": text[:300]})
                except (asyncio.TimeoutError, aiohttp.ClientError) as e:
                    say({"error": f"no answer: {e!r}"})
            elif command == "inputs":
                say(pasture_inputs())
            elif command == "wait":
                try:
                    while True:
                        owner, activity = await asyncio.wait_for(received.get(), 20)
                        if activity.get("type") == rest:
                            say({"owner": owner, "activity": activity})
                            break
                except asyncio.TimeoutError:
                    say({"error": f"no {rest} came"})
    await runner.cleanup()


asyncio.run(main())
