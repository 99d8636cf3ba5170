// Everything the service knows about one instance: every field, tags, actions and its recent audit.

import { h, replace, section, fmtTime, emptyRow } from '../dom.js';
import { api, keyPath, keyStr, seg } from '../api.js';
import { actionMenu, instanceActions } from '../actions.js';
import { problemsOf, CLASSES } from '../model.js';
import { app } from '../state.js';

function isKey(v) {
  return v && typeof v === 'object' && 'Hostname' in v && 'Port' in v;
}

function value(v) {
  if (v === null || v === undefined) return h('span', { class: 'muted', text: 'null' });
  if (isKey(v)) return keyStr(v) ? h('a', { href: `#/instance/${keyPath(v)}`, text: keyStr(v) }) : h('span', { class: 'muted', text: '(none)' });
  if (Array.isArray(v)) return v.length ? v.map((x, i) => [i ? ', ' : '', value(x)]) : h('span', { class: 'muted', text: '[]' });
  if (typeof v === 'object' && 'Valid' in v && 'Int64' in v) return v.Valid ? String(v.Int64) : h('span', { class: 'muted', text: 'null' });
  if (typeof v === 'object' && 'LogFile' in v) return `${v.LogFile}:${v.LogPos}${v.Type === 1 ? ' (relay log)' : ''}`;
  if (typeof v === 'object') return JSON.stringify(v);
  if (v === '') return h('span', { class: 'muted', text: '(empty)' });
  return String(v);
}

export function mount(main, params) {
  const [host, port] = params;
  const key = { Hostname: decodeURIComponent(host || ''), Port: Number(port) };
  const title = h('h1', {}, 'Instance ', h('span', { class: 'mono', text: keyStr(key) }));
  const summary = h('div', {});
  const fields = h('dl', { class: 'facts all-fields', 'data-testid': 'fields' });
  const tags = h('div', {});
  const audit = h('tbody', {});
  replace(main, title, section('Summary', summary), section('Tags', tags), section('Recent audit',
    h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['When', 'Type', 'Message'].map((t) => h('th', { scope: 'col', text: t })))), audit)),
  section('Every field', fields));
  return {
    title: `Instance ${keyStr(key)}`,
    async refresh() {
      const inst = await api(`instance/${keyPath(key)}`);
      const [tagList, auditRows, clusterInstances] = await Promise.all([
        api(`tags/${keyPath(key)}`).catch(() => null),
        api(`audit/instance/${keyPath(key)}`).catch(() => []),
        inst.ClusterName ? api(`cluster/${seg(inst.ClusterName)}`).catch(() => []) : Promise.resolve([]),
      ]);
      const master = (clusterInstances || []).find((i) => !keyStr(i.MasterKey)) || null;
      const cluster = {
        name: inst.ClusterName, instances: clusterInstances || [], master,
        directReplicas: master ? (clusterInstances || []).filter((i) => keyStr(i.MasterKey) === keyStr(master.Key)) : [],
      };
      const problems = problemsOf(inst);
      const pair = (k, ...v) => h('div', {}, h('dt', { text: k }), h('dd', {}, v));
      replace(summary, h('dl', { class: 'facts inline' },
        pair('Cluster', h('a', { href: `#/cluster/${seg(inst.ClusterName)}`, text: inst.ClusterName })),
        pair('Master', value(inst.MasterKey)),
        pair('Replicas', value(inst.Replicas || [])),
        pair('Version', inst.Version),
        pair('Problems', problems.length ? problems.map((p) => h('span', { class: `badge p-${p.cls}`, text: `${CLASSES[p.cls].icon} ${p.name}` })) : 'none')),
      app.canWrite ? h('div', { class: 'toolbar' }, 'Actions ', actionMenu(`Actions for ${keyStr(key)}`, instanceActions(inst, cluster))) : null);
      const list = Array.isArray(tagList) ? tagList : (tagList && tagList.Details) || [];
      replace(tags, list.length ? h('ul', { class: 'tags' }, list.map((t) => h('li', { class: 'badge', text: typeof t === 'string' ? t : `${t.TagName}=${t.TagValue}` }))) : h('p', { class: 'muted', text: 'No tags.' }));
      const rows = (auditRows || []).slice(0, 20).map((a) => h('tr', {},
        h('td', { 'data-label': 'When', text: fmtTime(a.AuditTimestamp) }), h('td', { 'data-label': 'Type', text: a.AuditType }), h('td', { 'data-label': 'Message', text: a.Message })));
      replace(audit, rows.length ? rows : emptyRow(3, 'No audit entries.'));
      replace(fields, Object.keys(inst).sort().map((name) => [h('dt', { text: name }), h('dd', {}, value(inst[name]))]));
    },
  };
}
