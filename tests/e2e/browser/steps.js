/*
 * What the board's browser tests share: named checks counted as they pass or fail, a step that
 * turns an exception into a failed check with its first line, simboard's control commands and
 * a sleep. Each test prints the counts and exits non-zero on any failure.
 */
'use strict';

const {execFileSync} = require('child_process');

const SIMBOARD = process.env.SIMBOARD || 'simboard';
const counts = {passed: 0, failed: 0};

function check(name, ok, detail) {
  if (ok) { counts.passed++; console.log('ok   ' + name); }
  else { counts.failed++; console.log('FAIL ' + name + (detail !== undefined ? ': ' + detail : '')); }
}
async function step(name, fn) {
  try {
    const r = await fn();
    check(name, r === undefined || r === true, JSON.stringify(r));
  } catch (e) {
    check(name, false, (e && e.message ? e.message : String(e)).split('\n')[0]);
  }
}
/* `simboard CMD --state STATE ARGS...`, its output */
function ctl(state, ...args) {
  return execFileSync(SIMBOARD, [args[0], '--state', state, ...args.slice(1)], {encoding: 'utf8'});
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function finish() {
  console.log(`${counts.passed} passed, ${counts.failed} failed`);
  process.exit(counts.failed ? 1 : 0);
}

module.exports = {SIMBOARD, counts, check, step, ctl, sleep, finish};
