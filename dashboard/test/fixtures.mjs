// Real-looking amc state for the dashboard test and the screenshot: session files, the transcripts their context
// bars come from, and a fake `zellij` printing `list-sessions --no-formatting` exactly as Zellij does.
//
// Usage: node fixtures.mjs <dir>   (writes <dir>/home/..., <dir>/data/sessions/*.json, <dir>/zellij and
// <dir>/sessions.json, the sessions by role)

import { mkdirSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

const ago = (seconds) => new Date(Date.now() - seconds * 1000).toISOString();

/** Zellij's `list-sessions --no-formatting` output; `names` are the live sessions. No suffix → a trailing space. */
export function zellijScript(names) {
  const lines = names.map((n, i) => (i === 0 ? `${n} [Created 2h 3m ago] (current)` : `${n} [Created 5m 1s ago] `));
  return `#!/bin/sh\n# A stand-in for zellij: only \`list-sessions --no-formatting\` is asked.\nprintf '${lines.join('\\n')}\\n'\n`;
}

/** Writes the fake zellij atomically (rename), so a running `amc serve` never sees half a script. */
export function writeZellij(dir, names) {
  const tmp = join(dir, 'zellij.tmp');
  writeFileSync(tmp, zellijScript(names));
  chmodSync(tmp, 0o755);
  renameSync(tmp, join(dir, 'zellij'));
}

/** Writes one session file atomically, as the hook does. */
export function writeSession(dir, session) {
  const sessions = join(dir, 'data', 'sessions');
  mkdirSync(sessions, { recursive: true });
  const tmp = join(sessions, `.${session.session_id}.tmp`);
  writeFileSync(tmp, JSON.stringify(session, null, 2));
  renameSync(tmp, join(sessions, `${session.session_id}.json`));
}

const encode = (cwd) => cwd.replace(/[^a-zA-Z0-9]/g, '-');

/** A Claude transcript whose newest assistant line gives `tokens` of context on `model`. */
function claudeTranscript(home, s, tokens, model, { compacted = false, costUSD = null } = {}) {
  const path = join(home, '.claude', 'projects', encode(s.cwd), `${s.session_id}.jsonl`);
  mkdirSync(dirname(path), { recursive: true });
  const ts = ago(40);
  const lines = [
    { type: 'user', sessionId: s.session_id, cwd: s.cwd, timestamp: ago(120), uuid: 'u1',
      message: { role: 'user', content: 'Carry on with the plan.' } },
    { type: 'assistant', sessionId: s.session_id, cwd: s.cwd, timestamp: ts, uuid: 'a1', isSidechain: false,
      message: { id: 'msg_01', role: 'assistant', model, content: [{ type: 'text', text: s.last_message_preview ?? '' }],
        usage: { input_tokens: 6, cache_creation_input_tokens: 1_210, cache_read_input_tokens: tokens - 1_216,
          output_tokens: 412 } } },
  ];
  if (costUSD !== null) {
    // Claude Code 2.1.331's `cost-state` line (cumulative for the session).
    lines.push({ type: 'cost-state', sessionId: s.session_id, totalCostUSD: costUSD, totalAPIDuration: 52_000,
      totalAPIDurationWithoutRetries: 51_000, totalToolDuration: 9_000, totalLinesAdded: 120, totalLinesRemoved: 14,
      totalDuration: 600_000, startTime: Date.now() - 600_000, modelUsage: { [model]: { inputTokens: 9_000,
        outputTokens: 14_000, cacheReadInputTokens: 2_100_000, cacheCreationInputTokens: 160_000,
        webSearchRequests: 0, costUSD } } });
  }
  if (compacted) {
    lines.push({ type: 'system', subtype: 'compact_boundary', sessionId: s.session_id, timestamp: ago(20),
      isSidechain: false, compactMetadata: { trigger: 'auto', preTokens: tokens, postTokens: 18_420 } });
  }
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
}

/** A Codex rollout with a token_count of `tokens` against Codex's 258 400 window. */
function codexRollout(home, s, tokens) {
  const path = join(home, '.codex', 'sessions', '2026', '03', '02', `rollout-2026-03-02T09-14-07-${s.session_id}.jsonl`);
  mkdirSync(dirname(path), { recursive: true });
  const usage = { input_tokens: tokens - 900, cached_input_tokens: tokens - 5_000, output_tokens: 900,
    reasoning_output_tokens: 300, total_tokens: tokens };
  // Codex's own rate_limits shape (0.104 … 0.169), resetting in 2 hours and in 3 days.
  const now = Math.floor(Date.now() / 1000);
  const rateLimits = { limit_id: 'codex', limit_name: null,
    primary: { used_percent: 15.0, window_minutes: 300, resets_at: now + 7_200 },
    secondary: { used_percent: 72.0, window_minutes: 10080, resets_at: now + 259_200 },
    credits: { has_credits: false, unlimited: false, balance: null } };
  // Three earlier turns, the context growing by 10 000 each, for the burn rate, the forecast and the sparkline.
  const earlier = [100_000, 110_000, 120_000].map((total, i) => {
    const u = { input_tokens: total - 900, cached_input_tokens: total - 5_000, output_tokens: 900,
      reasoning_output_tokens: 300, total_tokens: total };
    return { timestamp: ago(360 - i * 90), type: 'event_msg', payload: { type: 'token_count', info: {
      total_token_usage: u, last_token_usage: u, model_context_window: 258_400 }, rate_limits: rateLimits } };
  });
  const lines = [
    { timestamp: ago(900), type: 'session_meta', payload: { id: s.session_id, timestamp: ago(900), cwd: s.cwd,
      originator: 'codex_cli_rs', cli_version: '0.169.0', source: 'cli', model_provider: 'openai' } },
    { timestamp: ago(880), type: 'turn_context', payload: { cwd: s.cwd, model: 'gpt-5.2-codex' } },
    ...earlier,
    { timestamp: ago(60), type: 'event_msg', payload: { type: 'token_count', info: { total_token_usage: usage,
      last_token_usage: usage, model_context_window: 258_400 }, rate_limits: rateLimits } },
  ];
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
}

/** The sessions (without transcripts). Ids sort in the order the groups show them. */
export function sessions(home) {
  const base = (id, agent, project, extra) => ({
    session_id: id, agent, project_dir: project, cwd: project, zellij_session: 'work',
    started_at: ago(3_600), ...extra,
  });
  return {
    attention: base('7f3c9a1e-5b2d-4c8e-9a61-2d4e8f0b1c37', 'claude', '/home/dana/src/payments-api', {
      status: 'needs_attention', zellij_pane: '3', last_event: 'PreToolUse', last_event_at: ago(74),
      model: 'claude-opus-4-6',
      last_message_preview: 'The migration adds a NOT NULL column to `invoices`. I can backfill in batches or lock the table.',
      pending_questions: [{
        header: 'Migration', multiSelect: false,
        question: 'How should the invoices.currency backfill run on production?',
        options: [
          { label: 'Batched backfill', description: '10k rows per transaction, no table lock (≈12 min)' },
          { label: 'Single transaction', description: 'Locks invoices for ~40 s during deploy' },
          { label: 'Skip for now', description: 'Ship the column nullable and backfill later' },
        ],
      }],
    }),
    permission: base('3e9f2b64-0c1a-4d7e-b5f8-91a2c3d4e5f6', 'claude', '/home/dana/src/api-gateway', {
      status: 'needs_attention', zellij_pane: '6', last_event: 'PermissionRequest', last_event_at: ago(23),
      model: 'claude-sonnet-4-5',
      attention: {
        kind: 'permission', since: ago(23), event: 'PermissionRequest', tool_name: 'Bash',
        tool_input_summary: 'kubectl rollout restart deploy/api-gateway -n staging',
      },
      last_message_preview: 'Claude needs your permission to use Bash: `kubectl rollout restart deploy/api-gateway -n staging`',
    }),
    active: base('a41d0c77-93e2-4f1b-8d0a-6c5b2e9f7a10', 'claude', '/home/dana/src/web-frontend', {
      status: 'active', zellij_pane: 5, last_event: 'PostToolUse', last_event_at: ago(12),
      model: 'claude-sonnet-4-5',
      running_subagents: [
        { agent_id: 'a1b2c3d4e5f607182', agent_type: 'general-purpose', since: ago(40) },
        { agent_id: 'b2c3d4e5f60718293', agent_type: 'Explore', since: ago(30) },
      ],
      last_message_preview: 'Running the Playwright suite after splitting CheckoutForm into three steps…',
    }),
    codex: base('019c8a4d-8f45-7010-8b5d-7fad920aa6f9', 'codex', '/home/dana/src/infra/terraform-modules', {
      status: 'active', zellij_pane: '7', last_event: 'agent_message', last_event_at: ago(31),
      last_message_preview: 'Planning: 3 to add, 1 to change, 0 to destroy. Reviewing the IAM policy diff before apply.',
    }),
    starting: base('c2e8f4a0-1b3d-4e5f-a6b7-c8d9e0f1a2b3', 'claude', '/home/dana/src/data-pipeline', {
      status: 'starting', zellij_pane: '9', last_event: 'SessionStart', last_event_at: ago(6),
    }),
    done: base('e9b1d2c3-4a5f-4b6c-8d7e-9f0a1b2c3d4e', 'claude', '/home/dana/src/docs-site', {
      status: 'done', zellij_pane: '4', zellij_session: 'other', last_event: 'Stop', last_event_at: ago(1_260),
      model: 'claude-haiku-4-5',
      last_message_preview: 'Done: fixed 14 broken links and regenerated the sitemap. `npm run build` passes.',
    }),
    dead: base('0d5e6f7a-8b9c-4d0e-a1f2-b3c4d5e6f7a8', 'claude', '/home/dana/src/ml-experiments', {
      status: 'active', zellij_pane: '2', zellij_session: 'gpu-box', last_event: 'PostToolUse',
      last_event_at: ago(5_400), model: 'claude-opus-4-6',
      last_message_preview: 'Epoch 14/40 — val loss 0.412. Waiting for the next checkpoint.',
    }),
    html: base('5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e', 'claude',
      '/home/dana/src/very/deeply/nested/monorepo/packages/frontend/apps/admin-console-with-a-rather-long-name', {
      status: 'active', zellij_pane: '11', last_event: 'Notification', last_event_at: ago(240),
      last_message_preview: 'Sanitising user input: <script>alert(1)</script> must render as text, '
        + 'and this preview keeps going to check that a very long line wraps or ends with an ellipsis '
        + 'instead of pushing the card wider than the screen on a phone.',
    }),
  };
}

/** Writes everything under `dir`; returns the sessions. */
export function writeFixtures(dir) {
  const home = join(dir, 'home');
  const all = sessions(home);
  all.attention.transcript_path = claudeTranscript(home, all.attention, 124_388, 'claude-opus-4-6', { costUSD: 1.93 });
  all.permission.transcript_path = claudeTranscript(home, all.permission, 47_903, 'claude-sonnet-4-5');
  all.active.transcript_path = claudeTranscript(home, all.active, 90_112, 'claude-sonnet-4-5');
  all.done.transcript_path = claudeTranscript(home, all.done, 161_940, 'claude-haiku-4-5', { compacted: true });
  all.dead.transcript_path = claudeTranscript(home, all.dead, 58_300, 'claude-opus-4-6');
  all.html.transcript_path = claudeTranscript(home, all.html, 171_002, 'claude-opus-4-6');
  all.codex.transcript_path = codexRollout(home, all.codex, 131_780);
  for (const s of Object.values(all)) writeSession(dir, s);
  writeZellij(dir, ['work', 'other']);
  // What was written, for the test to compare against and rewrite.
  writeFileSync(join(dir, 'sessions.json'), JSON.stringify(all, null, 2));
  return all;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.argv[2]) {
    console.error('usage: node fixtures.mjs <dir>');
    process.exit(2);
  }
  writeFixtures(process.argv[2]);
}
