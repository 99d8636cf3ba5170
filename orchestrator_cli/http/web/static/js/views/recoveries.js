// Recovery history: each recovery with its outcome, the instances involved, and its steps, where hook
// runs are marked passed or failed (a failed hook is easy to miss in a log; here it is red).

import { h, fmtTime, section, replace } from '../dom.js';
import { api, keyStr, keyPath, seg } from '../api.js';
import { app } from '../state.js';
import { ackAll, ackCluster } from '../actions.js';

const finishedSteps = new Map(); // uid → steps of a finished recovery (they no longer change)

async function stepsOf(record) {
  if (Array.isArray(record.Steps)) return record.Steps;
  if (finishedSteps.has(record.UID)) return finishedSteps.get(record.UID);
  let steps = [];
  try {
    steps = (await api(`audit-recovery-steps/${seg(record.UID)}`)) || [];
  } catch {
    steps = [];
  }
  if (record.RecoveryEndTimestamp) finishedSteps.set(record.UID, steps);
  return steps;
}

const HOOK = /^(\w+Processes)\[(\d+)\]/;

/** A step as shown: a hook run is passed (exit 0 or background) or failed (anything else). */
export function stepView(step) {
  const text = step.Message || '';
  const hook = HOOK.exec(text);
  let cls = 'step';
  let mark = '';
  if (hook) {
    const passed = /: exit 0 in |: started in the background/.test(text);
    cls += passed ? ' hook-ok' : ' hook-failed';
    mark = passed ? '✓ hook' : '✖ hook failed';
  } else if (/error|fail/i.test(text)) {
    cls += ' step-error';
  }
  return h('li', { class: cls },
    h('time', { text: fmtTime(step.AuditAt) }), ' ',
    mark ? h('span', { class: 'mark', text: mark }) : null, mark ? ' ' : null,
    h('span', { class: 'msg', text }));
}

export function status(record) {
  if (!record.RecoveryEndTimestamp) return ['running', 'warn'];
  return record.IsSuccessful ? ['successful', 'ok'] : ['failed', 'down'];
}

function keyLink(k) {
  const text = keyStr(k);
  return text ? h('a', { href: `#/instance/${keyPath(k)}`, text }) : '-';
}

function recoveryItem(record, steps, open) {
  const [word, cls] = status(record);
  const entry = record.AnalysisEntry || {};
  const cluster = (entry.ClusterDetails || {}).ClusterName || '';
  const hookFailures = steps.filter((s) => HOOK.test(s.Message || '') && !/: exit 0 in |: started in the background/.test(s.Message)).length;
  const summary = h('summary', {},
    h('span', { class: `badge p-${cls}`, text: word }), ' ',
    h('strong', { class: 'analysis', text: entry.Analysis || '' }), ' on ', keyLink(entry.AnalyzedInstanceKey),
    record.SuccessorKey ? [' → ', h('span', { class: 'successor' }, keyLink(record.SuccessorKey))] : null,
    ' ', h('time', { class: 'muted', text: fmtTime(record.RecoveryStartTimestamp) }),
    hookFailures ? [' ', h('span', { class: 'badge p-broken', text: `${hookFailures} hook failure${hookFailures > 1 ? 's' : ''}` })] : null,
    record.Acknowledged ? [' ', h('span', { class: 'badge p-downtimed', text: `acked by ${record.AcknowledgedBy}` })] : null);
  const facts = h('dl', { class: 'facts' },
    h('dt', { text: 'Cluster' }), h('dd', {}, cluster ? h('a', { href: `#/cluster/${seg(cluster)}`, text: cluster }) : '-'),
    h('dt', { text: 'Id / UID' }), h('dd', { text: `${record.Id} / ${record.UID}` }),
    h('dt', { text: 'Ended' }), h('dd', { text: fmtTime(record.RecoveryEndTimestamp) || 'still running' }),
    h('dt', { text: 'Participating' }), h('dd', {}, (record.ParticipatingInstanceKeys || []).map((k) => [keyLink(k), ' '])),
    h('dt', { text: 'Lost replicas' }), h('dd', {}, (record.LostReplicas || []).map((k) => [keyLink(k), ' ']), (record.LostReplicas || []).length ? null : 'none'),
    h('dt', { text: 'Errors' }), h('dd', { class: (record.AllErrors || []).length ? 'refused' : '', text: (record.AllErrors || []).join('; ') || 'none' }),
    record.Acknowledged ? [h('dt', { text: 'Acknowledged' }), h('dd', { text: `${fmtTime(record.AcknowledgedAt)} by ${record.AcknowledgedBy}: ${record.AcknowledgedComment}` })] : null);
  return h('details', { class: `recovery p-${cls}`, open: open || undefined, 'data-uid': record.UID, 'data-analysis': entry.Analysis || '', 'data-failed': keyStr(entry.AnalyzedInstanceKey), 'data-successor': keyStr(record.SuccessorKey), 'data-status': word },
    summary, facts, h('h3', { text: 'Steps' }),
    steps.length ? h('ol', { class: 'steps' }, steps.map(stepView)) : h('p', { class: 'muted', text: 'No steps recorded.' }));
}

/** Render `records` (newest first) into `box`; the newest `expand` ones are open with their steps. */
export async function renderRecoveries(box, records, { expand = 3, cluster = '' } = {}) {
  const openNow = new Set([...box.querySelectorAll('details[open]')].map((d) => d.dataset.uid));
  const firstDraw = !box.dataset.drawn;
  const shown = records.slice(0, 50);
  const steps = await Promise.all(shown.map((r, i) => (i < expand || openNow.has(r.UID) ? stepsOf(r) : Promise.resolve(r.Steps || []))));
  const controls = [];
  if (app.canWrite && records.some((r) => !r.Acknowledged)) {
    controls.push(cluster
      ? h('button', { type: 'button', text: 'Acknowledge recoveries…', onclick: () => ackCluster(cluster) })
      : h('button', { type: 'button', text: 'Acknowledge all…', onclick: () => ackAll() }));
  }
  replace(box,
    controls.length ? h('div', { class: 'toolbar' }, controls) : null,
    shown.length ? shown.map((r, i) => recoveryItem(r, steps[i], firstDraw ? i < expand : openNow.has(r.UID) || (i < expand && !box.querySelector(`details[data-uid="${CSS.escape(r.UID)}"]`)))) : h('p', { class: 'muted', text: 'No recoveries.' }));
  box.dataset.drawn = '1';
}

export function mount(main) {
  const box = h('div', { class: 'recoveries', 'data-testid': 'recoveries' });
  replace(main, section('Recovery history', box));
  return {
    title: 'Recoveries',
    async refresh() {
      const records = (await api('audit-recovery')) || [];
      await renderRecoveries(box, records, { expand: 3 });
    },
  };
}
