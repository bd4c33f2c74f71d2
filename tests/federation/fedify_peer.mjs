// An ActivityPub peer built on Fedify (npm, MIT), an implementation nobody in this project
// wrote, for `tests/http/fedify.rs`: an actor of its own (`peer`), its WebFinger and its
// inboxes on a free loopback port, served by Fedify; what it sends is signed by Fedify, what it
// receives is verified by Fedify before its inbox listeners run, and its actor document is
// given only to a signed fetch (authorized fetch).
//
// Run with FEDIFY_PEER naming the folder where `npm ci` installed `fedify/package.json` (its
// `node_modules` holds @fedify/fedify). Driven through standard input, one command a line; it
// answers each with one JSON line:
//
//     follow <actor URL>             sends a Follow to that actor
//     post <actor URL> <id> <text>   sends that actor a Create of a public Note, `<actor>/<id>`
//     delete <actor URL> <id>        sends that actor a Delete of the Note `<actor>/<id>`
//     wait <type>                    waits (20 s at most) for a verified activity of that type
//
// `follow`, `post` and `delete` answer {"sent": true}, or {"error": ...} when the other server
// did not take it (Fedify says with which status).

import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

const installed = process.env.FEDIFY_PEER;
if (!installed) {
  throw new Error("FEDIFY_PEER must name the folder where `npm ci` installed Fedify");
}
// The module Fedify's package.json exports for `import` (its version is pinned there).
const fedify = await import(
  pathToFileURL(path.resolve(installed, "node_modules/@fedify/fedify/esm/mod.js")).href
);
const {
  Accept, Create, Delete, Endpoints, Follow, MemoryKvStore, Note, PUBLIC_COLLECTION, Person,
  Tombstone, createFederation, generateCryptoKeyPair, verifyRequest,
} = fedify;

const IDENTIFIER = "peer";
const keyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");

const federation = createFederation({
  kv: new MemoryKvStore(),
  // The app under test is on loopback, over http.
  allowPrivateAddress: true,
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify peer",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
    });
  })
  .setKeyPairsDispatcher(async (_ctx, identifier) =>
    identifier === IDENTIFIER ? [keyPair] : []
  )
  // Like a server in Mastodon's secure mode: the actor document only to a fetch signed by a
  // key Fedify can fetch and verify (else 401).
  .authorize((_ctx, _identifier, signedKey) => signedKey != null);

// Activities the inbox listeners took, each with the key that signed its request.
const received = [];
let arrived = () => {};

async function keep(ctx, activity) {
  // A Follow names this actor, whose document Fedify would have to fetch signed: its id is
  // enough. The others embed their object.
  const object = activity instanceof Follow
    ? null
    : await activity.getObject({ documentLoader: ctx.documentLoader });
  received.push({
    signer: ctx.data?.signer ?? null,
    activity: {
      type: activity.constructor.name,
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
      object: {
        type: object?.constructor.name ?? null,
        id: activity.objectId?.href ?? null,
        actor: object?.actorId?.href ?? null,
        content: object?.content?.toString() ?? null,
      },
    },
  });
  arrived();
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, keep)
  .on(Create, keep)
  .on(Follow, keep)
  .on(Delete, keep)
  .onError((_ctx, error) => console.error("fedify peer inbox:", error));

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const server = http.createServer(async (req, res) => {
  try {
    const body = ["GET", "HEAD"].includes(req.method) ? undefined : await readBody(req);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      body,
    });
    // The key a signed request was signed with, checked by Fedify's own verifier (as its
    // inbox does before any listener runs), for `wait` to tell.
    let signer = null;
    if (req.method === "POST") {
      const ctx = federation.createContext(request.clone(), {});
      const key = await verifyRequest(request.clone(), {
        documentLoader: ctx.documentLoader,
        contextLoader: ctx.contextLoader,
      });
      signer = key && { keyId: key.id?.href ?? null, owner: key.ownerId?.href ?? null };
    }
    const response = await federation.fetch(request, { contextData: { signer } });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    console.error("fedify peer:", error);
    res.writeHead(500);
    res.end();
  }
});

await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const context = () => federation.createContext(new URL(base), {});
const say = (value) => process.stdout.write(JSON.stringify(value) + "\n");
say({
  actor: context().getActorUri(IDENTIFIER).href,
  handle: `${IDENTIFIER}@127.0.0.1:${server.address().port}`,
});

async function send(target, activity) {
  const ctx = context();
  const recipient = await ctx.lookupObject(target);
  if (recipient?.inboxId == null) return { error: `no actor with an inbox at ${target}` };
  try {
    await ctx.sendActivity({ identifier: IDENTIFIER }, recipient, activity(ctx, recipient));
    return { sent: true };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
}

async function wait(type) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const index = received.findIndex((r) => r.activity.type === type);
    if (index >= 0) return received.splice(index, 1)[0];
    const left = deadline - Date.now();
    if (left <= 0) return { error: `no ${type} came` };
    await new Promise((resolve) => {
      arrived = resolve;
      setTimeout(resolve, left);
    });
  }
}

async function run(line) {
  const [command, target, ...rest] = line.trim().split(" ");
  const noteId = (ctx, id) => new URL(`${ctx.getActorUri(IDENTIFIER).href}/${id}`);
  switch (command) {
    case "follow":
      return send(target, (ctx, recipient) =>
        new Follow({
          id: new URL(`${ctx.getActorUri(IDENTIFIER).href}#follow-1`),
          actor: ctx.getActorUri(IDENTIFIER),
          object: recipient.id,
        }));
    case "post": {
      const [id, ...words] = rest;
      return send(target, (ctx) =>
        new Create({
          id: new URL(`${noteId(ctx, id).href}/activity`),
          actor: ctx.getActorUri(IDENTIFIER),
          to: PUBLIC_COLLECTION,
          object: new Note({
            id: noteId(ctx, id),
            attribution: ctx.getActorUri(IDENTIFIER),
            to: PUBLIC_COLLECTION,
            content: `<p>${words.join(" ")}</p>`,
          }),
        }));
    }
    case "delete": {
      const [id] = rest;
      return send(target, (ctx) =>
        new Delete({
          id: new URL(`${noteId(ctx, id).href}#delete`),
          actor: ctx.getActorUri(IDENTIFIER),
          to: PUBLIC_COLLECTION,
          object: new Tombstone({ id: noteId(ctx, id) }),
        }));
    }
    case "wait":
      return wait(target);
    default:
      return { error: `unknown command ${command}` };
  }
}

// One command at a time, in order.
let queue = Promise.resolve();
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  input += chunk;
  let newline;
  while ((newline = input.indexOf("\n")) >= 0) {
    const line = input.slice(0, newline);
    input = input.slice(newline + 1);
    queue = queue.then(() => run(line)).then(say, (error) => say({ error: String(error) }));
  }
});
process.stdin.on("end", () => queue.then(() => process.exit(0)));
