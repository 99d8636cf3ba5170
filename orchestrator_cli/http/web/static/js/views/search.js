// Search: instances whose host, alias or cluster matches, and clusters whose name or alias matches.

import { h, replace, section } from '../dom.js';
import { api, keyPath, keyStr, seg } from '../api.js';

export function mount(main, params) {
  const needle = decodeURIComponent(params.join('/') || '');
  const clustersBox = h('ul', { class: 'results' });
  const instancesBox = h('ul', { class: 'results', 'data-testid': 'search-results' });
  replace(main, h('h1', {}, 'Search: ', h('span', { class: 'mono', text: needle })),
    section('Clusters', clustersBox), section('Instances', instancesBox));
  return {
    title: `Search ${needle}`,
    async refresh() {
      const [found, clusters] = await Promise.all([
        needle ? api(`search?s=${seg(needle)}`).catch(() => []) : Promise.resolve([]),
        api('clusters-info').catch(() => []),
      ]);
      const low = needle.toLowerCase();
      const matching = (clusters || []).filter((c) => `${c.ClusterName} ${c.ClusterAlias}`.toLowerCase().includes(low));
      replace(clustersBox, matching.length ? matching.map((c) => h('li', {}, h('a', { href: `#/cluster/${seg(c.ClusterName)}`, text: c.ClusterAlias }), ` (${c.CountInstances} instances)`)) : h('li', { class: 'muted', text: 'No cluster matches.' }));
      const list = Array.isArray(found) ? found : (found && found.Details) || [];
      replace(instancesBox, list.length ? list.map((i) => h('li', {},
        h('a', { href: `#/instance/${keyPath(i.Key)}`, text: keyStr(i.Key) }), ' in ',
        h('a', { href: `#/cluster/${seg(i.ClusterName)}`, text: i.ClusterName }))) : h('li', { class: 'muted', text: 'No instance matches.' }));
    },
  };
}
