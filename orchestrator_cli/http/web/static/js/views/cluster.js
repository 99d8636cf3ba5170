// A cluster's topology as a tree. Replicas are dragged onto their new master (or moved with the
// "Relocate to…" picker from the keyboard); every move is checked by a dry run before it can run.

import { h, replace, section } from '../dom.js';
import { api, details, keyPath, keyStr, seg } from '../api.js';
import { app } from '../state.js';
import { CLASSES, analysisClass, downtimeText, gtidMode, isMaster, lagText, problemsOf, replicationState, shortVersion, worstClass } from '../model.js';
import { actionMenu, ackCluster, gracefulTakeover, instanceActions, recover, relocate } from '../actions.js';
import { renderRecoveries } from './recoveries.js';

let dragKey = '';

function buildForest(instances) {
  const byKey = new Map(instances.map((i) => [keyStr(i.Key), i]));
  const children = new Map();
  const roots = [];
  for (const inst of instances) {
    const master = keyStr(inst.MasterKey);
    if (master && master !== keyStr(inst.Key) && byKey.has(master)) {
      if (!children.has(master)) children.set(master, []);
      children.get(master).push(inst);
    } else {
      roots.push(inst);
    }
  }
  // co-masters replicate from each other: neither is a root, so start from the writable one
  const reached = new Set();
  const walk = (inst) => {
    const k = keyStr(inst.Key);
    if (reached.has(k)) return;
    reached.add(k);
    (children.get(k) || []).forEach(walk);
  };
  roots.forEach(walk);
  for (const inst of [...instances].sort((a, b) => Number(a.ReadOnly) - Number(b.ReadOnly))) {
    if (!reached.has(keyStr(inst.Key))) {
      roots.push(inst);
      walk(inst);
    }
  }
  const byName = (a, b) => keyStr(a.Key).localeCompare(keyStr(b.Key), undefined, { numeric: true });
  for (const list of children.values()) list.sort(byName);
  roots.sort(byName);
  return { roots, children };
}

function badge(cls, text, title) {
  return h('span', { class: `badge p-${cls}`, title: title || text }, h('span', { 'aria-hidden': 'true', text: CLASSES[cls].icon + ' ' }), text);
}

function nodeCard(inst, cluster, analyses) {
  const key = keyStr(inst.Key);
  const problems = problemsOf(inst);
  const mine = analyses.filter((a) => keyStr(a.AnalyzedInstanceKey) === key && a.Analysis !== 'NoProblem');
  const worst = worstClass([...problems.map((p) => p.cls), ...mine.map((a) => analysisClass(a.Analysis))]);
  const state = replicationState(inst);
  const coordinates = inst.SelfBinlogCoordinates && inst.SelfBinlogCoordinates.LogFile ? `${inst.SelfBinlogCoordinates.LogFile}:${inst.SelfBinlogCoordinates.LogPos}` : 'no binlog';
  const facts = [shortVersion(inst), inst.ReadOnly ? 'read_only' : 'writable', isMaster(inst) ? coordinates : gtidMode(inst), inst.PromotionRule || 'neutral'];
  const label = `${key}, ${isMaster(inst) ? 'master' : `replica of ${keyStr(inst.MasterKey)}`}, ${CLASSES[worst].label}`;
  const card = h('div', {
    class: `node p-${worst}`, tabindex: '0', role: 'treeitem', 'aria-label': label,
    draggable: app.canWrite ? 'true' : undefined, dataset: { key, master: keyStr(inst.MasterKey) },
  },
  h('div', { class: 'node-head' },
    h('span', { class: 'icon', 'aria-hidden': 'true', title: CLASSES[worst].label, text: CLASSES[worst].icon }),
    h('a', { class: 'node-key', href: `#/instance/${keyPath(inst.Key)}`, tabindex: '-1', text: key }),
    inst.InstanceAlias ? h('span', { class: 'muted', text: ` ${inst.InstanceAlias}` }) : null,
    actionMenu(`Actions for ${key}`, instanceActions(inst, cluster))),
  h('div', { class: 'node-facts' },
    facts.map((f, i) => h('span', { class: i === 1 ? (inst.ReadOnly ? 'ro' : 'rw') : '', text: f }))),
  h('div', { class: 'node-state' },
    isMaster(inst) ? h('span', { class: 'muted', text: 'master' }) : state.map((s) => h('span', { class: s.ok ? 'thread-ok' : 'thread-bad', title: s.title, text: s.text })),
    lagText(inst) ? h('span', { text: lagText(inst) }) : null),
  (problems.length || mine.length || inst.IsDowntimed) ? h('div', { class: 'badges' },
    mine.map((a) => badge(analysisClass(a.Analysis), a.Analysis, a.Description)),
    problems.filter((p) => p.cls !== 'downtimed').map((p) => badge(p.cls, p.name.replace(/_/g, ' '))),
    inst.IsDowntimed ? badge('downtimed', 'downtimed', downtimeText(inst)) : null) : null);
  wireNode(card, inst, cluster);
  return card;
}

function wireNode(card, inst, cluster) {
  const key = keyStr(inst.Key);
  card.addEventListener('keydown', (e) => {
    if (e.target !== card) return;
    const nodes = [...document.querySelectorAll('.tree .node')];
    const at = nodes.indexOf(card);
    if (e.key === 'Enter') {
      location.hash = `#/instance/${keyPath(inst.Key)}`;
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowRight') {
      e.preventDefault();
      nodes[Math.min(at + 1, nodes.length - 1)].focus();
    } else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') {
      e.preventDefault();
      nodes[Math.max(at - 1, 0)].focus();
    } else if ((e.key === 'm' || e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) && app.canWrite) {
      e.preventDefault();
      const button = card.querySelector('.menu-button');
      if (button) button.click();
    } else if (e.key === 'r' && app.canWrite) {
      e.preventDefault();
      relocate(inst, cluster.instances);
    }
  });
  if (!app.canWrite) return;
  card.addEventListener('dragstart', (e) => {
    dragKey = key;
    app.busy++;
    card.classList.add('dragging');
    e.dataTransfer.effectAllowed = 'move';
    e.dataTransfer.setData('text/plain', key);
  });
  card.addEventListener('dragend', () => {
    card.classList.remove('dragging');
    dragKey = '';
    app.busy = Math.max(0, app.busy - 1);
    document.querySelectorAll('.drop-target').forEach((n) => n.classList.remove('drop-target'));
  });
  card.addEventListener('dragover', (e) => {
    if (!dragKey || dragKey === key) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
    card.classList.add('drop-target');
  });
  card.addEventListener('dragleave', () => card.classList.remove('drop-target'));
  card.addEventListener('drop', (e) => {
    e.preventDefault();
    card.classList.remove('drop-target');
    const source = dragKey || e.dataTransfer.getData('text/plain');
    if (!source || source === key) return;
    const moving = cluster.instances.find((i) => keyStr(i.Key) === source);
    if (moving) relocate(moving, cluster.instances, key);
  });
}

function treeList(list, forest, cluster, analyses, level) {
  return h('ul', { role: level === 1 ? 'tree' : 'group', class: level === 1 ? 'tree' : '', 'aria-label': level === 1 ? 'Replication topology' : undefined },
    list.map((inst) => {
      const kids = forest.children.get(keyStr(inst.Key)) || [];
      return h('li', { role: 'none', dataset: { key: keyStr(inst.Key) } },
        nodeCard(inst, cluster, analyses),
        kids.length ? treeList(kids, forest, cluster, analyses, level + 1) : null);
    }));
}

function header(name, info, instances) {
  const facts = [
    ['Cluster', name],
    ['Alias', info ? info.ClusterAlias : ''],
    ['Instances', String(instances.length)],
    ['Heuristic lag', info ? `${info.HeuristicLag}s` : '?'],
    ['Automated master recovery', info ? (info.HasAutomatedMasterRecovery ? 'yes' : 'no') : '?'],
    ['Automated intermediate master recovery', info ? (info.HasAutomatedIntermediateMasterRecovery ? 'yes' : 'no') : '?'],
  ];
  return h('dl', { class: 'facts inline' }, facts.map(([k, v]) => h('div', {}, h('dt', { text: k }), h('dd', { text: v }))));
}

export function mount(main, params) {
  const name = decodeURIComponent(params[0] || '');
  const head = h('div', {});
  const tools = h('div', { class: 'toolbar' });
  const treeBox = h('div', { class: 'tree-box', 'data-testid': 'tree' });
  const problemsBox = h('div', {});
  const recBox = h('div', { class: 'recoveries', 'data-testid': 'cluster-recoveries' });
  const note = h('div', { class: 'follow', role: 'status' });
  replace(main,
    h('h1', {}, 'Cluster ', h('span', { class: 'mono', text: name })), note,
    section('Overview', head, tools),
    section('Topology', h('p', { class: 'hint', text: app.canWrite ? 'Drag an instance onto its new master, or focus it and press r (or use ⋯ → Relocate to…). Every move is dry-run first.' : '' }), treeBox),
    section('Problems', problemsBox),
    section('Recent recoveries', recBox));
  const seen = new Map(); // uid → finished? (as first seen on this page)
  let first = true;
  let drawn = '';

  async function follow(records) {
    for (const r of records) {
      const known = seen.get(r.UID);
      const finished = Boolean(r.RecoveryEndTimestamp);
      seen.set(r.UID, finished);
      if (first || known === true || !finished || !r.IsSuccessful || !keyStr(r.SuccessorKey)) continue;
      // a recovery of this cluster finished while we watched: follow its successor's cluster
      try {
        const successor = await api(`instance/${keyPath(r.SuccessorKey)}`);
        if (successor.ClusterName && successor.ClusterName !== name) {
          app.followed = { from: name, analysis: r.AnalysisEntry.Analysis, failed: keyStr(r.AnalysisEntry.AnalyzedInstanceKey), successor: keyStr(r.SuccessorKey) };
          location.hash = `#/cluster/${seg(successor.ClusterName)}`;
          return true;
        }
      } catch {
        /* the successor is not readable yet: try again on the next poll */
      }
    }
    return false;
  }

  if (app.followed) {
    const f = app.followed;
    replace(note, h('p', { class: 'banner p-warn' }, `Followed a failover: ${f.analysis} on ${f.failed}, promoted ${f.successor}. Previous cluster: `,
      h('a', { href: `#/cluster/${seg(f.from)}`, text: f.from })));
    app.followed = null;
  }

  return {
    title: `Cluster ${name}`,
    async refresh() {
      const [instances, info, analysis, recoveries] = await Promise.all([
        api(`cluster/${seg(name)}`),
        api(`cluster-info/${seg(name)}`).catch(() => null),
        details('replication-analysis').catch(() => []),
        api('audit-recovery').catch(() => []),
      ]);
      // this cluster's recoveries, and the one that made it (its successor is a member now)
      const members = new Set((instances || []).map((i) => keyStr(i.Key)));
      const mineRec = (recoveries || []).filter((r) => ((r.AnalysisEntry || {}).ClusterDetails || {}).ClusterName === name || members.has(keyStr(r.SuccessorKey)));
      if (await follow(mineRec)) return;
      first = false;
      const analyses = (analysis || []).filter((a) => (a.ClusterDetails || {}).ClusterName === name);
      const forest = buildForest(instances || []);
      const master = forest.roots.find((i) => isMaster(i)) || null;
      const cluster = {
        name, instances: instances || [], master,
        directReplicas: master ? (forest.children.get(keyStr(master.Key)) || []) : [],
      };
      replace(head, header(name, info, cluster.instances));
      replace(tools, app.canWrite ? [
        cluster.directReplicas.length ? h('button', { type: 'button', text: 'Graceful master takeover…', onclick: () => gracefulTakeover(name, cluster.directReplicas) }) : null,
        mineRec.some((r) => !r.Acknowledged) ? h('button', { type: 'button', text: 'Acknowledge recoveries…', onclick: () => ackCluster(name) }) : null,
      ] : []);
      // redraw the tree only when what it shows changed: a node under the pointer stays put for a drag
      const signature = JSON.stringify([app.canWrite, analyses.map((a) => [keyStr(a.AnalyzedInstanceKey), a.Analysis]),
        cluster.instances.map((i) => [keyStr(i.Key), keyStr(i.MasterKey), i.Version, i.ReadOnly, gtidMode(i), i.PromotionRule,
          lagText(i), i.ReplicationIOThreadState, i.ReplicationSQLThreadState, i.Problems, i.IsLastCheckValid, i.IsDowntimed,
          i.DowntimeEndTimestamp, i.SelfBinlogCoordinates, i.InstanceAlias])]);
      if (signature !== drawn) {
        drawn = signature;
        const focused = document.activeElement && document.activeElement.classList.contains('node') ? document.activeElement.dataset.key : '';
        replace(treeBox, cluster.instances.length ? treeList(forest.roots, forest, cluster, analyses, 1) : h('p', { class: 'muted', text: 'No instances in this cluster.' }));
        if (focused) {
          const again = treeBox.querySelector(`.node[data-key="${CSS.escape(focused)}"]`);
          if (again) again.focus();
        }
      }
      const issues = analyses.filter((a) => a.Analysis !== 'NoProblem' || (a.StructureAnalysis || []).length);
      const troubled = cluster.instances.map((i) => [i, problemsOf(i)]).filter(([, p]) => p.length);
      replace(problemsBox, issues.length || troubled.length ? h('ul', { class: 'issues' },
        issues.map((a) => h('li', { class: `p-${analysisClass(a.Analysis)}` },
          h('strong', { text: a.Analysis }), ' on ', h('a', { href: `#/instance/${keyPath(a.AnalyzedInstanceKey)}`, text: keyStr(a.AnalyzedInstanceKey) }),
          a.Description ? `: ${a.Description}` : '',
          (a.StructureAnalysis || []).length ? h('span', { class: 'muted', text: ` (${a.StructureAnalysis.join(', ')})` }) : null,
          app.canWrite && a.IsActionableRecovery ? [' ', h('button', { type: 'button', text: 'Recover…', onclick: () => recover(a.AnalyzedInstanceKey) })] : null)),
        troubled.map(([i, p]) => h('li', { class: `p-${worstClass(p.map((x) => x.cls))}` },
          h('a', { href: `#/instance/${keyPath(i.Key)}`, text: keyStr(i.Key) }), ': ', p.map((x) => x.name.replace(/_/g, ' ')).join(', '),
          i.LastIOError ? h('div', { class: 'muted', text: `IO error: ${i.LastIOError}` }) : null,
          i.LastSQLError ? h('div', { class: 'muted', text: `SQL error: ${i.LastSQLError}` }) : null)))
        : h('p', { class: 'muted', text: 'No problems.' }));
      await renderRecoveries(recBox, mineRec, { expand: 2, cluster: name });
    },
  };
}
