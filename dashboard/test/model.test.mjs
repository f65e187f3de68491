// Unit tests of dashboard/model.js (no browser): bad input never throws, and the view model is what the cards show.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  accountLimits,
  agentOptions,
  formatUsd,
  limitLabel,
  sparkline,
  applyDelta,
  basename,
  contextLevel,
  formatDuration,
  formatTokens,
  hostOptions,
  groupSessions,
  matches,
  normalizeAttention,
  normalizeSession,
  parseDelta,
  parseState,
  projectOptions,
} from '../model.js';

test('basename of POSIX and Windows paths, with trailing separators', () => {
  assert.equal(basename('/home/dana/src/payments-api'), 'payments-api');
  assert.equal(basename('/home/dana/src/payments-api/'), 'payments-api');
  assert.equal(basename('C:\\git\\cc-plus'), 'cc-plus');
  assert.equal(basename('/'), '/');
  assert.equal(basename(''), '');
  assert.equal(basename(null), '');
  assert.equal(basename(42), '42');
});

test('token and duration formats', () => {
  assert.equal(formatTokens(0), '0');
  assert.equal(formatTokens(999), '999');
  assert.equal(formatTokens(1_216), '1.2k');
  assert.equal(formatTokens(18_420), '18k');
  assert.equal(formatTokens(124_388), '124k');
  assert.equal(formatTokens(200_000), '200k');
  assert.equal(formatTokens(1_000_000), '1M');
  assert.equal(formatTokens(258_400), '258k');
  assert.equal(formatTokens(null), '?');
  assert.equal(formatDuration(-5_000), '0s');
  assert.equal(formatDuration(45_900), '45s');
  assert.equal(formatDuration(74_000), '1m 14s');
  assert.equal(formatDuration(2 * 3600_000 + 3 * 60_000), '2h 03m');
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3600_000), '3d 4h');
  assert.equal(formatDuration(NaN), '');
});

test('a well-formed session becomes the card view model', () => {
  const s = normalizeSession({
    session_id: 'a41d0c77-93e2-4f1b-8d0a-6c5b2e9f7a10',
    status: 'active',
    agent: 'claude',
    project_dir: '/home/dana/src/web-frontend',
    cwd: '/home/dana/src/web-frontend/packages/ui',
    zellij_session: 'work',
    zellij_pane: 5,
    last_event_at: '2026-03-02T09:14:07Z',
    context_usage: { current_tokens: 90_112, window_tokens: 200_000, percent: 45.1, model: 'claude-sonnet-4-5', compacted: false },
    context_window_inferred: true,
  });
  assert.equal(s.group, 'active');
  assert.equal(s.project, 'web-frontend');
  assert.equal(s.zellijPane, '5');
  assert.equal(s.agentLabel, 'Claude');
  assert.equal(s.since, Date.parse('2026-03-02T09:14:07Z'));
  assert.deepEqual(
    { current: s.context.current, window: s.context.window, percent: s.context.percent, estimated: s.context.estimated },
    { current: 90_112, window: 200_000, percent: 45.1, estimated: true },
  );
});

test('missing and wrongly typed fields never throw and read as unknown', () => {
  const weird = [
    {},
    { session_id: 7, status: 42, agent: ['x'], project_dir: { a: 1 }, cwd: null, context_usage: 'lots' },
    { session_id: 'x', pending_questions: { q: 1 }, last_event_at: 'yesterday', is_dead: 'yes', zellij_pane: NaN },
    { session_id: 'y', context_usage: { current_tokens: '5', window_tokens: 0, percent: 'high' } },
    { session_id: 'z', context_usage: { current_tokens: null, window_tokens: 200_000, compacted: true, percent: 0 } },
    { session_id: 'q', pending_questions: [null, 'text', { question: 'Go?', options: [null, 'A', { label: 5 }] }] },
  ];
  for (const raw of weird) {
    const s = normalizeSession(raw, 3);
    assert.ok(s, JSON.stringify(raw));
    assert.equal(typeof s.key, 'string');
    assert.equal(typeof s.project, 'string');
    assert.ok(Array.isArray(s.questions));
  }
  assert.equal(normalizeSession({}, 3).key, '(no session id #3)');
  assert.equal(normalizeSession({ status: 42 }).group, 'other');
  assert.equal(normalizeSession({ is_dead: 'yes', status: 'active' }).group, 'active', 'only is_dead === true is dead');
  assert.equal(normalizeSession({ session_id: 'y', context_usage: { window_tokens: 0, percent: 'high' } }).context.percent, null);
  const compacted = normalizeSession(weird[4]).context;
  assert.equal(compacted.percent, null, 'compacted with unknown size: no bar');
  assert.equal(compacted.compacted, true);
  const q = normalizeSession(weird[5]).questions;
  assert.deepEqual(q, [{ header: '', question: 'Go?', multiSelect: false, options: [{ label: 'A', description: '' }, { label: '5', description: '' }] }]);
  for (const bad of [null, 'x', 3, [], [1, 2]]) assert.equal(normalizeSession(bad), null);
  assert.equal(normalizeSession({ context_usage: { percent: 140 } }).context.percent, 100);
});

test('a frame is parsed leniently: no sessions array, non-objects, duplicate ids', () => {
  assert.deepEqual(parseState('{}').sessions, []);
  assert.deepEqual(parseState('[]').sessions, []);
  assert.deepEqual(parseState('{"sessions": "nope"}').sessions, []);
  const st = parseState(
    JSON.stringify({
      sessions: [{ session_id: 'b' }, null, 5, { session_id: 'a' }, { session_id: 'b', status: 'done' }],
      revision: 12,
      instance_id: 'i-1',
      server_time: '2026-03-02T09:14:07Z',
    }),
  );
  assert.deepEqual(st.sessions.map((s) => s.key), ['a', 'b'], 'sorted by id, first of a duplicate kept');
  assert.equal(st.revision, 12);
  assert.equal(st.instanceId, 'i-1');
  assert.throws(() => parseState('not json'));
});

test('groups come in display order, dead apart, unknown statuses in other', () => {
  const sessions = [
    { session_id: 'd', status: 'done' },
    { session_id: 'n', status: 'needs_attention' },
    { session_id: 'x', status: 'active', is_dead: true },
    { session_id: 'w', status: 'waiting_for_godot' },
    { session_id: 's', status: 'starting' },
    { session_id: 'a', status: 'active' },
  ].map((r) => normalizeSession(r));
  const groups = groupSessions(sessions);
  assert.deepEqual([...groups.keys()], ['needs_attention', 'active', 'starting', 'done', 'other', 'dead']);
  assert.deepEqual(
    [...groups].map(([k, v]) => [k, v.map((s) => s.key)]),
    [['needs_attention', ['n']], ['active', ['a']], ['starting', ['s']], ['done', ['d']], ['other', ['w']], ['dead', ['x']]],
  );
});

test('filters: project path, agent, and search over project and session id', () => {
  const s = normalizeSession({ session_id: '7f3c9a1e-5b2d', agent: 'codex', project_dir: '/src/Payments-API' });
  assert.ok(matches(s, {}));
  assert.ok(matches(s, { query: 'payments' }));
  assert.ok(matches(s, { query: '  7F3C ' }));
  assert.ok(!matches(s, { query: 'frontend' }));
  assert.ok(matches(s, { agent: 'codex', project: '/src/Payments-API' }));
  assert.ok(!matches(s, { agent: 'claude' }));
  assert.ok(!matches(s, { project: '/src/other' }));
});

test('filter choices: same-named projects are told apart, Claude and Codex first', () => {
  const sessions = [
    { session_id: '1', agent: 'gemini', project_dir: '/a/app' },
    { session_id: '2', agent: 'codex', project_dir: '/b/app' },
    { session_id: '3', agent: 'claude', cwd: '/c/zeta' },
    { session_id: '4', agent: 'claude', project_dir: '/c/zeta' },
  ].map((r) => normalizeSession(r));
  assert.deepEqual(projectOptions(sessions).map((o) => o.label), ['app (a)', 'app (b)', 'zeta']);
  assert.deepEqual(agentOptions(sessions).map((o) => o.value), ['claude', 'codex', 'gemini']);
  assert.equal(contextLevel(45), 'low');
  assert.equal(contextLevel(62), 'mid');
  assert.equal(contextLevel(85.5), 'high');
  assert.equal(contextLevel(null), 'unknown');
});

test('window_source decides whether the window is an estimate, and says where it came from', () => {
  const ctx = (window_source, inferred) =>
    normalizeSession({
      session_id: 'w',
      context_usage: { current_tokens: 250_000, window_tokens: 1_000_000, percent: 25, window_source },
      context_window_inferred: inferred,
    }).context;
  for (const [source, estimated] of [
    ['override', false],
    ['model_setting', false],
    ['native_model', false],
    ['agent_reported', false],
    ['observed_over_200k', true],
    ['default', true],
  ]) {
    const c = ctx(source, !estimated);
    assert.equal(c.estimated, estimated, source);
    assert.equal(c.windowSource, source);
    assert.ok(c.windowSourceLabel.length > 0, source);
  }
  // An older server (no window_source) or an unknown name: context_window_inferred decides.
  assert.equal(ctx(undefined, true).estimated, true);
  assert.equal(ctx('something-newer', false).estimated, false);
  assert.equal(ctx('something-newer', false).windowSource, '');
});

test('attention: a tool with its input, a question by its message, junk is nothing held', () => {
  assert.deepEqual(
    normalizeAttention({ kind: 'permission', since: '2026-03-01T10:00:00Z', event: 'PermissionRequest', tool_name: 'Bash', tool_input_summary: 'ls' }),
    { kind: 'permission', label: 'Permission', text: 'Bash: ls', since: Date.parse('2026-03-01T10:00:00Z'), requestId: '' },
  );
  assert.equal(normalizeAttention({ kind: 'permission', request_id: 'r-1' }).requestId, 'r-1');
  const q = normalizeAttention({ kind: 'question', event: 'PreToolUse', tool_name: 'AskUserQuestion', message: 'Which?' });
  assert.equal(q.text, 'Which?');
  assert.equal(q.label, 'Question');
  assert.equal(normalizeAttention({ kind: 'sandbox' }).label, 'Waiting');
  for (const junk of [null, undefined, 'x', [1], 3]) assert.equal(normalizeAttention(junk), null);
  const s = normalizeSession({ session_id: 'a', running_subagents: [{}, {}], status_reason: 'why' });
  assert.equal(s.subagents, 2);
  assert.equal(s.statusReason, 'why');
  assert.equal(normalizeSession({ session_id: 'b', running_subagents: 'x' }).subagents, 0);
});

test('a delta applied to the state it was made against gives the same sessions as the new state itself', () => {
  const before = {
    sessions: [
      { session_id: 'a', status: 'active', agent: 'claude', project_dir: '/p/a' },
      { session_id: 'b', status: 'active', agent: 'codex', project_dir: '/p/b' },
      { session_id: 'c', status: 'done', agent: 'claude', project_dir: '/p/c' },
    ],
    revision: 7,
    instance_id: 'i1',
  };
  const afterSessions = [
    { session_id: 'a', status: 'needs_attention', agent: 'claude', project_dir: '/p/a' },
    { session_id: 'c', status: 'done', agent: 'claude', project_dir: '/p/c' },
    { session_id: 'd', status: 'starting', agent: 'codex', project_dir: '/p/d' },
  ];
  const delta = parseDelta(
    JSON.stringify({
      base_revision: 7,
      revision: 8,
      instance_id: 'i1',
      server_time: '2026-03-01T10:00:00.000000+00:00',
      upserted: [afterSessions[0], afterSessions[2]],
      removed: ['b'],
    }),
  );
  assert.deepEqual([delta.baseRevision, delta.revision, delta.instanceId, delta.removed], [7, 8, 'i1', ['b']]);
  const applied = applyDelta(parseState(JSON.stringify(before)).sessions, delta);
  assert.deepEqual(applied, parseState(JSON.stringify({ sessions: afterSessions, revision: 8 })).sessions);
  assert.deepEqual(applied.map((s) => [s.key, s.group]), [['a', 'needs_attention'], ['c', 'done'], ['d', 'starting']]);
});

test('a malformed delta applies as nothing rather than throwing', () => {
  const state = parseState(JSON.stringify({ sessions: [{ session_id: 'a', status: 'active' }] })).sessions;
  const delta = parseDelta(JSON.stringify({ upserted: 'nope', removed: [null, 5] }));
  assert.equal(delta.baseRevision, null);
  assert.deepEqual(applyDelta(state, delta).map((s) => s.key), ['a']);
  assert.throws(() => parseDelta('{not json'));
});

test('a warming state says so', () => {
  assert.equal(parseState(JSON.stringify({ sessions: [], warming: true })).warming, true);
  assert.equal(parseState(JSON.stringify({ sessions: [] })).warming, false);
});

test('spending, rate limits and the sparkline from the session JSON', () => {
  const s = normalizeSession({
    session_id: 'a', agent: 'codex',
    cost: { usd: 0.4213, source: 'price_table', updated_at: '2026-12-05T10:00:00Z', tokens: 1200 },
    burn_rate: { tokens_per_minute: 1500, usd_per_hour: 2.5, window_minutes: 15 },
    compaction_forecast: { forecast: true, threshold_tokens: 232560, tokens_per_turn: 5000, turns_left: 12, minutes_left: null },
    context_history: [{ at: 'x', tokens: 10 }, { tokens: 'bad' }, { tokens: 30 }],
    rate_limits: [
      { agent: 'codex', name: 'primary', window_minutes: 300, used_percent: 150, resets_at: 1780638395, observed_at: '2026-12-05T10:00:00Z' },
      { agent: 'codex', name: 'broken' },
    ],
  });
  assert.deepEqual(s.spend.cost, { usd: 0.4213, source: 'price_table', tokens: 1200 });
  assert.equal(s.spend.forecast.turnsLeft, 12);
  assert.equal(s.spend.forecast.minutesLeft, null);
  assert.deepEqual(s.spend.history, [10, 30]);
  assert.equal(s.rateLimits.length, 1);
  assert.equal(s.rateLimits[0].usedPercent, 100);
  assert.equal(s.rateLimits[0].resetsAt, 1780638395000);
  assert.equal(limitLabel(s.rateLimits[0]), 'codex 5h');
  // Not a forecast-marked object: no forecast shown.
  assert.equal(normalizeSession({ compaction_forecast: { turns_left: 3 } }).spend.forecast, null);
  assert.deepEqual(normalizeSession({ cost: 'x', rate_limits: 5 }).rateLimits, []);
  assert.equal(formatUsd(0.004), '<$0.01');
  assert.equal(formatUsd(1.234), '$1.23');
  assert.equal(formatUsd(null), '');
});

test('the newest report per account window wins', () => {
  const older = normalizeSession({ rate_limits: [{ agent: 'claude', name: 'five_hour', window_minutes: 300, used_percent: 10, observed_at: '2026-12-05T09:00:00Z' }] });
  const newer = normalizeSession({ rate_limits: [{ agent: 'claude', name: 'five_hour', window_minutes: 300, used_percent: 40, observed_at: '2026-12-05T10:00:00Z' }] });
  const limits = accountLimits([newer, older]);
  assert.equal(limits.length, 1);
  assert.equal(limits[0].usedPercent, 40);
});

test('sparkline points span the box, lowest at the bottom', () => {
  assert.equal(sparkline([], 80, 18), '');
  assert.equal(sparkline([5], 80, 18), '');
  assert.equal(sparkline([0, 50, 100], 80, 18), '0.0,18.0 40.0,9.0 80.0,0.0');
});

test('a fleet hub\'s sessions carry their host, flagged when unreachable, and filter by host', () => {
  const a = normalizeSession({ session_id: 's1', status: 'active', host: 'laptop' });
  const b = normalizeSession({ session_id: 's2', status: 'done', host: 'box', host_unreachable: true });
  const plain = normalizeSession({ session_id: 's3', status: 'done' });
  assert.equal(a.host, 'laptop');
  assert.equal(a.hostUnreachable, false);
  assert.equal(b.hostUnreachable, true);
  assert.equal(plain.host, '');
  assert.deepEqual(hostOptions([a, b, plain]).map((o) => o.value), ['box', 'laptop']);
  assert.equal(matches(a, { host: 'laptop' }), true);
  assert.equal(matches(b, { host: 'laptop' }), false);
  assert.equal(matches(plain, { host: '' }), true);
});
