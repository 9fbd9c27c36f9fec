/*
 * A real hookd for the browser tests (test_web.js here, the board's test_portal.js): the
 * admin password set with `hookd password` (not pinned in the config, so that the page may
 * change it), the config written as given, hookd on a free port of 127.0.0.1; resolves once
 * it says where it listens, rejects with its log if it exits or says nothing within wait ms.
 */
'use strict';

const {spawn, spawnSync} = require('child_process');
const fs = require('fs');

/* {hookd, data, cfg (the config file's path), config (an object), password, wait}:
 * a promise of {proc, port, log (its stderr, chunk by chunk)} */
function startHookd({hookd, data, cfg, config, password, wait}) {
  const pw = spawnSync(hookd, ['password', '--data', data], {input: password + '\n', encoding: 'utf8'});
  if (pw.status !== 0) return Promise.reject(new Error('hookd password: ' + pw.stderr));
  fs.writeFileSync(cfg, JSON.stringify(config));
  const proc = spawn(hookd, ['--data', data, '--listen', '127.0.0.1:0', '--config', cfg],
                     {stdio: ['ignore', 'ignore', 'pipe']});
  const log = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hookd did not start:\n' + log.join(''))), wait);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log.push(chunk);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log.join(''));
      if (m && timer) {
        clearTimeout(timer);
        resolve({proc, port: Number(m[1]), log});
      }
    });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error('hookd exited ' + code + ':\n' + log.join(''))); });
  });
}

module.exports = {startHookd};
