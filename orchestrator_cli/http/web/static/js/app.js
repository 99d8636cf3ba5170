// Entry point: hash routes, the live-update loop (every POLL_MS), the caller's powers, recovery toasts.

import { h, replace } from './dom.js';
import { api, details, getJSON, keyStr, seg } from './api.js';
import { app } from './state.js';
import { globalRecoveries } from './actions.js';
import * as clusters from './views/clusters.js';
import * as cluster from './views/cluster.js';
import * as instance from './views/instance.js';
import * as analysis from './views/analysis.js';
import * as recoveries from './views/recoveries.js';
import * as audit from './views/audit.js';
import * as search from './views/search.js';

const POLL_MS = 1500;
const ROUTES = { clusters, cluster, instance, analysis, recoveries, audit, search };

let view = null;
let generation = 0;
let wake = () => {};

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  const name = ROUTES[parts[0]] ? parts[0] : 'clusters';
  return { name, params: parts.slice(1) };
}

function show() {
  const { name, params } = route();
  const main = document.getElementById('main');
  generation++;
  view = ROUTES[name].mount(main, params);
  document.title = `${view.title} · orchestrator`;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  wake();
}

function live(ok, message) {
  const el = document.getElementById('live');
  el.className = ok ? 'live ok' : 'live down';
  el.textContent = ok ? 'live' : 'offline';
  el.title = ok ? `updated ${new Date().toLocaleTimeString()}` : message;
}

async function refreshView() {
  const mine = generation;
  if (!view || app.busy > 0) return;
  try {
    await view.refresh();
    live(true);
  } catch (e) {
    if (mine !== generation) return;
    live(false, e.message);
    const main = document.getElementById('main');
    if (!main.querySelector('.error-banner')) main.prepend(h('p', { class: 'error-banner p-down', role: 'alert', text: e.message }));
    return;
  }
  const stale = document.querySelector('#main .error-banner');
  if (stale) stale.remove();
}

async function refreshGlobal() {
  try {
    const state = await details('check-global-recoveries');
    const enabled = /enabled/i.test(String(state));
    const pill = document.getElementById('global-recoveries');
    const text = `recoveries ${enabled ? 'enabled' : 'disabled'}`;
    if (app.canWrite) {
      replace(pill, h('button', { type: 'button', class: enabled ? 'ok' : 'danger', title: `Global recoveries are ${enabled ? 'enabled' : 'disabled'}: click to ${enabled ? 'disable' : 'enable'}`, text, onclick: () => globalRecoveries(!enabled) }));
    } else {
      replace(pill, h('span', { class: enabled ? 'ok' : 'danger', text }));
    }
  } catch {
    /* the view's own refresh reports a service that does not answer */
  }
}

// Recovery toasts on every page: a new recovery, and the end of one that was running.
const recoveryState = new Map();
let recoveriesSeen = false;
async function watchRecoveries() {
  let records;
  try {
    records = (await api('audit-recovery')) || [];
  } catch {
    return;
  }
  for (const r of records) {
    const done = Boolean(r.RecoveryEndTimestamp);
    const before = recoveryState.get(r.UID);
    recoveryState.set(r.UID, done);
    if (!recoveriesSeen || before === true || (before === false && !done)) continue;
    const entry = r.AnalysisEntry || {};
    const what = `${entry.Analysis} on ${keyStr(entry.AnalyzedInstanceKey)}`;
    if (!done) toast(`Recovery running: ${what}`, 'warn', '#/recoveries');
    else if (r.IsSuccessful) toast(`Recovered: ${what} → ${keyStr(r.SuccessorKey) || 'no promotion'}`, 'ok', '#/recoveries');
    else toast(`Recovery failed: ${what}`, 'down', '#/recoveries');
  }
  recoveriesSeen = true;
}

function toast(message, cls = 'ok', link = '') {
  const box = document.getElementById('toasts');
  const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Dismiss', text: '×' });
  const item = h('div', { class: `toast p-${cls}`, 'data-testid': 'toast' }, link ? h('a', { href: link, text: message }) : h('span', { text: message }), close);
  close.addEventListener('click', () => item.remove());
  box.append(item);
  setTimeout(() => item.remove(), 20000);
}

async function whoami() {
  try {
    const me = await getJSON('web/whoami');
    app.user = me.User || '';
    app.canWrite = Boolean(me.CanWrite);
  } catch {
    app.canWrite = false; // when in doubt, show no controls: the API refuses changes anyway
  }
  document.body.classList.toggle('read-only', !app.canWrite);
  const who = document.getElementById('whoami');
  who.textContent = `${app.user || 'anonymous'}${app.canWrite ? '' : ' (read-only)'}`;
}

async function loop() {
  for (;;) {
    await Promise.all([refreshView(), refreshGlobal(), watchRecoveries()]);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      wake = () => { clearTimeout(timer); resolve(); };
    });
  }
}

document.getElementById('search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = document.getElementById('search-input').value.trim();
  if (text) location.hash = `#/search/${seg(text)}`;
});

app.toast = toast;
app.refreshNow = () => wake();
window.addEventListener('hashchange', show);
await whoami();
show();
loop();
