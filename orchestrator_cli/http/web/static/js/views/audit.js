// The audit log: every change made to a server or the backend, newest first, a page at a time.

import { h, replace, section, fmtTime, emptyRow } from '../dom.js';
import { api, keyPath, keyStr } from '../api.js';

export function mount(main) {
  let page = 0;
  const body = h('tbody', {});
  const filter = h('input', { type: 'search', id: 'audit-filter', placeholder: 'Filter this page' });
  const pager = h('span', { class: 'muted' });
  const prev = h('button', { type: 'button', text: '← Newer', onclick: () => { page = Math.max(0, page - 1); view.refresh(); } });
  const next = h('button', { type: 'button', text: 'Older →', onclick: () => { page += 1; view.refresh(); } });
  let rowsCache = [];
  const draw = () => {
    const needle = filter.value.toLowerCase();
    const rows = rowsCache.filter((a) => !needle || JSON.stringify(a).toLowerCase().includes(needle)).map((a) => h('tr', {},
      h('td', { 'data-label': 'When', text: fmtTime(a.AuditTimestamp) }),
      h('td', { 'data-label': 'Type', text: a.AuditType }),
      h('td', { 'data-label': 'Instance' }, keyStr(a.AuditInstanceKey) ? h('a', { href: `#/instance/${keyPath(a.AuditInstanceKey)}`, text: keyStr(a.AuditInstanceKey) }) : ''),
      h('td', { 'data-label': 'Cluster', text: a.ClusterName || '' }),
      h('td', { 'data-label': 'Message', text: a.Message })));
    replace(body, rows.length ? rows : emptyRow(5, 'No audit entries.'));
  };
  filter.addEventListener('input', draw);
  replace(main, section('Audit log',
    h('div', { class: 'toolbar' }, h('label', { for: 'audit-filter', class: 'sr', text: 'Filter' }), filter, prev, next, pager),
    h('table', { class: 'grid', 'data-testid': 'audit' },
      h('thead', {}, h('tr', {}, ['When', 'Type', 'Instance', 'Cluster', 'Message'].map((t) => h('th', { scope: 'col', text: t })))), body)));
  const view = {
    title: 'Audit',
    async refresh() {
      rowsCache = (await api(page ? `audit/${page}` : 'audit')) || [];
      pager.textContent = `page ${page + 1}`;
      prev.disabled = page === 0;
      next.disabled = rowsCache.length === 0;
      draw();
    },
  };
  return view;
}
