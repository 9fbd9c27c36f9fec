#!/usr/bin/env node
/*
 * The set-up page (firmware/portal/, docs/portal.md) in headless Chromium, against a real
 * hookd: a fresh simulated board (no config.py) is powered on and serves the page on its port
 * 80 (mapped to a free host port by the world file). Bad input first, each with its message
 * and nothing written: the wrong password, a network that is not there, hookd's URL with a
 * wrong key (401). Then the network picked from the scan, the password and hookd's URL: the
 * page says it worked, config.py is on the flash, hookd got the test press; the board sleeps,
 * and a press of RESET reaches hookd with the button id.
 *
 *   SIMBOARD=... HOOKD=... node test_portal.js   (ctest: browser.portal, through run.sh)
 */
'use strict';

const {execFileSync, spawn} = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {chromium} = require('playwright-core');

const {SIMBOARD, counts, check, step, ctl, sleep, finish} = require('./steps');
const {startHookd: startHookdIn} = require('../../hookd/browser/hookd');
const HOOKD = process.env.HOOKD || 'hookd';
const WAIT = 30000;

/* hookd on a free port with one applet: every button_pressed is a line in presses.jsonl */
async function startHookd(tmp) {
  const data = path.join(tmp, 'hookd');
  const hk = await startHookdIn({hookd: HOOKD, data, cfg: path.join(tmp, 'hookd.json'),
    password: 'portal-test-pw', wait: WAIT, config: {
      limits: {per_ip: {rate: 0}, per_key: {rate: 0}},
      applets: [{name: 'presses', event: 'button_pressed', action: 'file',
                 fields: {path: path.join(tmp, 'presses.jsonl')}}],
    }});
  hk.key = execFileSync(HOOKD, ['key', '--data', data], {encoding: 'utf8'}).trim();
  return hk;
}

/* the lines hookd's applet wrote, waiting up to WAIT for at least n */
async function presses(tmp, n) {
  const f = path.join(tmp, 'presses.jsonl');
  for (let t = 0; t < WAIT; t += 100) {
    const lines = fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= n) return lines.map((l) => JSON.parse(l));
    await sleep(100);
  }
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-portal-'));
  const state = path.join(tmp, 'board');
  const flash = path.join(state, 'flash');
  const config = path.join(flash, 'config.py');
  fs.mkdirSync(flash, {recursive: true});   /* a fresh board: nothing on its flash */
  const world = path.join(tmp, 'world.json');
  fs.writeFileSync(world, JSON.stringify({
    aps: [{ssid: 'home-net', bssid: 'a0:40:a0:91:7d:ac', channel: 6, rssi: -58,
           auth: 'WPA2_PSK', password: 'correct horse'},
          {ssid: 'neighbour', bssid: '70:50:af:c9:90:d2', channel: 11, rssi: -80,
           auth: 'WPA2_PSK', password: 'not yours'}],
    ports: {'80': 0},
  }));
  let hookd = null, board = null, browser = null;
  try {
    hookd = await startHookd(tmp);
    const good = `http://127.0.0.1:${hookd.port}/trigger/button_pressed/with/key/${hookd.key}`;
    board = spawn(SIMBOARD, ['run', '--state', state, '--world', world],
                  {stdio: ['ignore', fs.openSync(path.join(tmp, 'board.out'), 'w'), 'inherit']});
    let port = 0;
    for (let i = 0; i < 200 && !port; i++) {
      try { port = JSON.parse(ctl(state, 'state')).listening['80']; } catch (e) { /* not up yet */ }
      if (!port) await sleep(100);
    }
    check('a board without config.py serves the set-up page on its port 80', !!port);

    browser = await chromium.launch({executablePath: '/usr/bin/chromium',
                                     args: ['--no-sandbox', '--disable-gpu']});
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT);
    await step('the page lists the networks of the scan, strongest first', async () => {
      const r = await page.goto(`http://127.0.0.1:${port}/`);
      const opts = await page.$$eval('select[name=ssid] option', (os) => os.map((o) => o.value));
      return (r.status() === 200 && (await page.title()) === 'buttonhook set-up' &&
              opts.join() === 'home-net,neighbour') || [r.status(), opts];
    });

    /* fills the form and saves; the message the page answers with */
    async function save({ssid = 'home-net', other = '', pw, url, id = 'portal-button'}) {
      await page.selectOption('select[name=ssid]', ssid);
      await page.fill('input[name=other]', other);
      await page.fill('input[name=pw]', pw);
      await page.fill('input[name=url]', url);
      await page.fill('input[name=id]', id);
      await Promise.all([page.waitForNavigation(), page.click('button')]);
      return {cls: await page.getAttribute('#msg', 'class'), text: await page.textContent('#msg')};
    }
    const nothingWritten = () => !fs.existsSync(config) || 'config.py was written';

    await step('a wrong password: the page says so, nothing is written', async () => {
      const m = await save({pw: 'wrong horse', url: good});
      return (m.cls === 'bad' && m.text === "Wrong password for the network 'home-net'." &&
              nothingWritten() === true) || [m, nothingWritten()];
    });
    await step('a network that is not there: the page names it, nothing is written', async () => {
      const m = await save({other: 'no-such-net', pw: 'correct horse', url: good});
      return (m.cls === 'bad' && m.text.startsWith("No network called 'no-such-net' answered") &&
              nothingWritten() === true) || [m, nothingWritten()];
    });
    await step("hookd's URL with a wrong key (401): the page says the key is wrong, nothing is written", async () => {
      const m = await save({pw: 'correct horse', url: good.replace(/key\/.*$/, 'key/not-the-key')});
      return (m.cls === 'bad' &&
              m.text === 'The webhook URL answered 401 Unauthorized: the key in it is wrong.' &&
              nothingWritten() === true) || [m, nothingWritten()];
    });
    await step('the form keeps the URL and button id typed, never the password', async () => {
      const v = [await page.inputValue('input[name=url]'), await page.inputValue('input[name=id]'),
                 await page.inputValue('input[name=pw]')];
      return (v[0].endsWith('/key/not-the-key') && v[1] === 'portal-button' && v[2] === '') || v;
    });

    await step('the right settings: joined, the test press answered, config.py written', async () => {
      const m = await save({pw: 'correct horse', url: good});
      return (m.cls === 'ok' && m.text.startsWith("Joined 'home-net'; the test press was answered 200 OK.") &&
              m.text.includes('config.py is written')) || m;
    });
    await step('config.py holds what was typed, in the chapter\'s format', async () => {
      const text = fs.readFileSync(config, 'utf8');
      return (text.includes("WIFI_SSID = 'home-net'\n") &&
              text.includes("WIFI_PASSWORD = 'correct horse'\n") &&
              text.includes(`WEBHOOK_URL = '${good}'\n`) &&
              text.includes("BUTTON_ID = 'portal-button'\n")) || text;
    });
    await step('hookd got the test press, and only that one', async () => {
      const got = await presses(tmp, 1);
      return (got.length === 1 && got[0].value1 === 'portal-button') || got;
    });
    await step('the board goes to sleep', async () => {
      ctl(state, 'wait', '--for', 'sleeping', '--timeout', '20');
      return JSON.parse(ctl(state, 'state')).listening['80'] === undefined || 'still listening';
    });
    await step('a press of its button reaches hookd', async () => {
      ctl(state, 'press');
      ctl(state, 'wait', '--for', 'sleeping', '--timeout', '30');
      const got = await presses(tmp, 2);
      return (got.length === 2 && got[1].value1 === 'portal-button' && got[1].event === 'button_pressed') || got;
    });
  } finally {
    if (browser) await browser.close();
    if (board) { try { ctl(state, 'off'); } catch (e) { board.kill(); } }
    if (hookd) hookd.proc.kill();
    if (counts.failed) {
      try { console.log(fs.readFileSync(path.join(tmp, 'board.out'), 'utf8')); } catch (e) { /* none */ }
    }
    fs.rmSync(tmp, {recursive: true, force: true});
  }
  finish();
}

main().catch((e) => { console.error(e); process.exit(1); });
