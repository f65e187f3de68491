// Pure functions from the server's JSON to what the dashboard shows. No DOM here, so node can test it.
//
// The input is untrusted in shape: any key may be missing or of the wrong type, and a frame may not even hold an
// array. Everything below degrades to "unknown" rather than throwing.

/** The status groups, in the order they are shown. `dead` (is_dead true) comes last, collapsed. */
export const GROUPS = [
  { key: 'needs_attention', title: 'Needs attention' },
  { key: 'active', title: 'Active' },
  { key: 'starting', title: 'Starting' },
  { key: 'done', title: 'Done' },
  { key: 'other', title: 'Other' },
  { key: 'dead', title: 'Dead' },
];

const KNOWN_STATUSES = new Set(['needs_attention', 'active', 'starting', 'done']);

const STATUS_LABELS = {
  needs_attention: 'Needs attention',
  active: 'Working',
  starting: 'Starting',
  done: 'Done',
};

const AGENT_LABELS = { claude: 'Claude', codex: 'Codex' };

/** A string, or '' for anything else (numbers are turned into their decimal form: `zellij_pane` may be 5). */
export function str(v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return '';
}

/** A finite number, or null. */
export function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Milliseconds since the epoch of an RFC 3339 string, or null. */
export function parseTime(v) {
  if (typeof v !== 'string' || v === '') return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

/** The last component of a path (POSIX or Windows), ignoring trailing separators. */
export function basename(path) {
  const trimmed = str(path).replace(/[/\\]+$/, '');
  if (trimmed === '') return str(path) ? '/' : '';
  const parts = trimmed.split(/[/\\]/);
  return parts[parts.length - 1] || trimmed;
}

/** `124388` → `124k`, `18420` → `18.4k`, `1000000` → `1M`. */
export function formatTokens(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '?';
  const abs = Math.abs(n);
  const trim = (s) => s.replace(/\.0$/, '');
  if (abs < 1000) return String(Math.round(n));
  if (abs < 10_000) return `${trim((n / 1000).toFixed(1))}k`;
  if (abs < 1_000_000) return `${Math.round(n / 1000)}k`;
  return `${trim((n / 1_000_000).toFixed(1))}M`;
}

/** A duration in ms as `45s`, `3m 07s`, `2h 05m`, `4d 3h`. Negative durations (clock skew) read as `0s`. */
export function formatDuration(ms) {
  if (ms === null || !Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

/** `3s ago`, `2m ago`, … for the "last update" line. */
export function formatAgo(ms) {
  if (ms === null || !Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.floor(m / 60);
  return h < 24 ? `${h}h ago` : `${Math.floor(h / 24)}d ago`;
}

/** A human label for a status value: known ones are named, others are shown as they are (underscores → spaces). */
export function statusLabel(status) {
  if (STATUS_LABELS[status]) return STATUS_LABELS[status];
  if (!status) return 'Unknown';
  const s = status.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `Claude`, `Codex`, or the raw value (`?` when there is none). */
export function agentLabel(agent) {
  return AGENT_LABELS[agent] ?? (agent || '?');
}

/** The context usage, made safe; null when the session has none (or it is not an object). */
/** What each `window_source` means on a card; the inferred ones mark the percentage as an estimate. */
export const WINDOW_SOURCES = {
  override: { label: 'window set by AMC_CONTEXT_WINDOW', inferred: false },
  model_setting: { label: 'window from the selected [1m] model', inferred: false },
  native_model: { label: 'window of a native 1M model', inferred: false },
  agent_reported: { label: 'window reported by the agent', inferred: false },
  observed_over_200k: { label: 'window inferred: a context above 200K was seen', inferred: true },
  default: { label: 'window inferred: nothing states it, default size', inferred: true },
};

export function normalizeContext(cu, inferred) {
  if (!cu || typeof cu !== 'object' || Array.isArray(cu)) return null;
  // A server that reports where the window came from decides "estimated" by that; an older one by
  // `context_window_inferred`.
  const source = Object.hasOwn(WINDOW_SOURCES, str(cu.window_source)) ? str(cu.window_source) : '';
  const windowTokens = num(cu.window_tokens);
  const window = windowTokens !== null && windowTokens > 0 ? windowTokens : null;
  const current = num(cu.current_tokens);
  let percent = num(cu.percent);
  if (percent === null && current !== null && window !== null) percent = (current / window) * 100;
  if (current === null && cu.compacted === true) percent = null; // unknown until the next reply: no bar
  if (percent !== null) percent = Math.min(100, Math.max(0, percent));
  return {
    current,
    window,
    percent,
    model: str(cu.model),
    compacted: cu.compacted === true,
    estimated: source ? WINDOW_SOURCES[source].inferred : inferred === true,
    windowSource: source,
    windowSourceLabel: source ? WINDOW_SOURCES[source].label : '',
    updatedAt: parseTime(cu.updated_at),
  };
}

/**
 * The session's spending: `{cost: {usd, source}|null, burn: {tokensPerMinute, usdPerHour}|null,
 * forecast: {turnsLeft, minutesLeft, threshold}|null, history: [tokens…]}` (absent parts null or empty).
 */
export function normalizeSpend(raw) {
  const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : null);
  const c = obj(raw.cost);
  const b = obj(raw.burn_rate);
  const f = obj(raw.compaction_forecast);
  return {
    cost: c ? { usd: num(c.usd), source: str(c.source), tokens: num(c.tokens) } : null,
    burn: b ? { tokensPerMinute: num(b.tokens_per_minute), usdPerHour: num(b.usd_per_hour) } : null,
    forecast: f && f.forecast === true
      ? { turnsLeft: num(f.turns_left), minutesLeft: num(f.minutes_left), threshold: num(f.threshold_tokens) }
      : null,
    history: Array.isArray(raw.context_history)
      ? raw.context_history.map((p) => num(p && p.tokens)).filter((n) => n !== null)
      : [],
  };
}

/** One rate-limit window of a session's `rate_limits`, or null when unusable. */
function normalizeLimit(l) {
  if (!l || typeof l !== 'object') return null;
  const used = num(l.used_percent);
  if (used === null || !str(l.name)) return null;
  const resets = num(l.resets_at);
  return {
    agent: str(l.agent),
    name: str(l.name),
    windowMinutes: num(l.window_minutes),
    usedPercent: Math.min(100, Math.max(0, used)),
    resetsAt: resets === null ? null : resets * 1000,
    observedAt: parseTime(l.observed_at),
    expired: l.expired === true,
  };
}

/** The newest report of every (agent, window) over the sessions' rate limits (one account per agent), sorted. */
export function accountLimits(sessions) {
  const newest = new Map();
  for (const s of sessions) {
    for (const l of s.rateLimits || []) {
      const key = `${l.agent} ${l.name}`;
      const kept = newest.get(key);
      if (!kept || (l.observedAt ?? 0) > (kept.observedAt ?? 0)) newest.set(key, l);
    }
  }
  return [...newest.values()].sort((a, b) => (a.agent + a.name < b.agent + b.name ? -1 : 1));
}

const LIMIT_LABELS = { five_hour: '5h', seven_day: '7d', primary: '5h', secondary: 'week' };

/** A rate-limit window's short label: "claude 5h", "codex week" (a known window length wins over the name). */
export function limitLabel(l) {
  const byLength = l.windowMinutes === 300 ? '5h' : l.windowMinutes === 10080 ? 'week' : '';
  return `${l.agent} ${byLength || LIMIT_LABELS[l.name] || l.name}`;
}

/** The SVG polyline points of a sparkline of `values` in a `width`×`height` box ('' for fewer than two values). */
export function sparkline(values, width, height) {
  if (values.length < 2) return '';
  const max = Math.max(...values);
  const min = Math.min(0, ...values);
  const span = max - min || 1;
  const step = width / (values.length - 1);
  return values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - ((v - min) / span) * height).toFixed(1)}`)
    .join(' ');
}

/** A US-dollar amount for a card: "$0.42", "$12.3", "<$0.01". */
export function formatUsd(usd) {
  if (usd === null) return '';
  if (usd > 0 && usd < 0.01) return '<$0.01';
  return usd >= 100 ? `$${Math.round(usd)}` : `$${usd.toFixed(2)}`;
}

/** The pending questions, made safe: only the parts that can be shown. */
export function normalizeQuestions(qs) {
  if (!Array.isArray(qs)) return [];
  const out = [];
  for (const q of qs) {
    if (!q || typeof q !== 'object') continue;
    const options = Array.isArray(q.options)
      ? q.options
          .map((o) => (o && typeof o === 'object' ? { label: str(o.label), description: str(o.description) } : { label: str(o), description: '' }))
          .filter((o) => o.label || o.description)
      : [];
    const question = str(q.question);
    if (!question && options.length === 0) continue;
    out.push({ header: str(q.header), question, multiSelect: q.multiSelect === true, options });
  }
  return out;
}

const ATTENTION_LABELS = { permission: 'Permission', question: 'Question', elicitation: 'Input requested' };

/**
 * The session's `attention` object → `{kind, label, text}`, or null when nothing is held (absent, null, not an
 * object). `text` is "<tool>: <input summary>" for a tool, else the message.
 */
export function normalizeAttention(raw) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const kind = str(raw.kind);
  const tool = str(raw.tool_name);
  const summary = str(raw.tool_input_summary);
  const message = str(raw.message);
  const text = tool && tool !== 'AskUserQuestion' ? (summary ? `${tool}: ${summary}` : tool) : message || tool;
  return { kind, label: ATTENTION_LABELS[kind] || 'Waiting', text, since: parseTime(raw.since), requestId: str(raw.request_id) };
}

/**
 * One session object → the view model, or null when it is not an object. `index` keys sessions without an id (so
 * they still render, though their card may be rebuilt when the list shifts).
 */
export function normalizeSession(raw, index = 0) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const id = str(raw.session_id);
  const status = str(raw.status);
  const dead = raw.is_dead === true;
  const group = dead ? 'dead' : KNOWN_STATUSES.has(status) ? status : 'other';
  const projectPath = str(raw.project_dir) || str(raw.cwd);
  const agent = str(raw.agent);
  const context = normalizeContext(raw.context_usage, raw.context_window_inferred);
  return {
    key: id || `(no session id #${index})`,
    id,
    status,
    statusLabel: statusLabel(status),
    group,
    dead,
    deadReason: str(raw.liveness_reason),
    agent,
    agentLabel: agentLabel(agent),
    projectPath,
    project: basename(projectPath) || '(no project)',
    cwd: str(raw.cwd),
    since: parseTime(raw.last_event_at) ?? parseTime(raw.started_at),
    startedAt: parseTime(raw.started_at),
    lastEvent: str(raw.last_event),
    zellijSession: str(raw.zellij_session),
    zellijPane: str(raw.zellij_pane),
    model: str(raw.model) || (context ? context.model : ''),
    preview: str(raw.last_message_preview),
    questions: normalizeQuestions(raw.pending_questions),
    attention: normalizeAttention(raw.attention),
    subagents: Array.isArray(raw.running_subagents) ? raw.running_subagents.length : 0,
    statusReason: str(raw.status_reason),
    remoteApproval: raw.remote_approval === true,
    host: str(raw.host),
    hostUnreachable: raw.host_unreachable === true,
    context,
    spend: normalizeSpend(raw),
    rateLimits: Array.isArray(raw.rate_limits) ? raw.rate_limits.map(normalizeLimit).filter(Boolean) : [],
  };
}

/** Compares session keys the way the groups are ordered: by session id, plain code-unit order (stable, no locale). */
export function byKey(a, b) {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * A state frame → `{sessions, serverTime, revision, instanceId}`. Throws only on JSON syntax errors; every other
 * oddity (no `sessions`, non-objects in it, duplicate ids) is absorbed.
 */
export function parseState(text) {
  const data = JSON.parse(text);
  const obj = data && typeof data === 'object' && !Array.isArray(data) ? data : {};
  const list = Array.isArray(obj.sessions) ? obj.sessions : [];
  const seen = new Set();
  const sessions = [];
  list.forEach((raw, i) => {
    const s = normalizeSession(raw, i);
    if (!s || seen.has(s.key)) return;
    seen.add(s.key);
    sessions.push(s);
  });
  sessions.sort(byKey);
  return {
    sessions,
    serverTime: parseTime(obj.server_time),
    revision: num(obj.revision),
    instanceId: str(obj.instance_id),
    // The server has not finished reading the sessions yet (its first collection pass): the list is not known.
    warming: obj.warming === true,
  };
}

/**
 * An `event: delta` frame of `/api/stream?deltas=1` → `{baseRevision, revision, instanceId, serverTime, upserted,
 * removed}` (`upserted` as view models, `removed` as session ids). Throws only on JSON syntax errors.
 */
export function parseDelta(text) {
  const data = JSON.parse(text);
  const obj = data && typeof data === 'object' && !Array.isArray(data) ? data : {};
  const upserted = (Array.isArray(obj.upserted) ? obj.upserted : []).map((raw, i) => normalizeSession(raw, i)).filter(Boolean);
  return {
    baseRevision: num(obj.base_revision),
    revision: num(obj.revision),
    instanceId: str(obj.instance_id),
    serverTime: parseTime(obj.server_time),
    upserted,
    removed: (Array.isArray(obj.removed) ? obj.removed : []).map(str),
  };
}

/**
 * Applies a parsed delta to the sessions of the state it was made against: the result is what `parseState` gives
 * for the new state (sessions replaced or added by key, removed ones dropped, sorted by key).
 */
export function applyDelta(sessions, delta) {
  const byId = new Map(sessions.map((s) => [s.key, s]));
  for (const id of delta.removed) byId.delete(id);
  for (const s of delta.upserted) byId.set(s.key, s);
  return [...byId.values()].sort(byKey);
}

/**
 * The filters: `project` is a full path ('' = all), `agent` a raw agent value ('' = all), `host` a fleet host name
 * ('' = all), `query` free text.
 */
export function matches(s, { project = '', agent = '', host = '', query = '' } = {}) {
  if (project && s.projectPath !== project) return false;
  if (agent && s.agent !== agent) return false;
  if (host && s.host !== host) return false;
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return (
    s.project.toLowerCase().includes(q) ||
    s.projectPath.toLowerCase().includes(q) ||
    s.id.toLowerCase().includes(q)
  );
}

/** The sessions split into the groups, in display order: `Map(groupKey → sessions[])`. */
export function groupSessions(sessions) {
  const groups = new Map(GROUPS.map((g) => [g.key, []]));
  for (const s of sessions) groups.get(s.group).push(s);
  return groups;
}

/**
 * The project choices for the filter: `[{value: path, label}]` sorted by label; two projects with the same basename
 * are told apart by their parent directory.
 */
export function projectOptions(sessions) {
  const paths = [...new Set(sessions.map((s) => s.projectPath).filter(Boolean))];
  const counts = new Map();
  for (const p of paths) counts.set(basename(p), (counts.get(basename(p)) ?? 0) + 1);
  return paths
    .map((p) => {
      const name = basename(p);
      const parent = basename(p.replace(/[/\\]+$/, '').replace(/[/\\][^/\\]*$/, ''));
      return { value: p, label: counts.get(name) > 1 && parent ? `${name} (${parent})` : name };
    })
    .sort((a, b) => a.label.localeCompare(b.label) || (a.value < b.value ? -1 : 1));
}

/** The host choices for the filter (a fleet hub's hosts): `[{value, label}]`, sorted. */
export function hostOptions(sessions) {
  return [...new Set(sessions.map((s) => s.host).filter(Boolean))].sort().map((h) => ({ value: h, label: h }));
}

/** The agent choices for the filter: `[{value, label}]`, Claude and Codex first. */
export function agentOptions(sessions) {
  const agents = [...new Set(sessions.map((s) => s.agent).filter(Boolean))];
  const rank = (a) => (a === 'claude' ? 0 : a === 'codex' ? 1 : 2);
  return agents.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((a) => ({ value: a, label: agentLabel(a) }));
}

/** The severity of a context fill, for the bar's colour. */
export function contextLevel(percent) {
  if (percent === null) return 'unknown';
  if (percent >= 80) return 'high';
  if (percent >= 60) return 'mid';
  return 'low';
}
