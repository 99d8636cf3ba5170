// Actions with a confirmation: the dialog shows the dry run (statements) or what the command does,
// refusals before anything changes, then runs the API route only when the operator confirms.

import { h, replace } from './dom.js';
import { api, getJSON, keyPath, keyStr, plan, seg } from './api.js';
import { app } from './state.js';

const RULES = ['prefer', 'neutral', 'prefer_not', 'must_not'];

function field(spec, values, onChange) {
  const id = `f-${spec.name}`;
  let input;
  if (spec.options) {
    input = h('select', { id, name: spec.name },
      spec.options.map((o) => h('option', { value: o.value ?? o, text: o.label ?? o })));
  } else {
    input = h('input', { id, name: spec.name, type: 'text', value: spec.value || '', placeholder: spec.placeholder || '' });
  }
  if (spec.value !== undefined) input.value = spec.value;
  values[spec.name] = input.value;
  input.addEventListener(spec.options ? 'change' : 'input', () => {
    values[spec.name] = input.value;
    onChange();
  });
  return h('div', { class: 'field' }, h('label', { for: id, text: spec.label }), input);
}

function planView(result) {
  const parts = [h('p', { class: 'summary', text: result.Summary })];
  if (result.Refused) {
    parts.push(h('p', { class: 'refused', role: 'alert', 'data-testid': 'refused' },
      h('strong', { text: 'Refused: ' }), result.Refused, h('br'), 'Nothing was changed.'));
    return parts;
  }
  if (result.DryRun) {
    parts.push(h('p', { text: result.Statements.length ? 'Statements that will run (from a dry run, --noop):' : 'A dry run found no statement to send: the instance is already in place.' }));
    if (result.Statements.length) {
      parts.push(h('pre', { class: 'statements', 'data-testid': 'statements' },
        result.Statements.map((s) => `${s.Key}: ${s.Statement}\n`)));
    }
  } else {
    parts.push(h('p', { class: 'note', text: result.TouchesServers
      ? 'This command changes live servers and has no dry run; it does the following:'
      : 'Backend only: no statement is sent to any server. It does the following:' }));
  }
  // the registry's help text is wrapped for a terminal: let the dialog wrap it instead
  if (result.Details) parts.push(h('p', { class: 'details', text: result.Details.replace(/([^\n])\n(?!\n)/g, '$1 ') }));
  return parts;
}

/**
 * Open the confirmation dialog for one action.
 *   title: heading; fields: inputs [{name, label, options?, value?}]
 *   planArgs(values) → the command and its arguments for /web/plan
 *   path(values) → the /api route that runs it; done(result) → the toast text
 */
export function openAction({ title, fields = [], planArgs, path, done }) {
  const dialog = document.getElementById('confirm');
  const body = document.getElementById('confirm-body');
  const ok = document.getElementById('confirm-ok');
  const values = {};
  const planBox = h('div', { class: 'plan', 'aria-live': 'polite' });
  const status = h('p', { class: 'run-status', role: 'status' });
  let current = 0;
  let timer = 0;

  const check = async () => {
    const mine = ++current;
    ok.disabled = true;
    replace(planBox, h('p', { class: 'muted', text: 'Checking…' }));
    const [command, args] = planArgs(values);
    try {
      const result = await plan(command, args);
      if (mine !== current) return;
      replace(planBox, planView(result));
      ok.disabled = Boolean(result.Refused);
      ok.hidden = Boolean(result.Refused);
    } catch (e) {
      if (mine !== current) return;
      replace(planBox, h('p', { class: 'refused', role: 'alert', 'data-testid': 'refused', text: `Refused: ${e.message}` }));
      ok.hidden = true;
    }
  };
  const recheck = () => {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  };

  document.getElementById('confirm-title').textContent = title;
  replace(body, fields.map((f) => field(f, values, recheck)), planBox, status);
  ok.hidden = false;
  ok.textContent = 'Run';
  app.busy++;
  dialog.returnValue = '';

  const onSubmit = async (event) => {
    if (event.submitter && event.submitter.value !== 'ok') return;
    event.preventDefault();
    ok.disabled = true;
    status.className = 'run-status';
    status.textContent = 'Running…';
    try {
      const result = await getJSON('api/' + path(values));
      dialog.close('done');
      app.toast(done(result), 'ok');
    } catch (e) {
      status.className = 'run-status refused';
      status.textContent = `Failed: ${e.message}`;
      ok.disabled = false;
    }
    app.refreshNow();
  };
  const form = dialog.querySelector('form');
  form.addEventListener('submit', onSubmit);
  dialog.addEventListener('close', () => {
    form.removeEventListener('submit', onSubmit);
    current++;
    app.busy--;
    app.refreshNow();
  }, { once: true });
  dialog.showModal();
  check();
}

const detailsOf = (r) => (r && typeof r === 'object' && 'Details' in r ? r.Details : r);
const describe = (r) => {
  const d = detailsOf(r);
  if (d && typeof d === 'object' && d.Key) return `${keyStr(d.Key)} replicates from ${keyStr(d.MasterKey)}`;
  if (d && typeof d === 'object') return r.Message || JSON.stringify(d);
  return (r && r.Message) || String(d ?? 'done');
};

// ---- the actions the pages offer ------------------------------------------------------------------

export function relocate(inst, candidates, destination) {
  const key = keyStr(inst.Key);
  const options = candidates.filter((c) => keyStr(c.Key) !== key).map((c) => keyStr(c.Key));
  openAction({
    title: `Relocate ${key}`,
    fields: [{ name: 'destination', label: 'Below (new master)', options, value: destination || options[0] }],
    planArgs: (v) => ['relocate', { instance: key, destination: v.destination }],
    path: (v) => `relocate/${keyPath(inst.Key)}/${v.destination.split(':').map(seg).join('/')}`,
    done: (r) => `Relocated: ${describe(r)}`,
  });
}

export function moveUp(inst) {
  const key = keyStr(inst.Key);
  openAction({
    title: `Move up ${key}`,
    planArgs: () => ['move-up', { instance: key }],
    path: () => `move-up/${keyPath(inst.Key)}`,
    done: (r) => `Moved up: ${describe(r)}`,
  });
}

export function beginDowntime(inst) {
  const key = keyStr(inst.Key);
  openAction({
    title: `Begin downtime of ${key}`,
    fields: [
      { name: 'duration', label: 'Duration (e.g. 30m, 2h)', value: '1h' },
      { name: 'reason', label: 'Reason', value: 'maintenance' },
    ],
    planArgs: (v) => ['begin-downtime', { instance: key, duration: v.duration, reason: v.reason, owner: app.user }],
    path: (v) => `begin-downtime/${keyPath(inst.Key)}/${seg(app.user || 'web')}/${seg(v.reason)}/${seg(v.duration)}`,
    done: () => `Downtimed ${key}`,
  });
}

export function endDowntime(inst) {
  const key = keyStr(inst.Key);
  openAction({
    title: `End downtime of ${key}`,
    planArgs: () => ['end-downtime', { instance: key }],
    path: () => `end-downtime/${keyPath(inst.Key)}`,
    done: () => `Downtime of ${key} ended`,
  });
}

export function registerCandidate(inst) {
  const key = keyStr(inst.Key);
  openAction({
    title: `Promotion rule of ${key}`,
    fields: [{ name: 'rule', label: 'Promotion rule', options: RULES, value: RULES.includes(inst.PromotionRule) ? inst.PromotionRule : 'prefer' }],
    planArgs: (v) => ['register-candidate', { instance: key, rule: v.rule }],
    path: (v) => `register-candidate/${keyPath(inst.Key)}/${seg(v.rule)}`,
    done: () => `Registered ${key} as a candidate`,
  });
}

export function recover(key) {
  const text = keyStr(key);
  openAction({
    title: `Recover ${text}`,
    planArgs: () => ['recover', { instance: text }],
    path: () => `recover/${keyPath(key)}`,
    done: (r) => `Recovery of ${text}: ${describe(r)}`,
  });
}

export function gracefulTakeover(cluster, replicas, chosen) {
  const options = replicas.map((r) => keyStr(r.Key));
  openAction({
    title: `Graceful master takeover of ${cluster}`,
    fields: [{ name: 'destination', label: 'New master (a direct replica)', options, value: chosen || options[0] }],
    planArgs: (v) => ['graceful-master-takeover', { alias: cluster, destination: v.destination }],
    path: (v) => `graceful-master-takeover/${seg(cluster)}/${v.destination.split(':').map(seg).join('/')}`,
    done: (r) => `Takeover of ${cluster}: ${describe(r)}`,
  });
}

export function ackCluster(cluster) {
  openAction({
    title: `Acknowledge recoveries of ${cluster}`,
    fields: [{ name: 'comment', label: 'Comment', value: 'acknowledged in the web interface' }],
    planArgs: () => ['ack-cluster-recoveries', { alias: cluster }],
    path: (v) => `ack-recovery/cluster/${seg(cluster)}?comment=${seg(v.comment)}`,
    done: (r) => `Acknowledged: ${describe(r)}`,
  });
}

export function ackAll() {
  openAction({
    title: 'Acknowledge all recoveries',
    fields: [{ name: 'comment', label: 'Comment', value: 'acknowledged in the web interface' }],
    planArgs: () => ['ack-all-recoveries', {}],
    path: (v) => `ack-all-recoveries?comment=${seg(v.comment)}`,
    done: (r) => `Acknowledged: ${describe(r)}`,
  });
}

export function globalRecoveries(enable) {
  const command = enable ? 'enable-global-recoveries' : 'disable-global-recoveries';
  openAction({
    title: enable ? 'Enable global recoveries' : 'Disable global recoveries',
    planArgs: () => [command, {}],
    path: () => command,
    done: () => (enable ? 'Global recoveries enabled' : 'Global recoveries disabled'),
  });
}

/** The instance's action menu entries, for a power user (empty for read-only callers). */
export function instanceActions(inst, cluster) {
  if (!app.canWrite) return [];
  const items = [];
  const master = !keyStr(inst.MasterKey);
  items.push(['Relocate to…', () => relocate(inst, cluster.instances)]);
  if (!master) items.push(['Move up', () => moveUp(inst)]);
  if (!master && cluster.master && keyStr(inst.MasterKey) === keyStr(cluster.master.Key)) {
    items.push(['Make master (graceful takeover)…', () => gracefulTakeover(cluster.name, cluster.directReplicas, keyStr(inst.Key))]);
  }
  items.push(inst.IsDowntimed ? ['End downtime', () => endDowntime(inst)] : ['Begin downtime…', () => beginDowntime(inst)]);
  items.push(['Promotion rule…', () => registerCandidate(inst)]);
  items.push(['Recover…', () => recover(inst.Key)]);
  return items;
}

/** A disclosure button with a menu of actions; keyboard: Enter/Space open, arrows move, Escape closes. */
export function actionMenu(label, items) {
  if (!items.length) return null;
  const menu = h('ul', { class: 'menu', role: 'menu', hidden: true });
  const button = h('button', { class: 'menu-button', type: 'button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': label, text: '⋯' });
  const close = (focus) => {
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    if (app.busy > 0 && button.dataset.open) app.busy--;
    delete button.dataset.open;
    if (focus) button.focus();
  };
  for (const [text, run] of items) {
    const entry = h('li', { role: 'none' }, h('button', { role: 'menuitem', type: 'button', tabindex: '-1', text, onclick: () => { close(false); run(); } }));
    menu.append(entry);
  }
  const entries = () => [...menu.querySelectorAll('[role=menuitem]')];
  button.addEventListener('click', (e) => {
    e.stopPropagation();
    if (!menu.hidden) return close(true);
    menu.hidden = false;
    button.dataset.open = '1';
    app.busy++;
    button.setAttribute('aria-expanded', 'true');
    entries()[0].focus();
  });
  menu.addEventListener('keydown', (e) => {
    const list = entries();
    const at = list.indexOf(document.activeElement);
    if (e.key === 'Escape') { e.preventDefault(); close(true); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); list[(at + 1) % list.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); list[(at - 1 + list.length) % list.length].focus(); }
  });
  menu.addEventListener('focusout', (e) => {
    if (!menu.contains(e.relatedTarget) && e.relatedTarget !== button) close(false);
  });
  return h('span', { class: 'menu-wrap', onclick: (e) => e.stopPropagation() }, button, menu);
}

export { api };
