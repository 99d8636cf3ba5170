// Replication analysis: what the service currently thinks is wrong, with a recover action where it applies.

import { h, replace, section, emptyRow } from '../dom.js';
import { details, keyPath, keyStr, seg } from '../api.js';
import { app } from '../state.js';
import { analysisClass } from '../model.js';
import { recover } from '../actions.js';

export function mount(main) {
  const body = h('tbody', {});
  replace(main, section('Replication analysis',
    h('table', { class: 'grid', 'data-testid': 'analysis' },
      h('thead', {}, h('tr', {}, ['Analysis', 'Instance', 'Cluster', 'Replicas', 'Details', ''].map((t) => h('th', { scope: 'col', text: t })))),
      body)));
  return {
    title: 'Analysis',
    async refresh() {
      const entries = (await details('replication-analysis')) || [];
      const rows = entries.map((a) => h('tr', { class: `p-${analysisClass(a.Analysis)}` },
        h('td', { 'data-label': 'Analysis' }, h('strong', { text: a.Analysis }), (a.StructureAnalysis || []).length ? h('div', { class: 'muted', text: a.StructureAnalysis.join(', ') }) : null),
        h('td', { 'data-label': 'Instance' }, h('a', { href: `#/instance/${keyPath(a.AnalyzedInstanceKey)}`, text: keyStr(a.AnalyzedInstanceKey) })),
        h('td', { 'data-label': 'Cluster' }, h('a', { href: `#/cluster/${seg((a.ClusterDetails || {}).ClusterName || '')}`, text: (a.ClusterDetails || {}).ClusterAlias || (a.ClusterDetails || {}).ClusterName })),
        h('td', { 'data-label': 'Replicas', text: `${a.CountValidReplicatingReplicas ?? '?'}/${a.CountReplicas ?? '?'} replicating` }),
        h('td', { 'data-label': 'Details', text: [a.Description, a.IsDowntimed ? 'downtimed' : '', a.LastCheckValid === false ? 'last check failed' : ''].filter(Boolean).join('; ') }),
        h('td', {}, app.canWrite && a.IsActionableRecovery ? h('button', { type: 'button', text: 'Recover…', onclick: () => recover(a.AnalyzedInstanceKey) }) : null)));
      replace(body, rows.length ? rows : emptyRow(6, 'No problems found.'));
    },
  };
}
