// The DOM side: one card element per session id, built once with createElement and then patched field by field.
//
// Nothing from a session file ever goes through an HTML parser: every value is set with textContent or as an
// attribute, so a preview holding `<script>` shows those characters.
//
// Why keyed, patched cards: a state frame arrives on every change (often several a second with many agents busy).
// Re-rendering everything would reset focus, text selection, open/closed state and scroll position, and flicker;
// patching only what changed keeps the page still, and with hundreds of sessions costs a string comparison per card
// when nothing changed.

import { GROUPS, contextLevel, formatDuration, formatTokens, formatUsd, groupSessions, matches, sparkline } from './model.js';

/** createElement with a class and text. */
function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function setAttr(el, name, value) {
  if (value === null || value === undefined || value === '') {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

function setHidden(el, hidden) {
  if (el.hidden !== hidden) el.hidden = hidden;
}

function setData(el, name, value) {
  if (el.dataset[name] !== value) el.dataset[name] = value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A local date-time for tooltips, or ''. */
export function formatTimestamp(ms) {
  return ms === null || ms === undefined ? '' : timeFormat.format(new Date(ms));
}

/** One session's card. */
class Card {
  constructor(key) {
    this.key = key;
    this.signature = '';
    this.since = null;
    const el = (this.el = h('article', 'card'));
    el.tabIndex = 0;
    el.dataset.id = key;
    el.setAttribute('aria-expanded', 'false');
    el.addEventListener('animationend', () => el.classList.remove('moved'));

    const head = h('header', 'card-head');
    const titleRow = h('div', 'card-title');
    this.project = h('h3', 'project');
    this.agent = h('span', 'agent');
    titleRow.append(this.project, this.agent);
    const statusRow = h('div', 'card-status');
    this.status = h('span', 'status');
    this.statusText = h('span', 'status-text');
    this.status.append(h('span', 'status-dot'), this.statusText);
    this.sinceEl = h('span', 'since');
    this.zellij = h('span', 'zellij');
    statusRow.append(this.status, this.sinceEl, this.zellij);
    head.append(titleRow, statusRow);

    this.ctx = h('div', 'ctx');
    const ctxTop = h('div', 'ctx-top');
    this.ctxLabel = h('span', 'ctx-label', 'Context');
    this.ctxPct = h('span', 'ctx-pct');
    this.ctxTokens = h('span', 'ctx-tokens');
    this.ctxTags = h('span', 'ctx-tags');
    this.ctxBar = h('div', 'ctx-bar');
    this.ctxBar.setAttribute('role', 'meter');
    this.ctxBar.setAttribute('aria-valuemin', '0');
    this.ctxBar.setAttribute('aria-valuemax', '100');
    this.ctxFill = h('div', 'ctx-fill');
    this.ctxBar.append(this.ctxFill);
    this.ctxEstimated = h('span', 'tag tag-estimated', 'estimated');
    this.ctxEstimated.title = 'The context window size was inferred from the model, not reported by the agent';
    this.ctxCompacted = h('span', 'tag tag-compacted', 'compacted');
    this.ctxCompacted.title = 'The conversation was compacted since the last usage report';
    this.ctxTags.append(this.ctxEstimated, this.ctxCompacted);
    this.ctxModel = h('span', 'ctx-model');
    const ctxBottom = h('div', 'ctx-bottom');
    ctxBottom.append(this.ctxTokens, this.ctxModel);
    ctxTop.append(this.ctxLabel, this.ctxTags, this.ctxPct);
    this.ctx.append(ctxTop, this.ctxBar, ctxBottom);

    // Spending: cost, burn rate, the compaction forecast and a sparkline of the context over the recent replies.
    this.spend = h('div', 'spend');
    this.cost = h('span', 'cost');
    this.burn = h('span', 'burn');
    this.forecast = h('span', 'forecast');
    this.spark = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.spark.setAttribute('class', 'spark');
    this.spark.setAttribute('viewBox', '0 0 80 18');
    this.spark.setAttribute('role', 'img');
    this.sparkLine = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    this.spark.append(this.sparkLine);
    this.spend.append(this.cost, this.burn, this.forecast, this.spark);
    this.spendKey = '';

    this.preview = h('p', 'preview');
    this.previewText = h('span', 'preview-text');
    this.preview.append(this.previewText);
    this.previewValue = '';
    this.questions = h('div', 'questions');
    this.questionsKey = '';
    this.deadReason = h('p', 'dead-reason');
    this.attention = h('p', 'attention');
    this.attentionKind = h('span', 'attention-kind');
    this.attentionText = h('span', 'attention-text');
    this.attention.append(this.attentionKind, this.attentionText);
    this.statusReason = h('p', 'status-reason');

    const foot = h('footer', 'card-foot');
    this.sid = h('span', 'sid');
    this.subagents = h('span', 'subagents');
    this.event = h('span', 'event');
    // "why?": the rules behind this card (fetched from /api/sessions/{id}/explain by app.js, shown in whyPanel).
    this.sessionId = '';
    this.why = h('button', 'why', 'why?');
    this.why.type = 'button';
    this.why.title = 'Why is this session in this state? The rules that decided it, and their evidence';
    this.why.setAttribute('aria-expanded', 'false');
    this.whyPanel = h('div', 'why-panel');
    this.whyPanel.id = `why-${Math.random().toString(36).slice(2)}`;
    this.whyPanel.hidden = true;
    this.why.setAttribute('aria-controls', this.whyPanel.id);
    // Acknowledge: "I have seen it" — no notification of this session until its next attention.
    this.ackBtn = h('button', 'ack', 'Acknowledge');
    this.ackBtn.type = 'button';
    this.ackBtn.title = 'Silence notifications of this session until it needs you again';
    this.ackBtn.dataset.id = key;
    this.ackBtn.hidden = true;
    foot.append(this.sid, this.subagents, this.why, this.event, this.ackBtn);

    // The session's recent events (attention raised/cleared, turn done, ...), newest first.
    this.timeline = h('ol', 'timeline');
    this.timeline.setAttribute('aria-label', 'Recent events');
    this.timeline.hidden = true;
    this.eventsKey = '';

    // Actions (app.js posts them to /api/sessions/{id}/{action} with the page's token): approve/deny a held permission
    // request, pick a question's option, type a text, focus the pane, remote approval, dismiss a finished session;
    // `actionResult` says what happened.
    this.actions = h('div', 'actions');
    this.decide = h('span', 'decide');
    this.approve = actionButton('act-approve', 'Approve', 'decide');
    this.approve.dataset.behavior = 'allow';
    this.deny = actionButton('act-deny', 'Deny', 'decide');
    this.deny.dataset.behavior = 'deny';
    this.decide.append(this.approve, this.deny);
    this.optionButtons = h('span', 'act-options');
    this.optionsKey = '';
    this.requestId = '';
    this.textForm = h('form', 'act-text');
    this.textInput = h('input', 'act-text-input');
    this.textInput.type = 'text';
    this.textInput.placeholder = 'Type to the agent…';
    this.textInput.maxLength = 16384;
    this.textInput.setAttribute('aria-label', 'Text to type into the pane of the agent');
    const send = h('button', 'act-send', 'Send');
    send.type = 'submit';
    this.textForm.append(this.textInput, send);
    this.dismiss = actionButton('act-dismiss', 'Dismiss', 'dismiss');
    this.focusBtn = actionButton('act-focus', 'Focus pane', 'focus');
    this.focusBtn.title = "Give this session's own Zellij pane the focus (Zellij 0.44.1 or newer)";
    // "I am away from this pane": remote approval of a Claude session (POST …/remote_approval); the box shows the
    // server's value, or the one just asked for until the server has it (`awayPending`).
    this.away = h('label', 'act-away');
    this.awayInput = h('input', 'act-away-input');
    this.awayInput.type = 'checkbox';
    this.away.title = "Hold this session's permission requests for Approve/Deny here; Claude Code asks in the pane only "
      + 'when no decision comes in time';
    this.away.append(this.awayInput, document.createTextNode(' I am away from this pane'));
    this.awayPending = undefined;
    this.actionResult = h('span', 'act-result');
    this.actionResult.setAttribute('role', 'status');
    this.actions.append(this.decide, this.optionButtons, this.textForm, this.focusBtn, this.away, this.dismiss, this.actionResult);

    el.append(head, this.deadReason, this.attention, this.statusReason, this.ctx, this.spend, this.preview, this.questions, this.actions, this.timeline, foot, this.whyPanel);
  }

  /** Whether the "why?" panel is open. */
  get whyOpen() {
    return this.why.getAttribute('aria-expanded') === 'true';
  }

  /** Shows the controls that fit the session's state. */
  updateActions(s) {
    const a = s.attention;
    this.requestId = a && a.kind === 'permission' ? a.requestId : '';
    setHidden(this.decide, !this.requestId || s.dead);
    const options = !s.dead && s.questions.length === 1 ? s.questions[0].options.slice(0, 9) : [];
    const key = JSON.stringify(options.map((o) => o.label));
    if (key !== this.optionsKey) {
      this.optionsKey = key;
      this.optionButtons.replaceChildren(
        ...options.map((o, i) => {
          const b = actionButton('act-option', `${i + 1}. ${o.label}`, 'answer');
          b.dataset.option = String(i + 1);
          return b;
        }),
      );
    }
    setHidden(this.optionButtons, options.length === 0);
    setHidden(this.textForm, s.dead || !s.zellijPane);
    setHidden(this.focusBtn, s.dead || !s.zellijPane);
    setHidden(this.dismiss, !(s.dead || s.status === 'done' || s.status === 'ended'));
    setHidden(this.away, s.dead || s.agent !== 'claude');
    this.remoteApproval = s.remoteApproval;
    if (this.awayPending === s.remoteApproval) this.awayPending = undefined;
    this.awayInput.checked = this.awayPending ?? s.remoteApproval;
  }

  /** The remote approval toggle was switched to `enabled` (`ok`: the server took it; else back to its value). */
  awaySettled(enabled, ok) {
    this.awayPending = ok && enabled !== this.remoteApproval ? enabled : undefined;
    this.awayInput.checked = this.awayPending ?? this.remoteApproval;
  }

  /** Says what an action did (or why it was refused). */
  showActionResult(text, ok) {
    setText(this.actionResult, text);
    setData(this.actionResult, 'ok', ok ? 'true' : 'false');
  }

  /** Opens the "why?" panel with `content`: an explanation (the explain route's JSON) or a message. */
  showWhy(content) {
    this.why.setAttribute('aria-expanded', 'true');
    this.whyPanel.hidden = false;
    this.whyPanel.replaceChildren(...(typeof content === 'string' ? [h('p', 'why-message', content)] : renderExplanation(content)));
  }

  /** Closes the "why?" panel. */
  hideWhy() {
    this.why.setAttribute('aria-expanded', 'false');
    this.whyPanel.hidden = true;
    this.whyPanel.replaceChildren();
  }

  /** Brings the card up to date with `s` (a normalized session); cheap when nothing changed. */
  update(s, now) {
    const signature = JSON.stringify(s);
    if (signature === this.signature) return;
    this.signature = signature;
    const el = this.el;
    const moved = el.dataset.group !== undefined && el.dataset.group !== s.group;
    setData(el, 'status', s.status || 'unknown');
    setData(el, 'group', s.group);
    if (moved) {
      // A short glow on the card that changed group, so the eye finds it (no animation on first render).
      el.classList.remove('moved');
      void el.offsetWidth;
      el.classList.add('moved');
    }
    setData(el, 'agent', s.agent || 'unknown');
    setAttr(el, 'aria-label', `${s.project}, ${s.agentLabel}, ${s.dead ? 'dead' : s.statusLabel}`);

    setText(this.project, s.project);
    setAttr(this.project, 'title', s.projectPath || 'No project_dir or cwd recorded');
    setText(this.agent, s.agentLabel);
    setData(this.agent, 'agent', s.agent || 'unknown');

    setText(this.statusText, s.dead ? `Dead · was ${s.statusLabel.toLowerCase()}` : s.statusLabel);
    setData(this.status, 'status', s.dead ? 'dead' : s.group);
    this.since = s.since;
    const sinceTitle = s.since === null ? '' : `In this state since ${formatTimestamp(s.since)}${s.lastEvent ? ` (last event: ${s.lastEvent})` : ''}`;
    setAttr(this.sinceEl, 'title', sinceTitle);
    this.tick(now);

    const pane = s.zellijPane ? `pane ${s.zellijPane}` : '';
    // On a fleet hub: the host first, and whether the hub still hears from it.
    const host = s.host ? (s.hostUnreachable ? `${s.host} (unreachable)` : s.host) : '';
    setText(this.zellij, [host, s.zellijSession, pane].filter(Boolean).join(' · '));
    setHidden(this.zellij, !host && !s.zellijSession && !pane);
    const where = s.zellijSession || pane ? `Zellij session ${s.zellijSession || '?'}${pane ? `, ${pane}` : ''}` : '';
    const hostTitle = s.host ? `Host ${s.host}${s.hostUnreachable ? ': nothing heard from it within the TTL' : ''}` : '';
    setAttr(this.zellij, 'title', [hostTitle, where].filter(Boolean).join('; '));

    this.updateContext(s);
    this.updateSpend(s);

    if (s.preview !== this.previewValue) {
      this.previewValue = s.preview;
      this.previewText.replaceChildren(...withCode(s.preview));
    }
    setHidden(this.preview, !s.preview);

    const questionsKey = JSON.stringify(s.questions);
    if (questionsKey !== this.questionsKey) {
      this.questionsKey = questionsKey;
      this.questions.replaceChildren(...s.questions.map(renderQuestion));
    }
    setHidden(this.questions, s.questions.length === 0);

    setText(this.deadReason, s.deadReason || 'The agent is no longer running');
    setHidden(this.deadReason, !s.dead);

    const a = s.attention;
    setText(this.attentionKind, a ? a.label : '');
    setData(this.attention, 'kind', a ? a.kind || 'unknown' : 'none');
    setText(this.attentionText, a ? a.text : '');
    setAttr(this.attention, 'title', a && a.since !== null ? `Waiting since ${formatTimestamp(a.since)}` : '');
    setHidden(this.attention, !a || s.dead);
    setText(this.statusReason, s.statusReason);
    setHidden(this.statusReason, !s.statusReason || s.dead);
    this.updateActions(s);
    setText(this.subagents, s.subagents === 1 ? '1 sub-agent' : `${s.subagents} sub-agents`);
    setHidden(this.subagents, s.subagents === 0);

    // UUIDs are told apart by their first 8 hex digits (as git short hashes); other ids are shown whole.
    setText(this.sid, !s.id ? 'no session id' : UUID.test(s.id) ? s.id.slice(0, 8) : s.id);
    setAttr(this.sid, 'title', s.id ? `Session ${s.id}` : '');
    setText(this.event, s.lastEvent);
    setAttr(this.event, 'title', s.lastEvent ? 'Last hook event' : '');
    this.sessionId = s.id;
    setHidden(this.why, !s.id);
    const waits = s.group === 'needs_attention' && !s.dead;
    if (!waits) {
      this.ackBtn.disabled = false;
      setText(this.ackBtn, 'Acknowledge');
    }
    setHidden(this.ackBtn, !waits);
  }

  /** Shows `events` (the session's, oldest first) as the timeline: the newest few, newest first. */
  setEvents(events) {
    const recent = events.slice(-6).reverse();
    const key = recent.map((e) => e.id).join(',');
    if (key === this.eventsKey) return;
    this.eventsKey = key;
    this.timeline.replaceChildren(
      ...recent.map((e) => {
        const li = h('li', 'tl-item');
        li.dataset.kind = e.kind;
        const time = h('time', 'tl-time', new Date(e.time_ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }));
        time.dateTime = new Date(e.time_ms).toISOString();
        li.append(time, h('span', 'tl-kind', eventLabel(e)));
        return li;
      }),
    );
    setHidden(this.timeline, recent.length === 0);
  }

  updateSpend(s) {
    const sp = s.spend;
    const key = JSON.stringify(sp);
    if (key === this.spendKey) return;
    this.spendKey = key;
    const c = sp.cost;
    setText(this.cost, c ? (c.usd === null ? 'cost ?' : formatUsd(c.usd)) : '');
    setAttr(this.cost, 'title', c ? `cost from ${c.source}${c.source === 'unknown_model' ? ' (no price for this model)' : ''}` : null);
    setData(this.cost, 'source', c ? c.source : '');
    const b = sp.burn;
    const burn = b
      ? [b.tokensPerMinute !== null ? `${formatTokens(b.tokensPerMinute)} tok/min` : '', b.usdPerHour !== null ? `${formatUsd(b.usdPerHour)}/h` : '']
          .filter(Boolean)
          .join(' · ')
      : '';
    setText(this.burn, burn);
    setAttr(this.burn, 'title', b ? 'spending over the last 15 minutes' : null);
    const f = sp.forecast;
    let forecast = '';
    if (f && f.turnsLeft !== null) {
      forecast = `≈${Math.round(f.turnsLeft)} turns${f.minutesLeft !== null ? ` / ${Math.round(f.minutesLeft)} min` : ''} to compaction`;
    }
    setText(this.forecast, forecast);
    setAttr(this.forecast, 'title', f ? `forecast from the recent growth per turn; compacts near ${formatTokens(f.threshold ?? 0)} tokens` : null);
    const points = sparkline(sp.history, 80, 18);
    this.sparkLine.setAttribute('points', points);
    setAttr(this.spark, 'aria-label', points ? `context over the last ${sp.history.length} replies` : null);
    setAttr(this.spark, 'display', points ? null : 'none');
    setHidden(this.spend, !c && !burn && !forecast && !points);
  }

  updateContext(s) {
    const c = s.context;
    const model = s.model || (c && c.model) || '';
    if (!c) {
      setData(this.ctx, 'level', 'none');
      setText(this.ctxPct, '—');
      this.ctxFill.style.width = '0%';
      setAttr(this.ctxBar, 'aria-valuenow', null);
      setAttr(this.ctxBar, 'aria-label', 'Context usage not known yet');
      setText(this.ctxTokens, 'no usage reported yet');
      setText(this.ctxModel, model);
      setHidden(this.ctxEstimated, true);
      setHidden(this.ctxCompacted, true);
      return;
    }
    const level = contextLevel(c.percent);
    setData(this.ctx, 'level', level);
    const pct = c.percent === null ? '—' : `${c.percent < 10 && c.percent > 0 ? c.percent.toFixed(1) : Math.round(c.percent)}%`;
    setText(this.ctxPct, c.estimated && c.percent !== null ? `≈${pct}` : pct);
    this.ctxFill.style.width = `${c.percent ?? 0}%`;
    setAttr(this.ctxBar, 'aria-valuenow', c.percent === null ? null : String(Math.round(c.percent)));
    setAttr(this.ctxBar, 'aria-label', `Context ${pct} used${c.estimated ? ' (estimated window)' : ''}`);
    const tokens = c.current === null ? (c.compacted ? 'size unknown until the next reply' : '?') : formatTokens(c.current);
    setText(this.ctxTokens, c.window === null ? `${tokens} tokens` : `${tokens} / ${formatTokens(c.window)} tokens`);
    setText(this.ctxModel, c.model || model);
    setAttr(
      this.ctxTokens,
      'title',
      [
        c.current !== null ? `${c.current.toLocaleString()} tokens in context` : '',
        c.window !== null ? `window ${c.window.toLocaleString()}${c.estimated ? ' (estimated)' : ''}` : '',
        c.windowSourceLabel,
        c.updatedAt !== null ? `as of ${formatTimestamp(c.updatedAt)}` : '',
      ]
        .filter(Boolean)
        .join(', '),
    );
    setHidden(this.ctxEstimated, !c.estimated);
    setAttr(
      this.ctxEstimated,
      'title',
      c.windowSourceLabel || 'The context window size was inferred from the model, not reported by the agent',
    );
    setData(this.ctx, 'windowSource', c.windowSource);
    setHidden(this.ctxCompacted, !c.compacted);
  }

  /** Updates the ticking "how long in this state". */
  tick(now) {
    setText(this.sinceEl, this.since === null ? '' : formatDuration(now - this.since));
  }

  setExpanded(expanded) {
    this.el.setAttribute('aria-expanded', String(expanded));
  }
}

/** A JSON value as short text: strings as they are, anything else as JSON. */
function valueText(v) {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? 'null';
}

/** A time in seconds since the epoch as a local time, or ''. */
function secondsText(at) {
  return typeof at === 'number' && Number.isFinite(at) ? formatTimestamp(at * 1000) : '';
}

/**
 * The nodes of an explanation (`{session_id, present, decisions: [{field, value, rule, evidence, at}], trash_path?}`):
 * one line on where the session stands, then each decision with its rule, time and evidence. Every value is text.
 */
export function renderExplanation(e) {
  const decisions = Array.isArray(e?.decisions) ? e.decisions : [];
  const head = h('p', 'why-head');
  if (e?.present) {
    head.textContent = 'Decided by the latest collection pass:';
  } else {
    const when = secondsText(e?.removed_at);
    head.textContent = `Removed${when ? ` ${when}` : ''}${e?.trash_path ? `; its file is in the trash: ${e.trash_path}` : ''}.`;
  }
  const list = h('ol', 'why-list');
  for (const d of decisions) {
    if (!d || typeof d !== 'object') continue;
    const item = h('li', 'why-item');
    item.dataset.field = String(d.field ?? '');
    const line = h('div', 'why-line');
    line.append(h('span', 'why-field', String(d.field ?? '?')), ' = ', h('code', 'why-value', valueText(d.value)));
    const rule = h('div', 'why-rule', String(d.rule ?? ''));
    const when = secondsText(d.at);
    if (when) rule.title = `Decided ${when}`;
    item.append(line, rule);
    const evidence = d.evidence && typeof d.evidence === 'object' ? Object.entries(d.evidence) : [];
    if (evidence.length) {
      const dl = h('dl', 'why-evidence');
      for (const [k, v] of evidence) dl.append(h('dt', '', k), h('dd', '', valueText(v)));
      item.append(dl);
    }
    list.append(item);
  }
  return decisions.length ? [head, list] : [head, h('p', 'why-message', 'No decisions recorded.')];
}

/** A short description of an event, e.g. "needs you (permission)", "answered after 12s". */
export function eventLabel(e) {
  switch (e.kind) {
    case 'attention_raised':
      return `needs you${e.attention_kind && e.attention_kind !== 'unknown' ? ` (${e.attention_kind})` : ''}`;
    case 'attention_cleared':
      return e.waited_ms != null ? `answered after ${formatDuration(e.waited_ms)}` : 'answered';
    case 'turn_done':
      return 'turn done';
    case 'session_started':
      return 'started';
    case 'session_dead':
      return 'agent gone';
    case 'session_removed':
      return 'removed';
    case 'compacted':
      return 'context compacted';
    case 'context_threshold':
      return `context over ${e.threshold}%`;
    default:
      return e.kind;
  }
}

/** Text with `backtick` spans as <code> elements (built node by node: the text is never parsed as HTML). */
export function withCode(text) {
  const parts = text.split(/`([^`\n]{1,200})`/);
  return parts.map((part, i) => (i % 2 ? h('code', '', part) : document.createTextNode(part))).filter((n) => n.textContent !== '');
}

/** A button that posts `action` (see app.js). */
function actionButton(className, label, action) {
  const b = h('button', className, label);
  b.type = 'button';
  b.dataset.action = action;
  return b;
}

/** One pending question with its options (display only: amc does not answer for you). */
function renderQuestion(q) {
  const box = h('section', 'question');
  const top = h('div', 'question-top');
  top.append(h('span', 'question-icon', '?'));
  if (q.header) top.append(h('span', 'question-header', q.header));
  top.append(h('span', 'question-mode', q.multiSelect ? 'choose any' : 'choose one'));
  box.append(top);
  if (q.question) {
    const text = h('p', 'question-text');
    text.append(...withCode(q.question));
    box.append(text);
  }
  if (q.options.length) {
    const list = h('ol', `options${q.multiSelect ? ' options-multi' : ''}`);
    for (const o of q.options) {
      const li = h('li', 'option');
      const text = h('span', 'option-text');
      text.append(h('span', 'option-label', o.label));
      if (o.description) {
        const desc = h('span', 'option-desc');
        desc.append(...withCode(o.description));
        text.append(desc);
      }
      li.append(text);
      list.append(li);
    }
    box.append(list);
  }
  return box;
}

/** Puts exactly `nodes`, in order, into `parent`, moving only what is out of place. */
function reconcile(parent, nodes) {
  let cursor = parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
    } else {
      parent.insertBefore(node, cursor);
    }
  }
  while (cursor) {
    const next = cursor.nextSibling;
    parent.removeChild(cursor);
    cursor = next;
  }
}

/** The groups and their cards. */
export class Board {
  constructor(root) {
    this.cards = new Map();
    /** Each session's recent events (oldest first), by session id; set by the page. */
    this.events = new Map();
    this.sections = new Map();
    for (const g of GROUPS) {
      const id = `group-${g.key}`;
      let section;
      let heading;
      if (g.key === 'dead') {
        section = h('details', 'group group-dead');
        const summary = h('summary', 'group-summary');
        heading = h('h2', 'group-title');
        summary.append(heading, h('span', 'group-hint', 'Pane or process gone'));
        section.append(summary);
      } else {
        section = h('section', 'group');
        heading = h('h2', 'group-title');
        section.append(heading);
      }
      section.id = id;
      section.dataset.group = g.key;
      heading.id = `${id}-title`;
      const dot = h('span', 'group-dot');
      dot.setAttribute('aria-hidden', 'true');
      const count = h('span', 'count', '0');
      heading.append(dot, h('span', 'group-name', g.title), count);
      section.setAttribute('aria-labelledby', heading.id);
      const grid = h('div', 'grid');
      section.append(grid);
      section.hidden = true;
      root.append(section);
      this.sections.set(g.key, { section, grid, count });
    }
  }

  /** Shows `sessions` (normalized, sorted) through `filters`; returns the per-group counts of what is shown. */
  render(sessions, filters, now) {
    const present = new Set(sessions.map((s) => s.key));
    for (const [key, card] of this.cards) {
      if (!present.has(key)) {
        card.el.remove();
        this.cards.delete(key);
      }
    }
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.closest('.card') : null;
    const groups = groupSessions(sessions.filter((s) => matches(s, filters)));
    const counts = {};
    for (const [key, list] of groups) {
      const { section, grid, count } = this.sections.get(key);
      const nodes = list.map((s) => {
        let card = this.cards.get(s.key);
        if (!card) {
          card = new Card(s.key);
          this.cards.set(s.key, card);
        }
        card.update(s, now);
        card.setEvents(this.events.get(s.key) ?? []);
        return card.el;
      });
      reconcile(grid, nodes);
      counts[key] = list.length;
      setText(count, String(list.length));
      setHidden(section, list.length === 0);
    }
    // Moving a card between groups detaches it for a moment, which drops keyboard focus: give it back.
    if (focused && focused.isConnected && document.activeElement !== focused) focused.focus({ preventScroll: true });
    return counts;
  }

  /** Adds one event to its session's timeline (kept to the last 20). */
  addEvent(e) {
    const list = this.events.get(e.session_id) ?? [];
    if (list.length && list[list.length - 1].id >= e.id) return;
    list.push(e);
    if (list.length > 20) list.shift();
    this.events.set(e.session_id, list);
    this.cards.get(e.session_id)?.setEvents(list);
  }

  /** Re-ticks the durations of the cards on the page. */
  tick(now) {
    for (const card of this.cards.values()) if (card.el.isConnected) card.tick(now);
  }

  /** The card object for a card element. */
  cardFor(el) {
    return el && el.dataset ? this.cards.get(el.dataset.id) : undefined;
  }
}
