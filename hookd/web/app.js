/*
 * hookd's web page: plain JavaScript over the JSON API (/api/, docs/hookd.md). Everything
 * coming from the server or the user reaches the page through textContent or form values,
 * never innerHTML; the Content-Security-Policy forbids inline script.
 */
'use strict';

const INGREDIENTS = ['EventName', 'Value1', 'Value2', 'Value3', 'OccurredAt', 'JsonPayload'];

/* The actions and their fields (docs/actions.md). kind: text, area (long text), bool,
 * int, list (one item a line, sent as a JSON list), headers ("Name: value" lines). tpl: a
 * template, so it gets the ingredient picker. */
const ACTIONS = {
  maildir: {
    help: 'Write the email into a Maildir folder (no mail server needed).',
    fields: [
      {name: 'path', kind: 'text', req: true, hint: '/home/me/Maildir'},
      {name: 'from', kind: 'text', tpl: true, hint: 'hookd <hookd@localhost>'},
      {name: 'to', kind: 'text', tpl: true, hint: 'me@example.com'},
      {name: 'subject', kind: 'text', tpl: true,
       hint: 'The event named "{{EventName}}" occurred on the Maker Webhooks service'},
      {name: 'body', kind: 'area', tpl: true,
       hint: 'What: {{EventName}}<br>\nWhen: {{OccurredAt}}<br>\nExtra Data: {{Value1}}, {{Value2}}, {{Value3}}<br>'},
      {name: 'html', kind: 'bool'},
    ],
  },
  email: {
    help: 'Send an email through an SMTP server.',
    fields: [
      {name: 'url', kind: 'text', req: true, hint: 'smtps://smtp.example.com:465'},
      {name: 'starttls', kind: 'bool'},
      {name: 'username', kind: 'text'},
      {name: 'password', kind: 'text', secret: true},
      {name: 'from', kind: 'text', req: true, tpl: true, hint: 'hookd <me@example.com>'},
      {name: 'to', kind: 'text', req: true, tpl: true, hint: 'me@example.com'},
      {name: 'subject', kind: 'text', tpl: true,
       hint: 'The event named "{{EventName}}" occurred on the Maker Webhooks service'},
      {name: 'body', kind: 'area', tpl: true,
       hint: 'What: {{EventName}}<br>\nWhen: {{OccurredAt}}<br>\nExtra Data: {{Value1}}, {{Value2}}, {{Value3}}<br>'},
      {name: 'html', kind: 'bool'},
      {name: 'timeout', kind: 'int', hint: '30'},
      {name: 'ca_file', kind: 'text'},
      {name: 'insecure', kind: 'bool'},
    ],
  },
  http: {
    help: 'Make an HTTP request (values in the URL are percent-encoded).',
    fields: [
      {name: 'url', kind: 'text', req: true, tpl: true, hint: 'https://example.com/hook?v={{Value1}}'},
      {name: 'method', kind: 'text', hint: 'POST'},
      {name: 'headers', kind: 'headers', hint: 'Authorization: Bearer ...'},
      {name: 'body', kind: 'area', tpl: true, hint: '{"event": "{{EventName}}", "value": "{{Value1}}"}'},
      {name: 'escape', kind: 'text', hint: 'none | json | html | url'},
      {name: 'timeout', kind: 'int', hint: '10'},
      {name: 'ca_file', kind: 'text'},
      {name: 'insecure', kind: 'bool'},
    ],
  },
  mqtt: {
    help: 'Publish an MQTT message.',
    fields: [
      {name: 'host', kind: 'text', req: true, hint: 'localhost'},
      {name: 'port', kind: 'int', hint: '1883'},
      {name: 'topic', kind: 'text', req: true, tpl: true, hint: 'buttons/{{EventName}}'},
      {name: 'payload', kind: 'area', tpl: true, hint: 'the event as JSON'},
      {name: 'escape', kind: 'text', hint: 'none | json | html | url'},
      {name: 'qos', kind: 'int', hint: '0'},
      {name: 'retain', kind: 'bool'},
      {name: 'username', kind: 'text'},
      {name: 'password', kind: 'text', secret: true},
      {name: 'client_id', kind: 'text'},
      {name: 'timeout', kind: 'int', hint: '10'},
      {name: 'tls', kind: 'bool'},
      {name: 'ca_file', kind: 'text'},
      {name: 'insecure', kind: 'bool'},
    ],
  },
  homeassistant: {
    help: 'Announce each button to Home Assistant (MQTT discovery) and send its presses.',
    fields: [
      {name: 'host', kind: 'text', req: true, hint: 'localhost'},
      {name: 'port', kind: 'int', hint: '1883'},
      {name: 'button_id', kind: 'text', hint: 'value1'},
      {name: 'press', kind: 'text', hint: 'value2 | value3 | event_suffix (absent: every press single)'},
      {name: 'battery_mv', kind: 'text', hint: 'value3 (absent: no battery sensor)'},
      {name: 'event_types', kind: 'list', hint: 'single\ndouble\nlong'},
      {name: 'discovery_prefix', kind: 'text', hint: 'homeassistant'},
      {name: 'state_prefix', kind: 'text', hint: 'hookd'},
      {name: 'username', kind: 'text'},
      {name: 'password', kind: 'text', secret: true},
      {name: 'client_id', kind: 'text'},
      {name: 'timeout', kind: 'int', hint: '10'},
      {name: 'tls', kind: 'bool'},
      {name: 'ca_file', kind: 'text'},
      {name: 'insecure', kind: 'bool'},
    ],
  },
  command: {
    help: 'Run a program (never through a shell): one argument a line.',
    fields: [
      {name: 'argv', kind: 'list', req: true, tpl: true, hint: '/usr/bin/notify-send\nButton {{Value1}}'},
      {name: 'timeout', kind: 'int', hint: '30'},
      {name: 'retry_on_failure', kind: 'bool'},
      /* an ingredient in a shell's code is refused at save without it (docs/actions.md) */
      {name: 'allow_shell', kind: 'bool'},
    ],
  },
  file: {
    help: 'Append the event as one JSON line to a file.',
    fields: [
      {name: 'path', kind: 'text', req: true, tpl: true, hint: '/var/log/hookd/{{EventName}}.jsonl'},
      {name: 'fsync', kind: 'bool'},
    ],
  },
};

const state = {csrf: null, key: '', applets: [], editing: null, eventsJson: '', timer: null,
               openAttempts: new Set()};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v != null) e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c == null) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

function say(id, text) {
  const e = $(id);
  if (e) e.textContent = text || '';
}

/* ---- the API ---- */

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  let resp;
  try {
    resp = await fetch('/api/' + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'cannot reach hookd: ' + e.message);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!resp.ok) {
    const msg = data && data.errors && data.errors[0] && data.errors[0].message
      ? data.errors[0].message : 'HTTP ' + resp.status;
    if (resp.status === 401 && path !== 'login') showLogin();
    throw new ApiError(resp.status, msg);
  }
  return data;
}

/* ---- login and navigation ---- */

const TABS = ['webhooks', 'applets', 'activity', 'settings'];

function showLogin() {
  state.csrf = null;
  stopPolling();
  $('nav').hidden = true;
  for (const t of TABS) $(t).hidden = true;
  $('login').hidden = false;
  $('login-password').focus();
}

function currentTab() {
  const t = location.hash.slice(1);
  return TABS.includes(t) ? t : 'webhooks';
}

function showTab() {
  if (!state.csrf) return;
  const tab = currentTab();
  $('login').hidden = true;
  $('nav').hidden = false;
  for (const t of TABS) $(t).hidden = t !== tab;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.tab === tab);
  }
  if (tab === 'applets') loadApplets();
  if (tab === 'activity') startPolling(); else stopPolling();
}

async function loggedIn(csrf) {
  state.csrf = csrf;
  try {
    const k = await api('GET', 'key');
    setKey(k.key);
  } catch (e) { /* shown where it matters */ }
  showTab();
}

async function onLogin(ev) {
  ev.preventDefault();
  say('login-error', '');
  try {
    const r = await api('POST', 'login', {password: $('login-password').value});
    $('login-password').value = '';
    await loggedIn(r.csrf);
  } catch (e) {
    say('login-error', e.message === 'wrong password' ? 'Wrong password.' : e.message);
  }
}

async function onLogout() {
  try { await api('POST', 'logout'); } catch (e) { /* logged out either way */ }
  setKey('');
  showLogin();
}

/* ---- Webhooks documentation ---- */

function setKey(key) {
  state.key = key || '';
  $('doc-key').textContent = state.key;
  for (const e of document.querySelectorAll('.url-key')) e.textContent = state.key;
  updateBuilder();
}

/* the key as the logs show it: first 4 characters and an ellipsis */
function maskKey(s) {
  s = String(s == null ? '' : s);
  if (!state.key) return s;
  return s.split(state.key).join(state.key.slice(0, 4) + '\u2026');
}

function shellQuote(s) {
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

function triggerUrl(event, json) {
  return location.origin + '/trigger/' + encodeURIComponent(event || '{event}') +
    (json ? '/json' : '') + '/with/key/' + state.key;
}

function builderBody() {
  const body = {};
  for (const n of ['value1', 'value2', 'value3']) {
    const v = $('b-' + n).value;
    if (v !== '') body[n] = v;
  }
  return body;
}

function updateBuilder() {
  for (const e of document.querySelectorAll('.url-base')) e.textContent = location.origin;
  const event = $('b-event').value.trim();
  const url = triggerUrl(event, false);
  $('b-url').textContent = url;
  const body = builderBody();
  $('b-curl').textContent = Object.keys(body).length
    ? 'curl -X POST -H "Content-Type: application/json" -d ' +
      shellQuote(JSON.stringify(body)) + ' ' + shellQuote(url)
    : 'curl -X POST ' + shellQuote(url);
  const jevent = $('j-event').value.trim();
  $('j-curl').textContent = 'curl -X POST -H "Content-Type: application/json" -d ' +
    shellQuote($('j-body').value) + ' ' + shellQuote(triggerUrl(jevent, true));
  $('b-test').disabled = !event;
  $('j-test').disabled = !jevent;
}

async function fire(json) {
  const p = json ? 'j' : 'b';
  const out = $(p + '-reply');
  const event = $(p + '-event').value.trim();
  out.className = 'reply';
  out.textContent = 'Sending\u2026';
  try {
    const body = json ? $('j-body').value : JSON.stringify(builderBody());
    const resp = await fetch(triggerUrl(event, json), {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body,
      credentials: 'omit', cache: 'no-store',
    });
    const text = await resp.text();
    let shown = text;
    if (!resp.ok) {
      try { shown = JSON.parse(text).errors[0].message; } catch (e) { /* as sent */ }
    }
    out.className = 'reply ' + (resp.ok ? 'ok' : 'error');
    out.textContent = resp.ok ? text : resp.status + ': ' + shown;
  } catch (e) {
    out.className = 'reply error';
    out.textContent = 'cannot reach hookd: ' + e.message;
  }
}

/* ---- Applets ---- */

async function loadApplets() {
  say('applets-error', '');
  try {
    const r = await api('GET', 'applets');
    state.applets = r.applets;
    renderApplets();
  } catch (e) {
    say('applets-error', e.message);
  }
  loadKnownEvents();
}

async function loadKnownEvents() {
  const names = new Set(state.applets.map((a) => a.event));
  try {
    const r = await api('GET', 'events?limit=100');
    for (const e of r.events) names.add(e.event);
  } catch (e) { /* only suggestions */ }
  const dl = $('known-events');
  dl.replaceChildren(...[...names].sort().map((n) => el('option', {value: n})));
}

function renderApplets() {
  const rows = state.applets.map((a) => {
    const toggle = el('button', {type: 'button', class: 'small secondary',
      text: a.enabled ? 'Disable' : 'Enable',
      onclick: () => appletDo(a, a.enabled ? 'disable' : 'enable')});
    const edit = el('button', {type: 'button', class: 'small secondary', text: 'Edit',
      onclick: () => editApplet(a)});
    const del = el('button', {type: 'button', class: 'small danger', text: 'Delete',
      onclick: () => appletDo(a, 'delete')});
    return el('tr', {'data-applet': a.name},
      el('td', {text: a.name}),
      el('td', {}, el('code', {text: a.event})),
      el('td', {text: a.action + appletSummary(a)}),
      el('td', {}, el('span', {class: 'badge ' + (a.enabled ? 'done' : 'off'),
        text: a.enabled ? 'enabled' : 'disabled'})),
      el('td', {class: 'buttons'}, edit, toggle, del));
  });
  $('applet-rows').replaceChildren(...rows);
  $('applets-empty').hidden = state.applets.length > 0;
  $('applet-table').hidden = state.applets.length === 0;
}

function appletSummary(a) {
  const f = a.fields || {};
  const main = f.path || f.url || f.topic || (Array.isArray(f.argv) ? f.argv.join(' ') : '');
  return main ? ': ' + main : '';
}

async function appletDo(a, what) {
  say('applets-error', '');
  try {
    if (what === 'delete') {
      if (!window.confirm('Delete the applet "' + a.name + '"?')) return;
      await api('DELETE', 'applets/' + a.id);
      if (state.editing === a.id) resetAppletForm();
    } else {
      await api('POST', 'applets/' + a.id + '/' + what);
    }
  } catch (e) {
    say('applets-error', e.message);
  }
  loadApplets();
}

function insertAtCursor(input, text) {
  const start = input.selectionStart == null ? input.value.length : input.selectionStart;
  const end = input.selectionEnd == null ? input.value.length : input.selectionEnd;
  input.value = input.value.slice(0, start) + text + input.value.slice(end);
  input.focus();
  input.setSelectionRange(start + text.length, start + text.length);
}

function ingredientPicker(input, fieldName) {
  const sel = el('select', {class: 'ingredient', 'aria-label': 'Insert ingredient into ' + fieldName},
    el('option', {value: '', text: '+ Ingredient'}),
    ...INGREDIENTS.map((n) => el('option', {value: n, text: '{{' + n + '}}'})));
  sel.addEventListener('change', () => {
    if (sel.value) insertAtCursor(input, '{{' + sel.value + '}}');
    sel.value = '';
  });
  return sel;
}

function renderFields(action, values) {
  const box = $('a-fields');
  const def = ACTIONS[action];
  $('a-action-help').textContent = def ? def.help : '';
  const items = [];
  for (const f of def ? def.fields : []) {
    const id = 'f-' + f.name;
    const v = values ? values[f.name] : undefined;
    let input;
    if (f.kind === 'bool') {
      input = el('select', {id},
        el('option', {value: '', text: '(default)'}),
        el('option', {value: 'true', text: 'true'}),
        el('option', {value: 'false', text: 'false'}));
      input.value = v === true ? 'true' : v === false ? 'false' : '';
    } else if (f.kind === 'area' || f.kind === 'list' || f.kind === 'headers') {
      input = el('textarea', {id, rows: 3, spellcheck: 'false', placeholder: f.hint || ''});
      if (f.kind === 'list' && Array.isArray(v)) input.value = v.join('\n');
      else if (f.kind === 'headers' && v && typeof v === 'object') {
        input.value = Object.entries(v).map(([k, x]) => k + ': ' + x).join('\n');
      } else if (v != null) input.value = String(v);
    } else {
      input = el('input', {id, type: f.kind === 'int' ? 'number' : f.secret ? 'password' : 'text',
        spellcheck: 'false', placeholder: f.hint || '', autocomplete: 'off'});
      if (Array.isArray(v)) input.value = v.join(', ');
      else if (v != null) input.value = String(v);
    }
    input.dataset.field = f.name;
    input.dataset.kind = f.kind;
    const label = el('label', {for: id, text: f.name + (f.req ? ' *' : '')});
    const wrap = el('div', {class: 'field'}, input, f.tpl ? ingredientPicker(input, f.name) : null);
    items.push(label, wrap);
  }
  box.replaceChildren(...items);
}

function collectFields() {
  const fields = {};
  for (const input of $('a-fields').querySelectorAll('[data-field]')) {
    const name = input.dataset.field;
    const v = input.value;
    if (v === '') continue;
    switch (input.dataset.kind) {
      case 'bool': fields[name] = v === 'true'; break;
      case 'int': {
        const n = Number(v);
        if (!Number.isInteger(n)) throw new Error(name + ': must be a whole number');
        fields[name] = n;
        break;
      }
      case 'list': fields[name] = v.split('\n').filter((l) => l !== ''); break;
      case 'headers': {
        const h = {};
        for (const line of v.split('\n')) {
          if (!line.trim()) continue;
          const i = line.indexOf(':');
          if (i <= 0) throw new Error(name + ': write one "Name: value" a line');
          h[line.slice(0, i).trim()] = line.slice(i + 1).trim();
        }
        fields[name] = h;
        break;
      }
      default: fields[name] = v;
    }
  }
  return fields;
}

function resetAppletForm() {
  state.editing = null;
  $('applet-form').reset();
  $('a-enabled').checked = true;
  $('applet-form-title').textContent = 'New applet';
  $('a-save').textContent = 'Create applet';
  $('a-cancel').hidden = true;
  $('a-action').value = 'maildir';
  renderFields('maildir');
}

function editApplet(a) {
  state.editing = a.id;
  say('applet-error', '');
  say('applet-ok', '');
  $('applet-form-title').textContent = 'Edit applet "' + a.name + '"';
  $('a-save').textContent = 'Save changes';
  $('a-cancel').hidden = false;
  $('a-name').value = a.name;
  $('a-event').value = a.event;
  $('a-enabled').checked = a.enabled;
  if (!ACTIONS[a.action]) $('a-action').append(el('option', {value: a.action, text: a.action}));
  $('a-action').value = a.action;
  renderFields(a.action, a.fields);
  $('applet-form').scrollIntoView({behavior: 'smooth'});
}

async function onAppletSave(ev) {
  ev.preventDefault();
  say('applet-error', '');
  say('applet-ok', '');
  let body;
  try {
    body = {name: $('a-name').value.trim(), event: $('a-event').value.trim(),
            action: $('a-action').value, fields: collectFields(),
            enabled: $('a-enabled').checked};
  } catch (e) {
    say('applet-error', e.message);
    return;
  }
  try {
    if (state.editing) {
      await api('PUT', 'applets/' + state.editing, body);
      say('applet-ok', 'Saved "' + body.name + '".');
    } else {
      await api('POST', 'applets', body);
      say('applet-ok', 'Created "' + body.name + '".');
    }
    const ok = $('applet-ok').textContent;
    resetAppletForm();
    say('applet-ok', ok);
    loadApplets();
  } catch (e) {
    say('applet-error', e.message);
  }
}

/* ---- Activity ---- */

function stopPolling() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

function startPolling() {
  if (state.timer) return;
  state.eventsJson = '';
  loadEvents();
  state.timer = setInterval(loadEvents, 2000);
}

async function loadEvents() {
  if (!state.csrf || currentTab() !== 'activity') return;
  try {
    const r = await api('GET', 'events?limit=50');
    say('activity-error', '');
    say('activity-updated', 'Last update: ' + new Date().toLocaleTimeString() + '.');
    const json = JSON.stringify(r.events);
    if (json === state.eventsJson) return;
    state.eventsJson = json;
    renderEvents(r.events);
  } catch (e) {
    say('activity-error', e.message);
  }
}

function fmtTime(ms) {
  return ms ? new Date(ms).toLocaleString() : '';
}

function renderEvents(events) {
  $('events-empty').hidden = events.length > 0;
  $('events').replaceChildren(...events.map(renderEvent));
}

function renderEvent(e) {
  const values = e.json
    ? el('pre', {class: 'code small', text: maskKey(e.payload || '')})
    : el('p', {class: 'values'},
      ...['value1', 'value2', 'value3'].map((n) =>
        el('span', {}, el('b', {text: n + ': '}), e[n] == null ? '\u2014' : maskKey(e[n]))));
  const dels = e.deliveries.length
    ? el('table', {class: 'list deliveries'},
      el('thead', {}, el('tr', {},
        ...['Applet', 'Action', 'State', 'Tries', 'Result', ''].map((h) => el('th', {text: h})))),
      el('tbody', {}, ...e.deliveries.map(renderDelivery)))
    : el('p', {class: 'note', text: 'No applet listens to this event.'});
  return el('article', {class: 'event card', 'data-event-id': e.id},
    el('h3', {},
      el('code', {text: e.event}), e.json ? el('span', {class: 'badge off', text: 'JSON'}) : null,
      el('span', {class: 'when', text: ' #' + e.id + ' \u00b7 ' + e.occurred_at_text +
        (e.source_ip ? ' \u00b7 from ' + e.source_ip : '')})),
    values, dels);
}

function renderDelivery(d) {
  const retry = d.state === 'failed'
    ? el('button', {type: 'button', class: 'small', text: 'Retry', onclick: () => retryDelivery(d.id)})
    : null;
  const attempts = el('details', {'data-delivery': d.id},
    el('summary', {text: d.attempts.length + ' attempt' + (d.attempts.length === 1 ? '' : 's')}),
    el('ol', {class: 'attempts'}, ...d.attempts.map((a) => el('li', {},
      el('span', {class: 'badge ' + a.status, text: a.status}),
      ' ' + fmtTime(a.started_ms) + ', ' + a.duration_ms + ' ms: ' + maskKey(a.result || '')))));
  if (state.openAttempts.has(d.id)) attempts.open = true;
  attempts.addEventListener('toggle', () => {
    if (attempts.open) state.openAttempts.add(d.id); else state.openAttempts.delete(d.id);
  });
  let next = '';
  if (d.state === 'pending' && d.tries > 0 && d.next_at_ms) next = ' (next try ' + fmtTime(d.next_at_ms) + ')';
  return el('tr', {class: 'delivery', 'data-delivery-id': d.id},
    el('td', {text: d.applet || '#' + d.applet_id}),
    el('td', {text: d.action || ''}),
    el('td', {}, el('span', {class: 'badge ' + d.state, text: d.state}), next),
    el('td', {text: String(d.tries)}),
    el('td', {class: 'result'}, maskKey(d.last_result || ''), attempts),
    el('td', {}, retry));
}

async function retryDelivery(id) {
  say('activity-error', '');
  try {
    await api('POST', 'deliveries/' + id + '/retry');
  } catch (e) {
    say('activity-error', e.message);
  }
  state.eventsJson = '';
  loadEvents();
}

/* ---- Settings ---- */

async function onRotate() {
  say('rotate-error', '');
  say('rotate-ok', '');
  if (!window.confirm('Make a new key? The old one stops working at once.')) return;
  try {
    const r = await api('POST', 'key/rotate');
    setKey(r.key);
    say('rotate-ok', 'New key: ' + r.key);
  } catch (e) {
    say('rotate-error', e.message);
  }
}

async function onPassword(ev) {
  ev.preventDefault();
  say('password-error', '');
  say('password-ok', '');
  if ($('pw-new').value !== $('pw-again').value) {
    say('password-error', 'The two new passwords differ.');
    return;
  }
  try {
    await api('POST', 'password', {current: $('pw-current').value, new: $('pw-new').value});
    $('password-form').reset();
    say('password-ok', 'Password changed; other sessions were logged out.');
  } catch (e) {
    say('password-error', e.message);
  }
}

/* ---- start ---- */

async function start() {
  const sel = $('a-action');
  sel.replaceChildren(...Object.keys(ACTIONS).map((n) => el('option', {value: n, text: n})));
  sel.addEventListener('change', () => renderFields(sel.value, state.editing ? undefined : null));
  resetAppletForm();
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', onLogout);
  for (const id of ['b-event', 'b-value1', 'b-value2', 'b-value3', 'j-event', 'j-body']) {
    $(id).addEventListener('input', updateBuilder);
  }
  $('b-test').addEventListener('click', () => fire(false));
  $('j-test').addEventListener('click', () => fire(true));
  $('applet-form').addEventListener('submit', onAppletSave);
  $('a-cancel').addEventListener('click', resetAppletForm);
  $('rotate').addEventListener('click', onRotate);
  $('password-form').addEventListener('submit', onPassword);
  window.addEventListener('hashchange', showTab);
  updateBuilder();
  try {
    const r = await api('GET', 'session');
    await loggedIn(r.csrf);
  } catch (e) {
    showLogin();
  }
}

document.addEventListener('DOMContentLoaded', start);
