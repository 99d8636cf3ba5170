// How an Instance (the API's object) reads on screen: problem classes, lag, replication state, GTID mode.

import { keyStr } from './api.js';

// Problem class → severity rank, icon and label. Colour comes from the CSS class `p-<class>`.
export const CLASSES = {
  down: { rank: 5, icon: '✖', label: 'unreachable' },
  broken: { rank: 4, icon: '⊘', label: 'replication broken' },
  errant: { rank: 3, icon: '◆', label: 'errant GTID' },
  lag: { rank: 2, icon: '◷', label: 'lagging' },
  warn: { rank: 2, icon: '⚠', label: 'warning' },
  downtimed: { rank: 1, icon: '‖', label: 'downtimed' },
  ok: { rank: 0, icon: '●', label: 'ok' },
};

const PROBLEM_CLASS = {
  not_recently_checked: 'down',
  last_check_invalid: 'down',
  not_replicating: 'broken',
  replication_lag: 'lag',
  errant_gtid: 'errant',
  downtimed: 'downtimed',
};

export function problemClass(problem) {
  return PROBLEM_CLASS[problem] || 'warn';
}

/** Each problem of the instance with its class; an instance whose last check failed is unreachable. */
export function problemsOf(inst) {
  const found = (inst.Problems || []).map((p) => ({ name: p, cls: problemClass(p) }));
  if (inst.IsLastCheckValid === false && !found.some((p) => p.cls === 'down')) {
    found.unshift({ name: 'last_check_invalid', cls: 'down' });
  }
  if (inst.IsDowntimed && !found.some((p) => p.cls === 'downtimed')) found.push({ name: 'downtimed', cls: 'downtimed' });
  return found;
}

export function worstClass(classes) {
  let worst = 'ok';
  for (const cls of classes) if (CLASSES[cls].rank > CLASSES[worst].rank) worst = cls;
  return worst;
}

/** Analysis codes (DeadMaster, UnreachableMaster, ...) as a problem class. */
export function analysisClass(code) {
  if (!code || code === 'NoProblem') return 'ok';
  if (/^(Dead|Unreachable|AllMasterReplicasNotReplicating|LockedSemiSync)/.test(code)) return 'down';
  if (/NotReplicating|Broken|Errant/.test(code)) return 'broken';
  return 'warn';
}

export const isMaster = (inst) => !keyStr(inst.MasterKey);

export function nullInt(value) {
  return value && value.Valid ? value.Int64 : null;
}

export function lagText(inst) {
  if (isMaster(inst)) return '';
  const lag = nullInt(inst.ReplicationLagSeconds) ?? nullInt(inst.SecondsBehindMaster);
  return lag === null ? 'lag ?' : `lag ${lag}s`;
}

const THREAD = { 1: ['✓', 'running'], 0: ['✗', 'stopped'], 2: ['…', 'connecting'], '-1': ['?', 'unknown'] };

export function threadText(name, state) {
  const [mark, word] = THREAD[state] || THREAD['-1'];
  return { text: `${name}${mark}`, title: `${name} thread ${word}`, ok: state === 1 };
}

export function replicationState(inst) {
  if (isMaster(inst)) return [];
  return [threadText('IO', inst.ReplicationIOThreadState), threadText('SQL', inst.ReplicationSQLThreadState)];
}

export function gtidMode(inst) {
  if (inst.UsingMariaDBGTID) return 'MariaDB GTID';
  if (inst.UsingOracleGTID) return 'GTID';
  if (inst.SupportsOracleGTID && inst.GTIDMode && inst.GTIDMode !== 'OFF') return `GTID ${inst.GTIDMode}`;
  if (inst.UsingPseudoGTID) return 'Pseudo-GTID';
  return 'file:pos';
}

export function shortVersion(inst) {
  return (inst.Version || '').replace(/-log$/, '');
}

export function downtimeText(inst) {
  if (!inst.IsDowntimed) return '';
  const until = inst.DowntimeEndTimestamp ? ` until ${inst.DowntimeEndTimestamp}` : '';
  return `downtimed${until} (${inst.DowntimeOwner || '?'}: ${inst.DowntimeReason || ''})`;
}
