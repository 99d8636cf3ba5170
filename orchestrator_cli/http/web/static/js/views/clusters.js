// Clusters at a glance: name, alias, instance count, problems, automated-recovery filters, lag.

import { h, replace, section, emptyRow } from '../dom.js';
import { api, details, seg } from '../api.js';
import { analysisClass, problemClass, worstClass, CLASSES } from '../model.js';

export function mount(main) {
  const body = h('tbody', {});
  replace(main, section('Clusters',
    h('table', { class: 'grid clusters', 'data-testid': 'clusters' },
      h('thead', {}, h('tr', {}, ['Cluster', 'Alias', 'Instances', 'Problems', 'Automated recovery', 'Heuristic lag'].map((t) => h('th', { scope: 'col', text: t })))),
      body)));
  return {
    title: 'Clusters',
    async refresh() {
      const [clusters, analysis, problems] = await Promise.all([
        api('clusters-info'),
        details('replication-analysis').catch(() => []),
        api('problems').catch(() => []),
      ]);
      const issues = new Map();
      const add = (cluster, cls, text) => {
        if (!issues.has(cluster)) issues.set(cluster, []);
        issues.get(cluster).push({ cls, text });
      };
      for (const a of analysis || []) {
        if (a.Analysis && a.Analysis !== 'NoProblem') add((a.ClusterDetails || {}).ClusterName, analysisClass(a.Analysis), a.Analysis);
      }
      for (const inst of problems || []) {
        add(inst.ClusterName, worstClass((inst.Problems || []).map(problemClass)), `${inst.Key.Hostname}:${inst.Key.Port} ${(inst.Problems || []).join(', ')}`);
      }
      const rows = (clusters || []).slice().sort((a, b) => a.ClusterAlias.localeCompare(b.ClusterAlias)).map((c) => {
        const mine = issues.get(c.ClusterName) || [];
        const worst = worstClass(mine.map((i) => i.cls));
        return h('tr', { 'data-cluster': c.ClusterName },
          h('td', { 'data-label': 'Cluster' }, h('a', { href: `#/cluster/${seg(c.ClusterName)}`, text: c.ClusterName })),
          h('td', { 'data-label': 'Alias', text: c.ClusterAlias }),
          h('td', { 'data-label': 'Instances', text: String(c.CountInstances) }),
          h('td', { 'data-label': 'Problems', class: `p-${worst}` },
            mine.length ? [h('span', { 'aria-hidden': 'true', text: CLASSES[worst].icon + ' ' }), mine.map((i) => i.text).join('; ')] : h('span', { class: 'muted', text: 'none' })),
          h('td', { 'data-label': 'Automated recovery', text: [c.HasAutomatedMasterRecovery ? 'master' : '', c.HasAutomatedIntermediateMasterRecovery ? 'intermediate master' : ''].filter(Boolean).join(', ') || 'none' }),
          h('td', { 'data-label': 'Heuristic lag', text: `${c.HeuristicLag}s` }));
      });
      replace(body, rows.length ? rows : emptyRow(6, 'No clusters known yet: discover an instance first.'));
    },
  };
}
