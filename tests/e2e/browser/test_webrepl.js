#!/usr/bin/env node
/*
 * The WebREPL page the board serves itself, in headless Chromium (Debian's /usr/bin/chromium
 * driven by npm's playwright-core, shared with hookd's browser test). Powers on a simulated
 * board with WebREPL enabled and the debug jumper in, opens http://board/ (no internet), logs
 * in, runs a command, sends a file and gets it back byte for byte.
 *
 *   SIMBOARD=build/main/firmware/ports/sim/simboard node test_webrepl.js   (ctest: browser.webrepl)
 */
'use strict';

const {spawn} = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {chromium} = require('playwright-core');

const {SIMBOARD, check, step, ctl, sleep, finish} = require('./steps');
const PASSWORD = 'pAss42';
const WAIT = 20000;

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bh-webrepl-'));
  const state = path.join(tmp, 'board');
  fs.mkdirSync(path.join(state, 'flash'), {recursive: true});
  fs.writeFileSync(path.join(state, 'flash', 'config.py'),
    "WIFI_SSID = 'home-net'\nWIFI_PASSWORD = 'correct horse'\n" +
    "WEBHOOK_URL = 'http://127.0.0.1:9/trigger/button_pressed/with/key/k'\nBUTTON_ID = 'b1'\n");
  fs.writeFileSync(path.join(state, 'flash', 'webrepl_cfg.py'), `PASS = '${PASSWORD}'\nSTART = True\n`);
  const world = path.join(tmp, 'world.json');
  fs.writeFileSync(world, JSON.stringify({
    aps: [{ssid: 'home-net', channel: 6, auth: 'WPA2_PSK', password: 'correct horse'}],
    ports: {'8266': 0},
  }));
  const board = spawn(SIMBOARD, ['run', '--state', state, '--world', world],
                      {stdio: ['ignore', fs.openSync(path.join(tmp, 'board.out'), 'w'), 'inherit']});
  let browser = null;
  try {
    for (let i = 0; i < 100; i++) {
      try { ctl(state, 'state'); break; } catch (e) { await sleep(100); }
    }
    ctl(state, 'wait', '--for', 'sleeping');
    ctl(state, 'jumper', 'on');
    ctl(state, 'press');
    ctl(state, 'wait', '--for', 'idle');
    let port = 0;
    for (let i = 0; i < 100 && !port; i++) {
      const st = JSON.parse(ctl(state, 'state'));
      port = st.listening && st.listening['8266'];
      if (!port) await sleep(100);
    }
    check('the board listens for WebREPL', !!port);

    browser = await chromium.launch({executablePath: '/usr/bin/chromium',
                                     args: ['--no-sandbox', '--disable-gpu']});
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT);
    await step('the board serves the page', async () => {
      const r = await page.goto(`http://127.0.0.1:${port}/`);
      return r.status() === 200 && (await page.title()) === 'buttonhook WebREPL' || r.status();
    });
    await step('connect and get the password prompt', async () => {
      await page.click('#connect');
      await page.waitForFunction(() => document.getElementById('term').textContent.endsWith('Password: '));
    });
    await step('log in', async () => {
      await page.fill('#cmd', PASSWORD);
      await page.press('#cmd', 'Enter');
      await page.waitForFunction(() => document.getElementById('term').textContent.includes('WebREPL connected\n>>> '));
    });
    await step('the password is not echoed', async () => {
      const t = await page.textContent('#term');
      return !t.includes(PASSWORD) || t;
    });
    await step('run a command', async () => {
      await page.fill('#cmd', 'wlan sta isconnected');
      await page.press('#cmd', 'Enter');
      await page.waitForFunction(() => document.getElementById('term').textContent.includes('wlan sta isconnected\nTrue\n>>> '));
    });
    const data = crypto.randomBytes(5000);
    await step('send a file', async () => {
      await page.setInputFiles('#putfile', {name: 'from_page.bin', mimeType: 'application/octet-stream', buffer: data});
      await page.click('#put');
      await page.waitForFunction(() => document.getElementById('file').textContent.startsWith('sent '));
      const onFlash = fs.readFileSync(path.join(state, 'flash', 'from_page.bin'));
      return onFlash.equals(data) || `flash holds ${onFlash.length} bytes`;
    });
    await step('get it back, byte for byte', async () => {
      await page.fill('#getname', 'from_page.bin');
      await page.click('#get');
      await page.waitForFunction(() => document.getElementById('file').textContent.startsWith('got '));
      const back = Buffer.from(await page.evaluate(() => {
        const out = [];
        window.lastGet.forEach((c) => c.forEach((b) => out.push(b)));
        return out;
      }));
      return back.equals(data) || `got ${back.length} bytes`;
    });
    await step('a missing file is a status, and the session goes on', async () => {
      await page.fill('#getname', 'nothing.bin');
      await page.click('#get');
      await page.waitForFunction(() => document.getElementById('file').textContent === 'get failed: status 2');
      await page.fill('#cmd', 'reset_cause');
      await page.press('#cmd', 'Enter');
      await page.waitForFunction(() => document.getElementById('term').textContent.includes('# DEEPSLEEP_RESET'));
    });
  } finally {
    if (browser) await browser.close();
    try { ctl(state, 'off'); } catch (e) { board.kill(); }
    fs.rmSync(tmp, {recursive: true, force: true});
  }
  finish();
}

main().catch((e) => { console.error(e); process.exit(1); });
