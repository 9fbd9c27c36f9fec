#!/usr/bin/env node
/*
 * hookd's web page in headless Chromium (Debian's /usr/bin/chromium driven by npm's
 * playwright-core). Starts a real hookd on a free port with a temporary data folder and a
 * known admin password, then goes through the page as a user would: a wrong password, log in,
 * the URL builder and Test It, applets (ingredient picker, errors, edit, disable, delete),
 * Activity with a delivery that succeeds and one that fails and is retried, settings, logout.
 *
 *   HOOKD=build/hookd/hookd node test_web.js      (ctest: hookd.browser, through run.sh)
 *   HOOKD_SCREENSHOTS=DIR                         also save screenshots of each page to DIR
 *
 * Prints one line per check and 'N passed, M failed'; exits 1 on any failure.
 */
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const {chromium} = require('playwright-core');

const {startHookd: startHookdIn} = require('./hookd');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HOOKD = process.env.HOOKD || path.join(ROOT, 'build', 'main', 'hookd', 'hookd');
const SHOTS = process.env.HOOKD_SCREENSHOTS || '';
const PASSWORD = 'browser-test-pw-1';
const WAIT = 15000;

let passed = 0;
let failed = 0;

function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log('ok   ' + name);
  } else {
    failed++;
    console.log('FAIL ' + name + (detail !== undefined ? ': ' + detail : ''));
  }
}

/* runs one step; an exception (a timeout waiting for the page) is a failed check */
async function step(name, fn) {
  try {
    const r = await fn();
    if (r === undefined || r === true) check(name, true);
    else check(name, false, JSON.stringify(r));
  } catch (e) {
    check(name, false, (e && e.message ? e.message : String(e)).split('\n')[0]);
  }
}

function startHookd(tmp) {
  return startHookdIn({hookd: HOOKD, data: path.join(tmp, 'data'), cfg: path.join(tmp, 'config.json'),
    password: PASSWORD, wait: WAIT, config: {
      deliveries: {backoff_initial_ms: 200, backoff_max_ms: 1000, max_attempts: 2},
      limits: {per_ip: {rate: 0}, per_key: {rate: 0}},
    }});
}

function request(port, method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method, path: p,
      headers: Object.assign(body ? {'Content-Type': 'application/json'} : {}, headers || {})},
    (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers, body: data}));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hookd-browser-'));
  const out = path.join(tmp, 'out');
  fs.mkdirSync(out);
  const hk = await startHookd(tmp);
  const base = 'http://127.0.0.1:' + hk.port;
  let context;
  const problems = [];   /* console errors, CSP violations, page exceptions */
  try {
    context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: {width: 1100, height: 900},
    });
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push('console: ' + m.text()); });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('dialog', (d) => d.accept());
    const shot = async (name) => {
      if (SHOTS) await page.screenshot({path: path.join(SHOTS, name + '.png'), fullPage: true});
    };

    /* ---- the page itself ---- */
    const resp = await page.goto(base + '/');
    await step('GET / serves the page with a CSP that forbids inline script', () => {
      const csp = resp.headers()['content-security-policy'] || '';
      return resp.status() === 200 && /script-src 'self'/.test(csp) &&
        !/unsafe-inline/.test(csp) && /default-src 'none'/.test(csp) ? true : csp;
    });
    await step('assets are served, other paths are 404', async () => {
      const js = await request(hk.port, 'GET', '/app.js');
      const css = await request(hk.port, 'GET', '/style.css');
      const nf = await request(hk.port, 'GET', '/nope.js');
      return js.status === 200 && /javascript/.test(js.headers['content-type']) &&
        css.status === 200 && /text\/css/.test(css.headers['content-type']) && nf.status === 404
        ? true : [js.status, css.status, nf.status];
    });

    /* ---- login ---- */
    await page.waitForSelector('#login-password', {state: 'visible'});
    await shot('login');
    await step('a wrong password shows an error', async () => {
      await page.fill('#login-password', 'not-the-password');
      await page.click('#login-form button[type=submit]');
      await page.waitForFunction(() => document.getElementById('login-error').textContent !== '');
      const t = await page.textContent('#login-error');
      const navHidden = await page.isHidden('#nav');
      return /wrong password/i.test(t) && navHidden ? true : t;
    });
    await step('the right password logs in and shows the key', async () => {
      await page.fill('#login-password', PASSWORD);
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('#webhooks', {state: 'visible'});
      await page.waitForFunction(() => document.getElementById('doc-key').textContent.length >= 16);
    });
    const key = (await page.textContent('#doc-key')).trim();
    check('the key is 22 characters of [A-Za-z0-9_-]', /^[A-Za-z0-9_-]{22}$/.test(key), key);
    await step('a reload keeps the session (GET /api/session)', async () => {
      await page.reload();
      await page.waitForSelector('#webhooks', {state: 'visible'});
    });

    /* ---- the URL builder and Test It ---- */
    await step('the URL builder shows the URL and the curl line', async () => {
      await page.fill('#b-event', 'web_test');
      await page.fill('#b-value1', "it's <b>");
      const url = await page.textContent('#b-url');
      const curl = await page.textContent('#b-curl');
      const want = base + '/trigger/web_test/with/key/' + key;
      const wantCurl = 'curl -X POST -H "Content-Type: application/json" -d ' +
        "'{\"value1\":\"it'\\''s <b>\"}' '" + want + "'";
      return url === want && curl === wantCurl ? true : [url, curl];
    });
    await step('Test It fires the event and shows the reply', async () => {
      await page.click('#b-test');
      await page.waitForFunction(() => /Congratulations/.test(document.getElementById('b-reply').textContent));
      const t = await page.textContent('#b-reply');
      return t === "Congratulations! You've fired the web_test event" ? true : t;
    });
    await step('the JSON section fires a JSON event', async () => {
      await page.fill('#j-event', 'web_json');
      const curl = await page.textContent('#j-curl');
      await page.click('#j-test');
      await page.waitForFunction(() => /Congratulations/.test(document.getElementById('j-reply').textContent));
      const t = await page.textContent('#j-reply');
      return t === "Congratulations! You've fired the web_json JSON event" &&
        curl.includes('/trigger/web_json/json/with/key/' + key) ? true : [t, curl];
    });
    await step('the events Test It sent were stored with their values', async () => {
      const ev = await page.evaluate(async () => (await (await fetch('/api/events')).json()).events);
      const plain = ev.find((e) => e.event === 'web_test');
      const json = ev.find((e) => e.event === 'web_json');
      return plain && plain.value1 === "it's <b>" && json && json.json &&
        JSON.parse(json.payload).this ? true : ev;
    });
    await shot('webhooks');

    /* ---- applets ---- */
    await page.click('#nav a[data-tab=applets]');
    await page.waitForSelector('#applet-form', {state: 'visible'});
    await step('the ingredient picker inserts {{EventName}} at the cursor', async () => {
      await page.fill('#a-name', 'log <b>it</b>');
      await page.fill('#a-event', 'button_pressed');
      await page.selectOption('#a-action', 'file');
      await page.fill('#f-path', out + '/');
      await page.click('#f-path');
      await page.keyboard.press('End');
      await page.selectOption('select[aria-label="Insert ingredient into path"]', 'EventName');
      await page.keyboard.type('.jsonl');
      const v = await page.inputValue('#f-path');
      return v === out + '/{{EventName}}.jsonl' ? true : v;
    });
    await step('creating the applet lists it (its name as text, not HTML)', async () => {
      await page.click('#a-save');
      await page.waitForSelector('#applet-rows tr');
      const cell = await page.textContent('#applet-rows tr td');
      const bold = await page.$$('#applet-rows b');
      const ok = await page.textContent('#applet-ok');
      return cell === 'log <b>it</b>' && bold.length === 0 && /Created/.test(ok) ? true : [cell, ok];
    });
    await step('an API error is shown inline: a taken name', async () => {
      await page.fill('#a-name', 'log <b>it</b>');
      await page.fill('#a-event', 'other');
      await page.selectOption('#a-action', 'file');
      await page.fill('#f-path', out + '/x.jsonl');
      await page.click('#a-save');
      await page.waitForFunction(() => document.getElementById('applet-error').textContent !== '');
      const t = await page.textContent('#applet-error');
      return /exists already/.test(t) ? true : t;
    });
    await step('an API error is shown inline: an unknown ingredient', async () => {
      await page.fill('#a-name', 'broken');
      await page.fill('#f-path', out + '/{{value1}}.jsonl');
      await page.click('#a-save');
      await page.waitForFunction(() => /ingredient/.test(document.getElementById('applet-error').textContent));
      const t = await page.textContent('#applet-error');
      return /unknown ingredient \{\{value1\}\}.*did you mean \{\{Value1\}\}/.test(t) ? true : t;
    });
    await step('an applet whose folder is missing (its deliveries fail)', async () => {
      await page.fill('#a-name', 'missing folder');
      await page.fill('#a-event', 'will_fail');
      await page.fill('#f-path', out + '/later/fail.jsonl');
      await page.click('#a-save');
      await page.waitForSelector('#applet-rows tr[data-applet="missing folder"]');
    });
    await step('edit an applet: change its event', async () => {
      await page.fill('#a-name', 'to edit');
      await page.fill('#a-event', 'first_event');
      await page.selectOption('#a-action', 'command');
      await page.fill('#f-argv', '/bin/true');
      await page.click('#a-save');
      const row = 'tr[data-applet="to edit"]';
      await page.waitForSelector(row);
      await page.click(row + ' button:text("Edit")');
      const argv = await page.inputValue('#f-argv');
      await page.fill('#a-event', 'second_event');
      await page.click('#a-save');
      await page.waitForFunction(() => {
        const r = document.querySelector('tr[data-applet="to edit"]');
        return r && r.textContent.includes('second_event');
      });
      return argv === '/bin/true' ? true : argv;
    });
    await step('disable and enable an applet', async () => {
      const row = 'tr[data-applet="to edit"]';
      await page.click(row + ' button:text("Disable")');
      await page.waitForSelector(row + ' .badge:text("disabled")');
      await page.click(row + ' button:text("Enable")');
      await page.waitForSelector(row + ' .badge:text("enabled")');
    });
    await step('delete an applet', async () => {
      await page.click('tr[data-applet="to edit"] button:text("Delete")');
      await page.waitForSelector('tr[data-applet="to edit"]', {state: 'detached'});
    });
    await shot('applets');

    /* ---- activity ---- */
    await page.click('#nav a[data-tab=activity]');
    await page.waitForSelector('#activity', {state: 'visible'});
    await step('a trigger\'s delivery shows up as done in Activity (live)', async () => {
      const r = await request(hk.port, 'POST', '/trigger/button_pressed/with/key/' + key,
        JSON.stringify({value1: 'pressed', value2: 'key ' + key + ' inside'}));
      if (r.status !== 200) return r;
      await page.waitForSelector('article[data-event-id] .delivery .badge.done', {timeout: 10000});
      const head = await page.textContent('#events article:first-child h3');
      return head.includes('button_pressed') ? true : head;
    });
    await step('the file action wrote the line', () => {
      const line = JSON.parse(fs.readFileSync(path.join(out, 'button_pressed.jsonl'), 'utf8'));
      return line.event === 'button_pressed' && line.value1 === 'pressed' ? true : line;
    });
    await step('Activity never shows the key whole', async () => {
      const t = await page.textContent('#activity');
      return !t.includes(key) && t.includes(key.slice(0, 4) + '\u2026') ? true : 'key shown';
    });
    await step('a hostile event name is shown as text', async () => {
      const name = '<img src=x id=pwn>';
      const r = await request(hk.port, 'GET', '/trigger/' + encodeURIComponent(name) + '/with/key/' + key);
      if (r.status !== 200) return r;
      await page.waitForFunction((n) => [...document.querySelectorAll('#events h3 code')]
        .some((c) => c.textContent === n), name);
      return (await page.$('#pwn')) === null ? true : 'an element was made';
    });
    await step('a failed delivery gets a Retry button, and retrying succeeds', async () => {
      const r = await request(hk.port, 'POST', '/trigger/will_fail/with/key/' + key);
      if (r.status !== 200) return r;
      const btn = 'tr.delivery:has(.badge.failed) button:text("Retry")';
      await page.waitForSelector(btn, {timeout: 10000});
      await shot('activity-failed');
      fs.mkdirSync(path.join(out, 'later'));
      await page.click(btn);
      await page.waitForFunction(() => {
        const a = [...document.querySelectorAll('#events article')]
          .find((x) => x.querySelector('h3 code').textContent === 'will_fail');
        return a && a.querySelector('.delivery .badge.done');
      }, null, {timeout: 10000});
      return fs.existsSync(path.join(out, 'later', 'fail.jsonl')) ? true : 'no file';
    });
    await step('attempts are listed', async () => {
      const a = '#events article:has(h3 code:text-is("will_fail"))';
      await page.click(a + ' details summary');
      const items = await page.$$eval(a + ' .attempts li', (l) => l.map((x) => x.textContent));
      return items.length >= 2 && items.some((t) => /^ok/.test(t)) &&
        items.some((t) => /^fail/.test(t)) ? true : items;
    });
    await shot('activity');

    /* ---- settings ---- */
    await page.click('#nav a[data-tab=settings]');
    await page.waitForSelector('#settings', {state: 'visible'});
    await step('a wrong current password is an inline error', async () => {
      await page.fill('#pw-current', 'wrong-password');
      await page.fill('#pw-new', 'new-password-2');
      await page.fill('#pw-again', 'new-password-2');
      await page.click('#password-form button[type=submit]');
      await page.waitForFunction(() => document.getElementById('password-error').textContent !== '');
      const t = await page.textContent('#password-error');
      return /current password is wrong/.test(t) ? true : t;
    });
    await step('change the admin password', async () => {
      await page.fill('#pw-current', PASSWORD);
      await page.fill('#pw-new', 'new-password-2');
      await page.fill('#pw-again', 'new-password-2');
      await page.click('#password-form button[type=submit]');
      await page.waitForFunction(() => document.getElementById('password-ok').textContent !== '');
    });
    await step('rotate the key: the old one gets 401, the new one works', async () => {
      await page.click('#rotate');
      await page.waitForFunction(() => document.getElementById('rotate-ok').textContent !== '');
      const nk = (await page.textContent('#doc-key')).trim();
      const old = await request(hk.port, 'GET', '/trigger/x/with/key/' + key);
      const now = await request(hk.port, 'GET', '/trigger/x/with/key/' + nk);
      return nk !== key && old.status === 401 && now.status === 200 ? true : [nk, old.status, now.status];
    });
    await shot('settings');
    await step('log out, then log in with the new password', async () => {
      await page.click('#logout');
      await page.waitForSelector('#login', {state: 'visible'});
      const api = await page.evaluate(async () => (await fetch('/api/applets')).status);
      await page.fill('#login-password', 'new-password-2');
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('#settings', {state: 'visible'});
      return api === 401 ? true : api;
    });
    check('no console errors, CSP violations or page exceptions', problems.length === 0,
      problems.join(' | '));
  } catch (e) {
    check('the test ran to its end', false, e.stack);
  } finally {
    if (context) await context.close().catch(() => {});
    const exited = new Promise((r) => hk.proc.once('exit', (code) => r(code)));
    hk.proc.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 20000))]);
    if (code === 'timeout') hk.proc.kill('SIGKILL');
    check('hookd exits 0 on SIGTERM', code === 0, code);
    if (failed) console.log('hookd log:\n' + hk.log.join(''));
    fs.rmSync(tmp, {recursive: true, force: true});
  }
  console.log(passed + ' passed, ' + failed + ' failed');
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log('FAIL ' + e.stack);
  console.log(passed + ' passed, ' + (failed + 1) + ' failed');
  process.exit(1);
});
