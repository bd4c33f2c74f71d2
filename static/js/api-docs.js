// The API's page (/api/docs): it reads the OpenAPI document the server makes from its own code
// (/api/openapi.json), shows each operation, and sends requests to the API from the page.
// No framework. Whatever comes from the server goes on the page as text (text nodes,
// textContent), never as HTML: a username like "<img onerror=...>" stays a username.
'use strict';

(function () {
  const TOKEN_KEY = 'microblog-api-token';
  const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  const BADGES = {
    get: 'primary', post: 'success', put: 'warning', patch: 'warning', delete: 'danger',
  };
  // HTTP/2 has no reason phrase, so response.statusText may be empty: our own names then.
  const REASONS = {
    200: 'OK', 201: 'Created', 204: 'No Content', 400: 'Bad Request', 401: 'Unauthorized',
    403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Payload Too Large',
    415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error',
  };
  // The response headers worth seeing with this API, when they are there.
  const SHOWN = ['Content-Type', 'Location', 'WWW-Authenticate', 'Retry-After', 'Cache-Control'];

  const operations = document.getElementById('operations');
  // The words this script writes, in the page's language (templates/api/docs.html).
  const WORDS = JSON.parse(operations.dataset.words || '{}');
  const w = (key) => WORDS[key] || key;
  const tokenInput = document.getElementById('token');
  const tokenMessage = document.getElementById('token-message');
  let doc = {}; // the OpenAPI document, once read
  let forms = 0; // numbers the "Try it" forms, for unique input ids

  // el('a', { href: '/x', class: 'y' }, 'text', child, ...): an element with attributes and
  // children. A string child becomes a text node, so it is never parsed as HTML.
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  // The descriptions are Markdown; of it we show `code` only, as <code> elements.
  function prose(tag, attributes, text) {
    const node = el(tag, attributes);
    String(text).split('`').forEach((part, i) => node.append(i % 2 ? el('code', {}, part) : part));
    return node;
  }

  function statusLine(response) {
    return response.status + ' ' + (response.statusText || REASONS[response.status] || '');
  }

  // The body as JSON, or null when it is empty or not JSON (a proxy's HTML error page...).
  async function readJson(response) {
    const text = await response.text();
    try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
  }

  // The API's errors are {"error": "Unauthorized", "message"?: "why"}.
  function errorText(response, body) {
    let text = body && body.error ? response.status + ' ' + body.error : statusLine(response);
    if (body && body.message) text += ': ' + body.message;
    const wait = response.headers.get('Retry-After');
    if (response.status === 429 && wait) text += ' (Retry-After: ' + wait + ' ' + w('seconds') + ')';
    return text;
  }

  // credentials: 'omit' sends no cookie: the API reads none (a token is the only way in), and
  // a request without credentials never makes the browser pop up its own password box on a
  // 401 that asks for Basic authentication.
  function api(url, init) {
    return fetch(url, Object.assign({ credentials: 'omit' }, init));
  }

  // ---- The token ------------------------------------------------------------------------------

  // sessionStorage: this tab only, gone when it closes. A browser may refuse storage (some
  // private windows): then the token lives in the input only.
  function keep(token) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* not kept: fine */ }
  }

  function setToken(token) {
    tokenInput.value = token;
    keep(token);
  }

  function say(text, kind) {
    tokenMessage.className = 'small mt-2 mb-1 text-' + (kind || 'body');
    tokenMessage.textContent = text;
  }

  // POST /api/tokens (with the password) and DELETE /api/tokens (with the token) share this.
  async function tokens(method, authorization, done) {
    try {
      const response = await api('/api/tokens', {
        method: method,
        headers: { Accept: 'application/json', Authorization: authorization },
      });
      const body = await readJson(response);
      if (response.ok) done(body || {});
      else say(errorText(response, body), 'danger');
    } catch (e) {
      say(w('server-unreachable') + ' ' + e.message, 'danger');
    }
  }

  document.getElementById('token-form').addEventListener('submit', function (event) {
    event.preventDefault(); // we send the request ourselves: the page stays
    const user = document.getElementById('token-username').value;
    const password = document.getElementById('token-password');
    // HTTP Basic is "user:password" in base64. btoa() takes characters of one byte only:
    // encodeURIComponent then unescape turn the text into its UTF-8 bytes, so "zoë" works.
    const basic = btoa(unescape(encodeURIComponent(user + ':' + password.value)));
    password.value = ''; // sent once, not left in the page
    say(w('asking'));
    tokens('POST', 'Basic ' + basic, function (body) {
      setToken(body.token || '');
      say(w('new-token'), 'success');
    });
  });

  document.getElementById('token-revoke').addEventListener('click', function () {
    const token = tokenInput.value.trim();
    if (!token) return say(w('no-token'), 'warning');
    tokens('DELETE', 'Bearer ' + token, function () { // 204 No Content
      setToken('');
      say(w('revoked'), 'success');
    });
  });

  // A token pasted by hand is kept too.
  tokenInput.addEventListener('input', () => keep(tokenInput.value.trim()));
  try { tokenInput.value = sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { /* none */ }
  document.getElementById('token-fieldset').disabled = false; // see templates/api/docs.html

  // ---- Schemas --------------------------------------------------------------------------------

  // {"$ref": "#/components/schemas/UserJson"} → the schema it names. A $ref is a JSON Pointer
  // into the document, where "~1" stands for "/" and "~0" for "~".
  function resolve(node) {
    for (let hops = 0; node && typeof node.$ref === 'string' && hops < 20; hops++) {
      if (!node.$ref.startsWith('#/')) return {}; // another file: not followed
      node = node.$ref.slice(2).split('/').reduce((at, part) =>
        at && at[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    }
    return node || {};
  }

  const isNull = (schema) => resolve(schema).type === 'null';

  // Option<T> in OpenAPI 3.1 is {"oneOf": [{"type": "null"}, T]}: [T], when there is one T.
  function single(alternatives) {
    const real = (alternatives || []).filter((s) => !isNull(s));
    return real.length === 1 ? real : [];
  }

  // "string | null", "integer (int64)", "array of PostJson", "null | UserJson".
  function typeName(schema) {
    if (!schema) return 'any';
    if (schema.$ref) return schema.$ref.split('/').pop();
    const alternatives = schema.oneOf || schema.anyOf;
    if (alternatives) return alternatives.map(typeName).join(' | ');
    if (schema.allOf) return schema.allOf.map(typeName).join(' & ');
    if (schema.enum) return 'one of ' + schema.enum.map((v) => JSON.stringify(v)).join(', ');
    let types = [].concat(schema.type || (schema.properties ? 'object' : 'any'));
    if (schema.nullable) types = types.concat('null'); // OpenAPI 3.0's way of saying it
    return types.map((t) => {
      if (t === 'array') return 'array of ' + typeName(schema.items);
      return schema.format && t !== 'null' ? t + ' (' + schema.format + ')' : t;
    }).join(' | ');
  }

  // The named fields of an object schema, with its allOf parts merged in; null if it has none.
  function objectOf(schema, depth = 0) {
    const s = resolve(schema);
    const out = { properties: Object.assign({}, s.properties), required: s.required || [] };
    if (depth < 8) {
      (s.allOf || []).concat(single(s.oneOf || s.anyOf)).forEach((part) => {
        const inner = objectOf(part, depth + 1);
        if (!inner) return;
        Object.assign(out.properties, inner.properties);
        out.required = out.required.concat(inner.required);
      });
    }
    return Object.keys(out.properties).length ? out : null;
  }

  // The object inside a field's schema, through arrays and nullable wrappers; null if none.
  function innerObject(schema) {
    let s = resolve(schema);
    for (let i = 0; i < 8; i++) {
      if ([].concat(s.type).includes('array') && s.items) s = resolve(s.items);
      else if (!s.properties && single(s.oneOf || s.anyOf).length) {
        s = resolve(single(s.oneOf || s.anyOf)[0]);
      } else break;
    }
    return objectOf(s);
  }

  // A schema as a reader wants it: a line per field, a nested object's fields indented below.
  function schemaView(schema, depth) {
    const fields = objectOf(schema) || innerObject(schema);
    if (!fields) {
      // Several real alternatives (oneOf, anyOf): each by name, with its own fields.
      const alternatives = resolve(schema).oneOf || resolve(schema).anyOf || [];
      if (alternatives.length < 2 || depth > 4) return null;
      return el('ul', { class: 'small mb-1' }, ...alternatives.map((alt) =>
        el('li', {}, 'one of: ', el('code', {}, typeName(alt)), schemaView(alt, depth + 1))));
    }
    const nested = depth ? ' ms-3 ps-2 border-start' : '';
    const list = el('ul', { class: 'list-unstyled small mb-1' + nested });
    for (const [name, field] of Object.entries(fields.properties)) {
      const target = resolve(field);
      const item = el('li', { class: 'mb-1' }, el('code', {}, name), ' ',
        el('span', { class: 'text-body-secondary' }, typeName(field)),
        fields.required.includes(name) &&
          el('span', { class: 'badge text-bg-light border ms-1' }, 'required'));
      const description = field.description || target.description;
      if (description) item.append(' — ', prose('span', {}, description));
      const example = field.example !== undefined ? field.example : target.example;
      if (example !== undefined) {
        item.append(' (e.g. ', el('code', {}, JSON.stringify(example)), ')');
      }
      const inner = depth < 4 && schemaView(field, depth + 1);
      if (inner) item.append(inner);
      list.append(item);
    }
    return list;
  }

  // A body to start from: the schema's example, else a placeholder for each field's type.
  function exampleOf(schema, depth = 0) {
    if (schema && schema.example !== undefined) return schema.example;
    const s = resolve(schema);
    if (s.example !== undefined) return s.example;
    if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
    if (s.default !== undefined) return s.default;
    if (s.enum) return s.enum[0];
    if (depth > 6) return null;
    const fields = objectOf(s);
    if (fields) {
      const out = {};
      for (const [name, field] of Object.entries(fields.properties)) {
        out[name] = exampleOf(field, depth + 1);
      }
      return out;
    }
    const alternatives = (s.oneOf || s.anyOf || []).filter((alt) => !isNull(alt));
    if (alternatives.length) return exampleOf(alternatives[0], depth + 1);
    const type = [].concat(s.type).find((t) => t && t !== 'null');
    if (type === 'array') return [exampleOf(s.items, depth + 1)];
    return { string: 'string', integer: 0, number: 0, boolean: false, object: {} }[type] ?? null;
  }

  // ---- Operations -----------------------------------------------------------------------------

  // The security schemes an operation takes: its own "security", else the document's. Each
  // requirement is {"<scheme name>": [scopes]}, a name of components.securitySchemes.
  function schemesOf(op) {
    const requirements = op.security || doc.security || [];
    const known = (doc.components && doc.components.securitySchemes) || {};
    const names = [...new Set(requirements.flatMap((r) => Object.keys(r)))];
    return names.map((name) => ({ name: name, scheme: resolve(known[name]) }));
  }

  // An "http" scheme of this kind: "basic" or "bearer" (case-insensitive, as in HTTP).
  const isHttp = (scheme, kind) =>
    scheme.type === 'http' && String(scheme.scheme).toLowerCase() === kind;

  function authText(schemes) {
    if (!schemes.length) return w('no-auth');
    return w('needs') + ' ' + schemes.map((s) => {
      if (isHttp(s.scheme, 'bearer')) return w('auth-bearer') + ' ("' + s.name + '")';
      if (isHttp(s.scheme, 'basic')) return w('auth-basic') + ' ("' + s.name + '")';
      return '"' + s.name + '"';
    }).join(' ' + w('or') + ' ') + '.';
  }

  // A table wider than a phone scrolls in its own box, which a keyboard can reach and a screen
  // reader names (by the heading above it).
  function table(label, headings, rows) {
    // One name per region on the page: the operation's, then what the table holds.
    return el('div', { class: 'table-responsive', tabindex: 0, role: 'region',
      'aria-label': label }, el('table', { class: 'table table-sm small' },
      el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c)))))));
  }

  function parametersView(name, params) {
    return table(name + ': ' + w('parameters'),
      [w('name'), w('in'), w('required'), w('type'),
      w('description')], params.map((p) => [
      el('code', {}, p.name), p.in, p.required ? w('yes') : w('no'), typeName(p.schema),
      prose('span', {}, p.description || ''),
    ]));
  }

  function requestBodyView(body) {
    const box = el('div', {});
    for (const [media, content] of Object.entries(body.content || {})) {
      box.append(el('p', { class: 'small mb-1' }, el('code', {}, media), ': ',
        typeName(content.schema), ' ' + (body.required ? w('required-body') : w('optional'))));
      const fields = schemaView(content.schema, 0);
      if (fields) box.append(fields);
    }
    return box;
  }

  function responsesView(name, responses) {
    return table(name + ': ' + w('responses'), [w('status'), w('description'), w('body')],
      Object.entries(responses).map(([status, r]) => {
      r = resolve(r);
      const cell = prose('div', {}, r.description || '');
      for (const [name, header] of Object.entries(r.headers || {})) {
        cell.append(el('div', { class: 'text-body-secondary' }, w('header') + ' ', el('code', {}, name),
          ': ', resolve(header).description || ''));
      }
      const bodies = Object.values(r.content || {}).filter((c) => c.schema).map((c) => {
        // Its fields folded away: <details> opens and closes without any script.
        const fields = schemaView(c.schema, 0);
        const name = typeName(c.schema);
        return fields ? el('details', {}, el('summary', {}, name), fields) : name;
      });
      return [el('code', {}, status), cell, bodies.length ? el('div', {}, ...bodies) : '—'];
    }));
  }

  // "Try it": an input per path and query parameter, the JSON body, a Send button, the answer.
  function tryForm(entry, schemes) {
    const n = ++forms;
    const bearer = schemes.some((s) => isHttp(s.scheme, 'bearer'));
    const form = el('form', { class: 'try border-top pt-3 mt-3', method: 'post' },
      el('h4', { class: 'h6' }, w('try-it')));
    const inputs = entry.params.filter((p) => p.in === 'path' || p.in === 'query').map((p) => {
      const id = 'try-' + n + '-' + p.in + '-' + p.name;
      // A path parameter is part of the URL: the browser will not submit the form without it.
      const input = el('input', { id: id, class: 'form-control form-control-sm', type: 'text',
        name: p.name, 'data-in': p.in, required: p.in === 'path',
        placeholder: typeName(p.schema) });
      form.append(el('div', { class: 'mb-2' },
        el('label', { class: 'form-label small mb-0', for: id }, el('code', {}, p.name),
          ' (' + p.in + ')'),
        input));
      return input;
    });
    const content = (resolve(entry.op.requestBody).content) || {};
    const media = Object.keys(content).find((type) => /json/.test(type));
    let textarea = null;
    if (media) {
      textarea = el('textarea', { id: 'try-' + n + '-body', rows: 6, spellcheck: 'false',
        class: 'form-control form-control-sm font-monospace' },
        // A change (PUT) starts empty: its example, sent as it is, would rename you.
        entry.method.toUpperCase() === 'PUT'
          ? '{}'
          : JSON.stringify(exampleOf(content[media].schema), null, 2));
      form.append(el('div', { class: 'mb-2' }, el('label', { class: 'form-label small mb-0',
        for: textarea.id }, w('body-json')), textarea));
    }
    if (!bearer && schemes.some((s) => isHttp(s.scheme, 'basic'))) {
      form.append(el('p', { class: 'small text-body-secondary' }, w('basic-note')));
    }
    const send = el('button', { type: 'submit', class: 'btn btn-sm btn-primary try-send' },
      w('send'));
    const status = el('span', { class: 'try-status ms-2 fw-bold', role: 'status' });
    const headers = el('dl', { class: 'try-headers row small mt-2 mb-1' });
    const body = el('pre', {
      class: 'try-body small bg-body-tertiary border rounded p-2 mb-0', hidden: true,
    });
    form.append(el('div', {}, send, status), headers, body);

    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      // "/api/users/{id}" and 7 → "/api/users/7". encodeURIComponent keeps a "/" or "?" typed
      // in the input inside the parameter instead of changing the URL's shape.
      let url = entry.path.replace(/\{([^}]+)\}/g, (whole, name) => {
        const input = inputs.find((i) => i.dataset.in === 'path' && i.name === name);
        return encodeURIComponent(input ? input.value : '');
      });
      const query = new URLSearchParams();
      inputs.filter((i) => i.dataset.in === 'query' && i.value !== '')
        .forEach((i) => query.append(i.name, i.value));
      if (query.toString()) url += '?' + query;

      const init = { method: entry.method.toUpperCase(), headers: { Accept: 'application/json' } };
      // The body goes as typed, valid JSON or not: the server's 400 is worth seeing too.
      if (textarea && textarea.value.trim() !== '') {
        init.headers['Content-Type'] = 'application/json';
        init.body = textarea.value;
      }
      const token = tokenInput.value.trim();
      if (token && bearer) init.headers.Authorization = 'Bearer ' + token;

      send.disabled = true;
      status.className = 'try-status ms-2 fw-bold';
      status.textContent = init.method + ' ' + url + ' …';
      headers.replaceChildren();
      body.hidden = true;
      try {
        const response = await api(url, init);
        status.textContent = statusLine(response);
        status.classList.add(response.ok ? 'text-success' : 'text-danger');
        for (const name of SHOWN) {
          const got = response.headers.get(name);
          if (got !== null) {
            headers.append(el('dt', { class: 'col-sm-3' }, name),
              el('dd', { class: 'col-sm-9 mb-0 text-break' }, got));
          }
        }
        const text = await response.text();
        let shown = text;
        if (/json/i.test(response.headers.get('Content-Type') || '')) {
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* as it came */ }
        }
        body.textContent = shown || w('no-body');
        body.hidden = false;
      } catch (e) {
        status.textContent = w('request-failed') + ' ' + e.message;
        status.classList.add('text-danger');
      } finally {
        send.disabled = false;
      }
    });
    return form;
  }

  function operationCard(entry) {
    const { op, path } = entry;
    const schemes = schemesOf(op);
    const method = entry.method.toUpperCase();
    const card = el('article', { class: 'card mb-3 api-operation',
      'data-operation': method + ' ' + path, 'data-method': method, 'data-path': path });
    const badge = 'badge font-monospace text-bg-' + (BADGES[entry.method] || 'secondary');
    card.append(el('div', { class: 'card-header d-flex flex-wrap gap-2 align-items-center' },
      el('span', { class: badge }, method),
      el('code', { class: 'fs-6' }, path),
      el('span', { class: 'ms-auto small text-body-secondary api-auth' },
        schemes.length ? w('auth-short') + ' ' + schemes.map((s) => s.name).join(', ')
          : w('no-auth-short'))));
    const box = el('div', { class: 'card-body' });
    if (op.summary) box.append(prose('h3', { class: 'h5 card-title' }, op.summary));
    if (op.description) box.append(prose('p', {}, op.description));
    box.append(el('p', { class: 'small' }, authText(schemes)));
    const part = (title, content) => box.append(el('h4', { class: 'h6' }, title), content);
    if (entry.params.length) part(w('parameters'), parametersView(method + ' ' + path, entry.params));
    if (op.requestBody) part(w('request-body'), requestBodyView(resolve(op.requestBody)));
    if (op.responses) part(w('responses'), responsesView(method + ' ' + path, op.responses));
    box.append(tryForm(entry, schemes));
    card.append(box);
    return card;
  }

  // The operations by their first tag: in the order of the document's "tags", then any other
  // tag in the order it first appears.
  function groups() {
    const byTag = new Map((doc.tags || []).map((tag) => [tag.name, []]));
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const method of METHODS.filter((m) => item[m])) {
        const op = item[method];
        // Parameters given for the whole path, then the operation's own (which override them).
        const params = new Map();
        (item.parameters || []).concat(op.parameters || []).map(resolve)
          .forEach((p) => params.set(p.in + ':' + p.name, p));
        const tag = (op.tags && op.tags[0]) || 'other';
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push({ method: method, path: path, op: op, params: [...params.values()] });
      }
    }
    return [...byTag].filter(([, list]) => list.length);
  }

  function render() {
    operations.replaceChildren();
    if (doc.info && doc.info.description) {
      operations.append(prose('p', { class: 'text-body-secondary' }, doc.info.description));
    }
    for (const [tag, list] of groups()) {
      const about = (doc.tags || []).find((t) => t.name === tag);
      const section = el('section', { class: 'mb-4 api-tag', 'data-tag': tag },
        el('h2', { class: 'h4' }, tag));
      if (about && about.description) {
        section.append(prose('p', { class: 'text-body-secondary' }, about.description));
      }
      list.forEach((entry) => section.append(operationCard(entry)));
      operations.append(section);
    }
  }

  async function load() {
    operations.replaceChildren(el('p', { class: 'text-body-secondary' }, w('reading')));
    try {
      const response = await fetch('/api/openapi.json', {
        headers: { Accept: 'application/json' },
      });
      if (!response.ok) throw new Error(statusLine(response));
      doc = await response.json();
    } catch (e) {
      operations.replaceChildren(el('div', { class: 'alert alert-danger', role: 'alert' },
        w('unreadable') + ' ',
        el('a', { href: '/api/openapi.json' }, '/api/openapi.json'), ': ' + e.message));
      return;
    }
    render();
  }

  load();
})();
