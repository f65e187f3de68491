// amc dashboard: the live state over SSE (`/api/stream`), rendered by render.js. Plain ES modules, no build step.

import { GROUPS, accountLimits, agentOptions, applyDelta, formatAgo, hostOptions, limitLabel, parseDelta, parseState, projectOptions } from './model.js';
import { Board, formatTimestamp } from './render.js';

/** How long a broken connection shows "reconnecting" before it is called "offline" (retries go on). */
const OFFLINE_AFTER_MS = 10_000;
/** Back-off for re-creating an EventSource the browser gave up on (HTTP error, wrong content type). */
const REOPEN_MIN_MS = 1_000;
const REOPEN_MAX_MS = 30_000;

/**
 * A server started with AMC_TOKEN wants the token on every data request. EventSource cannot set headers, so the page
 * passes it as `access_token` (open the dashboard as `/#access_token=...`; the fragment never reaches a server log).
 */
const accessToken =
  new URLSearchParams(location.hash.slice(1)).get('access_token') ??
  new URLSearchParams(location.search).get('access_token');
const withToken = (path) =>
  accessToken ? `${path}${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(accessToken)}` : path;

const $ = (id) => document.getElementById(id);
const ui = {
  groups: $('groups'),
  empty: $('empty'),
  emptyTitle: $('empty-title'),
  emptyText: $('empty-text'),
  notice: $('notice'),
  summary: $('summary'),
  limits: $('limits'),
  conn: $('conn'),
  connLabel: $('conn-label'),
  connUpdated: $('conn-updated'),
  search: $('search'),
  project: $('filter-project'),
  agent: $('filter-agent'),
  host: $('filter-host'),
  clear: $('clear-filters'),
  announce: $('announce'),
};
const emptyTextDefault = [...ui.emptyText.childNodes].map((n) => n.cloneNode(true));

const board = new Board(ui.groups);

const state = {
  sessions: [],
  revision: null,
  instanceId: '',
  received: false,
  /** The server is still reading the sessions for the first time (its state is an empty placeholder). */
  warming: false,
  /** How many `event: delta` frames were applied (shown to the tests as `data-deltas`). */
  deltas: 0,
  /** Server clock minus ours, so durations are right on a device whose clock is off. */
  clockOffset: 0,
  /** When (our clock) the last state frame arrived. */
  lastUpdate: null,
  lastServerTime: null,
  /** The sessions waiting for the user at the last render, and whether that set is known yet. */
  attentionKeys: new Set(),
  attentionPrimed: false,
};

const filters = readFilters();

/** Now, on the server's clock. */
const serverNow = () => Date.now() + state.clockOffset;

// ---------------------------------------------------------------------------------------------------------------
// Rendering

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    render();
  }, 0);
}

function render() {
  const counts = board.render(state.sessions, filters, serverNow());
  const shown = Object.values(counts).reduce((a, b) => a + b, 0);
  renderFilters();
  renderSummary();
  renderLimits();
  renderEmpty(shown);
  renderTitle();
  document.body.dataset.revision = state.revision === null ? '' : String(state.revision);
}

function renderEmpty(shown) {
  const none = state.received && state.sessions.length === 0;
  const filteredOut = state.sessions.length > 0 && shown === 0;
  ui.empty.hidden = !(none || filteredOut);
  if (none && state.warming) {
    ui.emptyTitle.textContent = 'Reading sessions…';
    ui.emptyText.replaceChildren('amc has just started and is reading the session files and transcripts.');
  } else if (filteredOut) {
    ui.emptyTitle.textContent = 'No sessions match';
    ui.emptyText.replaceChildren('Nothing matches the search and filters. ', clearLink());
  } else if (none) {
    ui.emptyTitle.textContent = 'No sessions';
    ui.emptyText.replaceChildren(...emptyTextDefault.map((n) => n.cloneNode(true)));
  }
}

function clearLink() {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'linkish';
  b.textContent = 'Clear filters';
  b.addEventListener('click', clearFilters);
  return b;
}

/** Totals per group in the top bar (unfiltered), each a link to its group. */
function renderSummary() {
  const totals = new Map(GROUPS.map((g) => [g.key, 0]));
  for (const s of state.sessions) totals.set(s.group, totals.get(s.group) + 1);
  const key = JSON.stringify([...totals]);
  if (ui.summary.dataset.key === key) return;
  ui.summary.dataset.key = key;
  const items = [];
  for (const g of GROUPS) {
    const n = totals.get(g.key);
    if (!n && g.key !== 'needs_attention' && g.key !== 'active') continue;
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `#group-${g.key}`;
    a.className = 'pill';
    a.dataset.group = g.key;
    a.dataset.zero = String(n === 0);
    const count = document.createElement('strong');
    count.textContent = String(n);
    a.append(count, ` ${g.title.toLowerCase()}`);
    a.addEventListener('click', (e) => {
      const target = document.getElementById(`group-${g.key}`);
      if (!target || target.hidden) return;
      e.preventDefault();
      if (target.tagName === 'DETAILS') target.open = true;
      target.scrollIntoView({ behavior: 'smooth', block: 'start' });
      const first = target.querySelector('.card');
      if (first) first.focus({ preventScroll: true });
    });
    li.append(a);
    items.push(li);
  }
  ui.summary.replaceChildren(...items);
}

/** One gauge per rate-limit window of the agents' accounts (the newest report of each), with its reset time. */
function renderLimits() {
  const limits = accountLimits(state.sessions);
  const key = JSON.stringify(limits);
  if (ui.limits.dataset.key === key) return;
  ui.limits.dataset.key = key;
  ui.limits.hidden = limits.length === 0;
  ui.limits.replaceChildren(
    ...limits.map((l) => {
      const g = document.createElement('div');
      g.className = 'gauge';
      g.dataset.expired = String(l.expired);
      g.dataset.level = l.usedPercent >= 90 ? 'high' : l.usedPercent >= 70 ? 'mid' : 'low';
      const label = document.createElement('span');
      label.className = 'gauge-label';
      label.textContent = limitLabel(l);
      const bar = document.createElement('div');
      bar.className = 'gauge-bar';
      bar.setAttribute('role', 'meter');
      bar.setAttribute('aria-valuemin', '0');
      bar.setAttribute('aria-valuemax', '100');
      bar.setAttribute('aria-valuenow', String(Math.round(l.usedPercent)));
      bar.setAttribute('aria-label', `${limitLabel(l)} rate limit ${Math.round(l.usedPercent)}% used`);
      const fill = document.createElement('div');
      fill.className = 'gauge-fill';
      fill.style.width = `${l.expired ? 0 : l.usedPercent}%`;
      bar.append(fill);
      const pct = document.createElement('span');
      pct.className = 'gauge-pct';
      pct.textContent = l.expired ? 'reset' : `${Math.round(l.usedPercent)}%`;
      const reset = document.createElement('span');
      reset.className = 'gauge-reset';
      if (l.resetsAt !== null && !l.expired) {
        const at = new Date(l.resetsAt);
        reset.textContent = `resets ${at.toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' })}`;
        reset.title = at.toISOString();
      }
      g.append(label, bar, pct, reset);
      return g;
    }),
  );
}

function renderTitle() {
  const attention = state.sessions.filter((s) => s.group === 'needs_attention');
  const title = attention.length ? `(${attention.length}) amc · needs attention` : 'amc';
  if (document.title !== title) document.title = title;
  // Announce newly waiting sessions to screen readers (not the ones already waiting at load).
  if (!state.received) return;
  const fresh = attention.filter((s) => !state.attentionKeys.has(s.key));
  if (state.attentionPrimed && fresh.length) {
    ui.announce.textContent = `${fresh.map((s) => s.project).join(', ')} needs attention`;
  }
  state.attentionPrimed = true;
  state.attentionKeys = new Set(attention.map((s) => s.key));
}

/** Refills a select when its choices change, keeping the chosen value even if its sessions are gone. */
function fillSelect(select, allLabel, options, selected) {
  const list = [...options];
  if (selected && !list.some((o) => o.value === selected)) list.push({ value: selected, label: `${selected} (none now)` });
  const key = JSON.stringify(list);
  if (select.dataset.key !== key) {
    select.dataset.key = key;
    const all = document.createElement('option');
    all.value = '';
    all.textContent = allLabel;
    select.replaceChildren(
      all,
      ...list.map((o) => {
        const opt = document.createElement('option');
        opt.value = o.value;
        opt.textContent = o.label;
        opt.title = o.value;
        return opt;
      }),
    );
  }
  if (select.value !== selected) select.value = selected;
}

function renderFilters() {
  fillSelect(ui.project, 'All projects', projectOptions(state.sessions), filters.project);
  fillSelect(ui.agent, 'All agents', agentOptions(state.sessions), filters.agent);
  const hosts = hostOptions(state.sessions);
  fillSelect(ui.host, 'All hosts', hosts, filters.host);
  // Only a fleet hub (several hosts) needs the host filter.
  ui.host.closest('label').hidden = hosts.length < 2 && !filters.host;
  if (ui.search.value !== filters.query && document.activeElement !== ui.search) ui.search.value = filters.query;
  const active = Boolean(filters.project || filters.agent || filters.host || filters.query.trim());
  ui.clear.hidden = !active;
  document.body.classList.toggle('filtered', active);
}

// ---------------------------------------------------------------------------------------------------------------
// Filters (kept in the URL, so a filtered view can be bookmarked)

function readFilters() {
  const p = new URLSearchParams(location.search);
  return { project: p.get('project') ?? '', agent: p.get('agent') ?? '', host: p.get('host') ?? '', query: p.get('q') ?? '' };
}

function writeFilters() {
  const p = new URLSearchParams();
  if (filters.project) p.set('project', filters.project);
  if (filters.agent) p.set('agent', filters.agent);
  if (filters.host) p.set('host', filters.host);
  if (filters.query) p.set('q', filters.query);
  const qs = p.toString();
  history.replaceState(null, '', `${location.pathname}${qs ? `?${qs}` : ''}${location.hash}`);
}

function setFilter(name, value) {
  if (filters[name] === value) return;
  filters[name] = value;
  writeFilters();
  render();
}

function clearFilters() {
  filters.project = '';
  filters.agent = '';
  filters.host = '';
  filters.query = '';
  ui.search.value = '';
  writeFilters();
  render();
  ui.search.focus();
}

ui.search.value = filters.query;
ui.search.addEventListener('input', () => setFilter('query', ui.search.value));
ui.project.addEventListener('change', () => setFilter('project', ui.project.value));
ui.agent.addEventListener('change', () => setFilter('agent', ui.agent.value));
ui.host.addEventListener('change', () => setFilter('host', ui.host.value));
ui.clear.addEventListener('click', clearFilters);

// ---------------------------------------------------------------------------------------------------------------
// Live data: EventSource reconnects by itself (sending Last-Event-ID, so an unchanged state is not sent again). If
// the browser gives up (an HTTP error during a restart behind a proxy), a new EventSource is opened with back-off.

let source = null;
let downSince = null;
let reopenTimer = null;
let reopenDelay = REOPEN_MIN_MS;

function connect() {
  clearTimeout(reopenTimer);
  reopenTimer = null;
  if (!('EventSource' in window)) {
    poll();
    return;
  }
  if (source) source.close();
  // Changes come as deltas (the sessions that changed), the first frame and anything a delta cannot say as a state.
  const es = (source = new EventSource(withToken('/api/stream?deltas=1')));
  es.addEventListener('state', (e) => {
    if (es === source) applyFrame(e.data);
  });
  es.addEventListener('delta', (e) => {
    if (es === source) applyDeltaFrame(e.data);
  });
  es.addEventListener('open', () => {
    if (es !== source) return;
    downSince = null;
    reopenDelay = REOPEN_MIN_MS;
    updateConnection();
  });
  es.addEventListener('error', () => {
    if (es !== source) return;
    if (downSince === null) downSince = Date.now();
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      reopenTimer = setTimeout(connect, reopenDelay);
      reopenDelay = Math.min(REOPEN_MAX_MS, reopenDelay * 2);
    }
    updateConnection();
  });
}

/** The fallback for a browser without EventSource: `/api/state` every 2 s. */
async function poll() {
  try {
    const r = await fetch(withToken('/api/state'), { cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    applyFrame(await r.text());
    downSince = null;
  } catch {
    if (downSince === null) downSince = Date.now();
  }
  updateConnection();
  setTimeout(poll, 2000);
}

function applyFrame(text) {
  let next;
  try {
    next = parseState(text);
  } catch (err) {
    console.warn('amc: ignoring a state frame that is not JSON', err);
    return;
  }
  const sameInstance = next.instanceId !== '' && next.instanceId === state.instanceId;
  // Within one server run revisions only grow; an older one is a late duplicate. A new instance_id (the server
  // restarted) always replaces the state, whatever its revision.
  if (sameInstance && next.revision !== null && state.revision !== null && next.revision < state.revision) return;
  state.warming = next.warming;
  accept(next.sessions, next);
}

/**
 * A delta applies only to the state it was made against (same instance, `base_revision` = our revision). Anything
 * else (a frame this page could not apply) reopens the stream: a new EventSource sends no Last-Event-ID, so the
 * server starts it with the whole state.
 */
function applyDeltaFrame(text) {
  let delta;
  try {
    delta = parseDelta(text);
  } catch (err) {
    console.warn('amc: a delta frame that is not JSON; reloading the state', err);
    connect();
    return;
  }
  const sameInstance = delta.instanceId !== '' && delta.instanceId === state.instanceId;
  if (sameInstance && delta.revision !== null && state.revision !== null && delta.revision <= state.revision) return;
  if (!sameInstance || delta.baseRevision === null || delta.baseRevision !== state.revision) {
    connect();
    return;
  }
  state.warming = false;
  state.deltas += 1;
  document.body.dataset.deltas = String(state.deltas);
  accept(applyDelta(state.sessions, delta), delta);
}

/** Takes `sessions` as the state at `frame.revision` (a parsed state or delta frame). */
function accept(sessions, next) {
  state.sessions = sessions;
  state.revision = next.revision;
  state.instanceId = next.instanceId;
  state.received = true;
  state.lastUpdate = Date.now();
  state.lastServerTime = next.serverTime;
  if (next.serverTime !== null) state.clockOffset = next.serverTime - state.lastUpdate;
  downSince = null;
  reopenDelay = REOPEN_MIN_MS;
  document.body.dataset.instance = state.instanceId;
  updateConnection();
  scheduleRender();
}

function connectionState() {
  const open = source ? source.readyState === EventSource.OPEN : downSince === null;
  if (open && downSince === null) return state.received ? 'live' : 'connecting';
  if (!navigator.onLine) return 'offline';
  if (downSince !== null && Date.now() - downSince >= OFFLINE_AFTER_MS) return 'offline';
  return state.received ? 'reconnecting' : 'connecting';
}

const LABELS = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', offline: 'Offline' };

function updateConnection() {
  const conn = connectionState();
  if (ui.conn.dataset.state !== conn) ui.conn.dataset.state = conn;
  const label = LABELS[conn];
  if (ui.connLabel.textContent !== label) ui.connLabel.textContent = label;
  document.body.dataset.conn = conn;

  let updated = '';
  if (state.lastUpdate !== null) {
    const clock = new Date(state.lastUpdate).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    updated = `updated ${clock}`;
    if (conn !== 'live') updated += ` · ${formatAgo(Date.now() - state.lastUpdate)}`;
  }
  if (ui.connUpdated.textContent !== updated) ui.connUpdated.textContent = updated;
  ui.connUpdated.title = state.lastUpdate === null ? '' : `Last state received ${formatTimestamp(state.lastUpdate)} (revision ${state.revision ?? '?'})`;

  let notice = '';
  if (conn === 'reconnecting' || conn === 'offline') {
    notice = state.lastUpdate === null
      ? 'Cannot reach amc. Retrying…'
      : `Connection to amc lost. Showing the state from ${formatTimestamp(state.lastUpdate)}; retrying…`;
  } else if (conn === 'connecting' && downSince !== null) {
    notice = 'Cannot reach amc. Is `amc serve` running? Retrying…';
  }
  if (ui.notice.textContent !== notice) ui.notice.textContent = notice;
  ui.notice.hidden = notice === '';
  ui.groups.classList.toggle('stale', conn === 'reconnecting' || conn === 'offline');
}

window.addEventListener('online', () => {
  if (source && source.readyState === EventSource.CLOSED) connect();
  updateConnection();
});
window.addEventListener('offline', updateConnection);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && source && source.readyState === EventSource.CLOSED) connect();
});

// Durations and "updated … ago" tick once a second; nothing else is re-rendered by the clock.
setInterval(() => {
  board.tick(serverNow());
  updateConnection();
}, 1000);

// ---------------------------------------------------------------------------------------------------------------
// Keyboard: "/" search, Esc clear, ↑/↓ (j/k) between cards, Home/End, Enter/Space expand a card.

const isTyping = (el) => el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

/** The cards on screen, in page order (not those filtered out or inside the collapsed dead group). */
function visibleCards() {
  return [...ui.groups.querySelectorAll('.card')].filter((c) => !c.closest('details:not([open]), [hidden]'));
}

function moveFocus(from, delta) {
  const cards = visibleCards();
  if (!cards.length) return;
  let i = cards.indexOf(from);
  if (delta === Infinity) i = cards.length - 1;
  else if (delta === -Infinity) i = 0;
  else i = i === -1 ? 0 : Math.min(cards.length - 1, Math.max(0, i + delta));
  cards[i].focus();
  cards[i].scrollIntoView({ block: 'nearest' });
}

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.target;
  if (e.key === '/' && !isTyping(target)) {
    e.preventDefault();
    ui.search.focus();
    ui.search.select();
    return;
  }
  if (target === ui.search && e.key === 'Escape') {
    if (ui.search.value) {
      ui.search.value = '';
      setFilter('query', '');
    } else {
      ui.search.blur();
    }
    e.preventDefault();
    return;
  }
  if (target === ui.search && e.key === 'ArrowDown') {
    e.preventDefault();
    moveFocus(null, 0);
    return;
  }
  if (!(target instanceof HTMLElement) || !target.classList.contains('card')) return;
  const moves = { ArrowDown: 1, ArrowRight: 1, j: 1, ArrowUp: -1, ArrowLeft: -1, k: -1, Home: -Infinity, End: Infinity };
  if (e.key in moves) {
    e.preventDefault();
    moveFocus(target, moves[e.key]);
  } else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    toggleCard(target);
  }
});

function toggleCard(el) {
  const card = board.cardFor(el);
  if (card) card.setExpanded(el.getAttribute('aria-expanded') !== 'true');
}

// A click on a card's preview or question expands/collapses it, unless the user was selecting text.
ui.groups.addEventListener('click', (e) => {
  const t = e.target instanceof Element ? e.target : null;
  if (!t || !t.closest('.preview, .questions')) return;
  if (String(window.getSelection() ?? '') !== '') return;
  const el = t.closest('.card');
  if (el) toggleCard(el);
});

// "why?" on a card: the rules behind the session, from /api/sessions/{id}/explain; a second click closes it.
ui.groups.addEventListener('click', async (e) => {
  const button = e.target instanceof Element ? e.target.closest('.why') : null;
  if (!button) return;
  const card = board.cardFor(button.closest('.card'));
  if (!card || !card.sessionId) return;
  if (card.whyOpen) {
    card.hideWhy();
    return;
  }
  card.showWhy('Loading…');
  let content;
  try {
    const r = await fetch(withToken(`/api/sessions/${encodeURIComponent(card.sessionId)}/explain`), { cache: 'no-store' });
    const body = await r.json().catch(() => null);
    content = r.ok && body ? body : `Cannot explain this session: ${body?.error ?? `HTTP ${r.status}`}`;
  } catch (err) {
    content = `Cannot reach amc: ${err instanceof Error ? err.message : err}`;
  }
  // Closed again while loading: leave it closed.
  if (card.whyOpen) card.showWhy(content);
});

// ---------------------------------------------------------------------------------------------------------------
// Events (`/api/stream/events`): each session's timeline, and browser notifications with the server's dwell and
// cooldown (`/api/notify`): a raise that still holds after the dwell, at most once per session per cooldown, never
// for a session acknowledged here; a clearing closes the notification.

const EVENT_KINDS = [
  'attention_raised',
  'attention_cleared',
  'turn_done',
  'session_started',
  'session_dead',
  'session_removed',
  'compacted',
  'context_threshold',
];
const policy = { dwellMs: 5000, cooldownMs: 60000 };
const pageOpenedAt = Date.now();
const lastNotified = new Map();
const shown = new Map();
const acked = new Set();

function connectEvents() {
  if (!('EventSource' in window)) return;
  // since=1: every event the server keeps, for the timelines (EventSource resumes with Last-Event-ID by itself).
  const es = new EventSource(withToken('/api/stream/events?since=1'));
  for (const kind of EVENT_KINDS) {
    es.addEventListener(kind, (m) => {
      let e;
      try {
        e = JSON.parse(m.data);
      } catch {
        return;
      }
      board.addEvent(e);
      onEvent(e);
    });
  }
}

function onEvent(e) {
  // Replayed history is for the timeline; only what happens while the page is open is notified.
  if (e.time_ms < pageOpenedAt - 1000) return;
  if (e.kind === 'attention_raised') {
    acked.delete(e.session_id);
    setTimeout(() => maybeNotify(e), policy.dwellMs);
  } else if (e.kind === 'attention_cleared' || e.kind === 'session_removed') {
    shown.get(e.session_id)?.close();
    shown.delete(e.session_id);
  }
}

function maybeNotify(e) {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  if (acked.has(e.session_id)) return;
  const s = state.sessions.find((x) => x.id === e.session_id);
  if (!s || s.group !== 'needs_attention' || s.dead) return;
  const last = lastNotified.get(e.session_id);
  if (last !== undefined && Date.now() - last < policy.cooldownMs) return;
  lastNotified.set(e.session_id, Date.now());
  const n = new Notification(`${s.project} needs you`, {
    body: `${s.agentLabel} waits${e.attention_kind && e.attention_kind !== 'unknown' ? ` for ${e.attention_kind}` : ''}${e.reason ? `: ${e.reason}` : ''}`,
    tag: `amc-${e.session_id}`,
  });
  n.onclick = () => window.focus();
  shown.set(e.session_id, n);
}

async function loadPolicy() {
  try {
    const r = await fetch(withToken('/api/notify'));
    if (!r.ok) return;
    const p = await r.json();
    if (Number.isFinite(p.dwell_ms)) policy.dwellMs = p.dwell_ms;
    if (Number.isFinite(p.cooldown_ms)) policy.cooldownMs = p.cooldown_ms;
  } catch {
    // The defaults stay.
  }
}

const notifyToggle = $('notify-toggle');
function updateNotifyToggle() {
  if (!notifyToggle) return;
  const supported = 'Notification' in window;
  notifyToggle.hidden = !supported;
  if (!supported) return;
  const granted = Notification.permission === 'granted';
  notifyToggle.textContent = granted ? 'Notifications on' : 'Notify me';
  notifyToggle.disabled = granted || Notification.permission === 'denied';
  notifyToggle.dataset.permission = Notification.permission;
}
notifyToggle?.addEventListener('click', async () => {
  await Notification.requestPermission();
  updateNotifyToggle();
});

// The Acknowledge button of a waiting card: POST /api/sessions/{id}/ack (scope `act`).
ui.groups.addEventListener('click', async (e) => {
  const t = e.target instanceof Element ? e.target.closest('button.ack') : null;
  if (!t) return;
  e.stopPropagation();
  const id = t.dataset.id;
  t.disabled = true;
  const headers = accessToken ? { Authorization: `Bearer ${accessToken}` } : {};
  try {
    const r = await fetch(`/api/sessions/${encodeURIComponent(id)}/ack`, { method: 'POST', headers });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    acked.add(id);
    shown.get(id)?.close();
    t.textContent = 'Acknowledged';
    t.dataset.state = 'done';
  } catch (err) {
    t.disabled = false;
    t.textContent = 'Acknowledge (failed)';
    t.title = `Could not acknowledge: ${err.message}`;
  }
});

/**
 * POSTs an action for `card`'s session with the page's token (actions need a token of scope `act`); resolves to
 * whether amc took it.
 */
async function act(card, action, body) {
  card.showActionResult('…', true);
  try {
    const headers = { 'Content-Type': 'application/json' };
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
    const r = await fetch(`/api/sessions/${encodeURIComponent(card.sessionId)}/${action}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    const answer = await r.json().catch(() => null);
    if (r.ok && answer) card.showActionResult(String(answer.outcome).replaceAll('_', ' '), true);
    else if (r.status === 401) card.showActionResult('needs the token: open the URL amc serve printed', false);
    else card.showActionResult(answer?.error ?? `HTTP ${r.status}`, false);
    return r.ok && !!answer;
  } catch (err) {
    card.showActionResult(`cannot reach amc: ${err instanceof Error ? err.message : err}`, false);
    return false;
  }
}

// "I am away from this pane": remote approval on or off for a Claude session.
ui.groups.addEventListener('change', async (e) => {
  const input = e.target instanceof Element ? e.target.closest('.act-away-input') : null;
  if (!input) return;
  const card = board.cardFor(input.closest('.card'));
  if (!card || !card.sessionId) return;
  const enabled = input.checked;
  card.awayPending = enabled;
  card.awaySettled(enabled, await act(card, 'remote_approval', { enabled }));
});

ui.groups.addEventListener('click', (e) => {
  const button = e.target instanceof Element ? e.target.closest('.actions button[data-action]') : null;
  if (!button) return;
  const card = board.cardFor(button.closest('.card'));
  if (!card || !card.sessionId) return;
  const action = button.dataset.action;
  if (action === 'decide') act(card, 'decide', { request_id: card.requestId, behavior: button.dataset.behavior });
  else if (action === 'answer') act(card, 'answer', { options: [Number(button.dataset.option)] });
  else act(card, action, {});
});

ui.groups.addEventListener('submit', (e) => {
  const form = e.target instanceof Element ? e.target.closest('.act-text') : null;
  if (!form) return;
  e.preventDefault();
  const card = board.cardFor(form.closest('.card'));
  const input = form.querySelector('input');
  if (!card || !card.sessionId || !input || !input.value.trim()) return;
  act(card, 'send_text', { text: input.value });
  input.value = '';
});

render();
connect();
updateNotifyToggle();
loadPolicy();
connectEvents();
