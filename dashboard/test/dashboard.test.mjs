// The dashboard in headless Chromium against a live `amc serve` (started by scripts/test-dashboard on the fixtures of
// fixtures.mjs). Environment: AMC_URL (http://host:port), AMC_TMP (the fixture dir: data/, home/, zellij),
// AMC_BIN (the amc binary, to restart the server), AMC_SERVER_PID_FILE, AMC_SCREENSHOT (where the PNG goes),
// CHROMIUM (default /usr/bin/chromium).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

import { writeSession, writeZellij } from './fixtures.mjs';

const URL_ = process.env.AMC_URL;
const TMP = process.env.AMC_TMP;
const SCREENSHOT = process.env.AMC_SCREENSHOT;
if (!URL_ || !TMP) throw new Error('run through scripts/test-dashboard (AMC_URL and AMC_TMP are not set)');

/** The `local` act token `amc serve` created in the data dir: acting (the Acknowledge button) needs it. */
const TOKEN = readFileSync(join(TMP, 'data', 'token'), 'utf8').trim();

/** The fixture sessions as written (session files on disk), by role. */
const S = JSON.parse(readFileSync(join(TMP, 'sessions.json'), 'utf8'));

let context;
/** The server this test started after stopping the first one (killed in `after`). */
let restarted = null;
let page;
let userDataDir;
const pageErrors = [];
const dialogs = [];

before(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), 'amc-chromium-'));
  // launchPersistentContext takes the fresh user-data-dir; the flags keep Chromium off the network and quiet.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    colorScheme: 'dark',
    reducedMotion: 'reduce',
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    // Refused connections while the server restarts are expected; anything else logged as an error is not.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${msg.text()}`);
  });
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await page.goto(URL_);
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 });
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (restarted && restarted.exitCode === null) restarted.kill('SIGTERM');
});

// ---- helpers ---------------------------------------------------------------------------------------------

const groupOf = (id) =>
  page.evaluate((id) => document.querySelector(`.card[data-id="${id}"]`)?.closest('[data-group]:not(.card)')?.dataset.group ?? null, id);

async function groupCounts() {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('#groups > [data-group]')]
        .filter((g) => !g.hidden)
        .map((g) => [g.dataset.group, Number(g.querySelector('.count').textContent)]),
    ),
  );
}

/** Waits until `id`'s card is in `group`; returns the milliseconds from `t0`. */
async function waitForGroup(id, group, t0, timeout) {
  await page.waitForFunction(
    ([id, group]) => document.querySelector(`#group-${group} .card[data-id="${id}"]`) !== null,
    [id, group],
    { polling: 'raf', timeout },
  );
  return Date.now() - t0;
}

const card = (id) => page.locator(`.card[data-id="${id}"]`);
const text = (id, sel) => card(id).locator(sel).textContent();

// ---- tests -------------------------------------------------------------------------------------------------

test('loads from the live server: groups in order with their counts, live indicator, title', async () => {
  assert.deepEqual(await groupCounts(), { needs_attention: 2, active: 3, starting: 1, done: 1, dead: 1 });
  const order = await page.evaluate(() => [...document.querySelectorAll('#groups > [data-group]:not([hidden])')].map((g) => g.dataset.group));
  assert.deepEqual(order, ['needs_attention', 'active', 'starting', 'done', 'dead']);
  const active = await page.$$eval('#group-active .card', (cs) => cs.map((c) => c.dataset.id));
  assert.deepEqual(active, [S.codex.session_id, S.html.session_id, S.active.session_id], 'sorted by session id');
  assert.equal(await page.locator('#group-dead').evaluate((d) => d.tagName === 'DETAILS' && !d.open), true, 'dead group is a collapsed <details>');
  assert.equal(await groupOf(S.dead.session_id), 'dead');
  assert.equal(await page.textContent('#conn-label'), 'Live');
  assert.match(await page.textContent('#conn-updated'), /^updated \d/);
  assert.match(await page.title(), /^\(2\) amc/);
  const pills = await page.$$eval('#summary .pill', (ps) => ps.map((p) => p.textContent));
  assert.deepEqual(pills, ['2 needs attention', '3 active', '1 starting', '1 done', '1 dead']);
  assert.deepEqual(pageErrors, []);
});

test('the typed gRPC-Web client served by amc at /amc-client.js works from the page (unary and streaming)', async () => {
  const result = await page.evaluate(async () => {
    const client = await import('/amc-client.js');
    const state = await client.getState({ baseUrl: location.origin });
    const stream = client.watchState({ baseUrl: location.origin });
    const first = (await stream.next()).value;
    await stream.return(undefined);
    return { ids: state.sessions.map((s) => s.sessionId).sort(), revision: String(state.revision), firstRevision: String(first.revision), firstCount: first.sessions.length };
  });
  assert.equal(result.ids.length, 8);
  assert.equal(result.firstCount, 8);
  assert.equal(result.firstRevision, result.revision);
  assert.deepEqual(pageErrors, []);
});

test('a card shows project, agent, status with a ticking duration, context, Zellij, preview and questions', async () => {
  const id = S.attention.session_id;
  assert.equal(await text(id, '.project'), 'payments-api');
  assert.equal(await card(id).locator('.project').getAttribute('title'), S.attention.project_dir);
  assert.equal(await text(id, '.agent'), 'Claude');
  assert.equal(await text(id, '.status-text'), 'Needs attention');
  assert.equal(await text(id, '.zellij'), 'work · pane 3');
  assert.equal(await text(id, '.ctx-pct'), '≈62%');
  assert.equal(await text(id, '.ctx-tokens'), '124k / 200k tokens');
  assert.equal(await text(id, '.ctx-model'), 'claude-opus-4-6');
  assert.equal(await card(id).locator('.tag-estimated').isVisible(), true);
  assert.equal(await card(id).locator('.tag-compacted').isVisible(), false);
  assert.equal(await text(id, '.question-text'), S.attention.pending_questions[0].question);
  assert.deepEqual(await card(id).locator('.option-label').allTextContents(), ['Batched backfill', 'Single transaction', 'Skip for now']);
  assert.match(await text(id, '.preview'), /NOT NULL column/);

  const since = await text(id, '.since');
  assert.match(since, /^\d+m \d\ds$/);
  // It ticks once a second; under load a timer can fire late, so allow a few seconds rather than exactly one.
  const ticked = await page
    .waitForFunction(
      ([cardId, before]) => document.querySelector(`.card[data-id="${cardId}"] .since`)?.textContent !== before,
      [id, since],
      { timeout: 4_000 },
    )
    .then(() => true, () => false);
  assert.ok(ticked, 'the duration ticks');
  assert.notEqual(await text(id, '.since'), since, 'the duration ticks');

  assert.equal(await text(S.active.session_id, '.ctx-pct'), '≈45%');
  assert.equal(await card(S.active.session_id).locator('.ctx-bar').getAttribute('aria-valuenow'), '45');
  assert.equal(await text(S.active.session_id, '.zellij'), 'work · pane 5', 'a numeric zellij_pane is shown');
  assert.equal(await text(S.codex.session_id, '.agent'), 'Codex');
  assert.equal(await text(S.codex.session_id, '.ctx-pct'), '51%', 'Codex reports its window: not estimated');
  assert.equal(await card(S.codex.session_id).locator('.tag-estimated').isVisible(), false);
  assert.equal(await card(S.done.session_id).locator('.tag-compacted').isVisible(), true);
  assert.equal(await text(S.starting.session_id, '.ctx-pct'), '—');
  assert.match(await text(S.dead.session_id, '.dead-reason'), /gpu-box/);
  assert.equal(await text(S.permission.session_id, '.attention-kind'), 'Permission');
  assert.equal(await text(S.permission.session_id, '.attention-text'), 'Bash: kubectl rollout restart deploy/api-gateway -n staging');
  assert.equal(await card(S.active.session_id).locator('.attention').isVisible(), false, 'nothing held: no attention line');
  assert.equal(await text(S.active.session_id, '.subagents'), '2 sub-agents');
  assert.equal(await card(S.done.session_id).locator('.subagents').isVisible(), false);
});

test('rate-limit gauges with their reset time, and cost, burn rate, forecast and sparkline on cards', async () => {
  const gauges = page.locator('#limits .gauge');
  await gauges.first().waitFor({ timeout: 5_000 });
  assert.deepEqual(await page.locator('#limits .gauge-label').allTextContents(), ['codex 5h', 'codex week']);
  assert.deepEqual(await page.locator('#limits .gauge-pct').allTextContents(), ['15%', '72%']);
  assert.equal(await page.locator('#limits .gauge-bar').first().getAttribute('aria-valuenow'), '15');
  assert.equal(await gauges.nth(1).getAttribute('data-level'), 'mid');
  for (const reset of await page.locator('#limits .gauge-reset').allTextContents()) assert.match(reset, /^resets /);
  const fill = await page.locator('#limits .gauge-fill').first().evaluate((el) => el.style.width);
  assert.equal(fill, '15%');

  // Claude's own cost-state figure; a Codex model without a price says so instead of guessing.
  assert.equal(await text(S.attention.session_id, '.cost'), '$1.93');
  assert.match(await card(S.attention.session_id).locator('.cost').getAttribute('title'), /cost_state/);
  const codex = S.codex.session_id;
  assert.equal(await text(codex, '.cost'), 'cost ?');
  assert.match(await card(codex).locator('.cost').getAttribute('title'), /no price/);
  assert.match(await text(codex, '.burn'), /tok\/min$/);
  assert.match(await text(codex, '.forecast'), /^≈\d+ turns \/ \d+ min to compaction$/);
  const points = await card(codex).locator('.spark polyline').getAttribute('points');
  assert.equal(points.split(' ').length, 4, 'four replies in the sparkline');
  assert.equal(await card(codex).locator('.spark').isVisible(), true);
});

test('screenshot of the dashboard (desktop, dark) for the docs', async () => {
  assert.ok(SCREENSHOT, 'AMC_SCREENSHOT is set');
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.screenshot({ path: SCREENSHOT });
  const size = statSync(SCREENSHOT).size;
  assert.ok(size > 10_000 && size < 300_000, `screenshot is ${size} bytes`);
});

test('text from session files is shown as text: a <script> preview shows its characters and runs nothing', async () => {
  const id = S.html.session_id;
  const preview = await text(id, '.preview');
  assert.ok(preview.includes('<script>alert(1)</script>'), preview);
  assert.equal(await page.locator('#groups script').count(), 0);
  assert.equal(await page.evaluate(() => document.scripts.length), 1, 'only app.js');
  assert.deepEqual(dialogs, [], 'no alert fired');
  // The long path is cut with an ellipsis, and the long preview stays inside its card.
  const fits = await card(id).evaluate((c) => {
    const p = c.querySelector('.project');
    const pre = c.querySelector('.preview');
    return {
      ellipsis: getComputedStyle(p).textOverflow === 'ellipsis' && p.scrollWidth > p.clientWidth,
      inside: pre.getBoundingClientRect().right <= c.getBoundingClientRect().right + 0.5,
      cardFits: c.getBoundingClientRect().width <= c.parentElement.getBoundingClientRect().width + 0.5,
    };
  });
  assert.deepEqual(fits, { ellipsis: true, inside: true, cardFits: true });
});

test('"why?" on a card shows the rules behind it, as the explain route says, as text, and closes again', async () => {
  const explain = async (id) => (await fetch(`${URL_}/api/sessions/${id}/explain`)).json();
  const open = async (id) => {
    await card(id).locator('.why').click();
    await page.waitForSelector(`.card[data-id="${id}"] .why-list`, { timeout: 5_000 });
  };

  const id = S.active.session_id;
  const why = card(id).locator('.why');
  assert.equal(await why.textContent(), 'why?');
  await open(id);
  assert.equal(await why.getAttribute('aria-expanded'), 'true');
  assert.equal(await card(id).getAttribute('aria-expanded'), 'false', 'the card itself does not expand');
  const expected = await explain(id);
  assert.equal(expected.present, true);
  assert.deepEqual(await card(id).locator('.why-rule').allTextContents(), expected.decisions.map((d) => d.rule));
  const fields = await card(id).locator('.why-item').evaluateAll((items) => items.map((i) => i.dataset.field));
  assert.deepEqual(fields, expected.decisions.map((d) => d.field));
  assert.ok(fields.includes('status') && fields.includes('is_dead'), fields.join());
  assert.match(await text(id, '.why-head'), /latest collection pass/);
  await why.click();
  assert.equal(await card(id).locator('.why-panel').isVisible(), false);
  assert.equal(await why.getAttribute('aria-expanded'), 'false');

  // The dead card says which Zellij session is gone, in the is_dead decision's evidence.
  await page.locator('#group-dead').evaluate((d) => (d.open = true));
  await open(S.dead.session_id);
  const dead = card(S.dead.session_id).locator('.why-item[data-field="is_dead"]').last();
  assert.equal(await dead.locator('.why-value').textContent(), 'true');
  assert.match(await dead.locator('.why-evidence').textContent(), /gpu-box/);
  await card(S.dead.session_id).locator('.why').click();
  await page.locator('#group-dead').evaluate((d) => (d.open = false));

  // Values from a session file are text: the <script> session's evidence injects nothing.
  await open(S.html.session_id);
  assert.equal(await page.locator('#groups script').count(), 0);
  assert.deepEqual(dialogs, []);
  await card(S.html.session_id).locator('.why').click();
  assert.deepEqual(pageErrors, []);
});

test('card actions: dismiss on finished cards, options on a question, a text box; acting needs the token', async () => {
  const result = (id) => card(id).locator('.act-result');
  const visible = (id, sel) => card(id).locator(sel).isVisible();
  assert.equal(await visible(S.done.session_id, '.act-dismiss'), true, 'a done session can be dismissed');
  assert.equal(await visible(S.active.session_id, '.act-dismiss'), false, 'a running one cannot');
  assert.equal(await visible(S.permission.session_id, '.decide'), false, 'no held request: no approve/deny');
  assert.equal(await visible(S.active.session_id, '.act-text'), true);
  assert.deepEqual(
    await card(S.attention.session_id).locator('.act-option').allTextContents(),
    ['1. Batched backfill', '2. Single transaction', '3. Skip for now'],
  );

  // This page has no token: the server refuses, the card says why.
  await card(S.done.session_id).locator('.act-dismiss').click();
  await page.waitForFunction((id) => document.querySelector(`.card[data-id="${id}"] .act-result`)?.dataset.ok === 'false', S.done.session_id, { timeout: 5_000 });
  assert.match(await result(S.done.session_id).textContent(), /token/);

  // With the token amc serve wrote (as in the URL it prints): dismissed, and the card leaves the board.
  const token = readFileSync(join(TMP, 'data', 'token'), 'utf8').trim();
  const acting = await context.newPage();
  await acting.goto(`${URL_}/#access_token=${token}`);
  await acting.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 });
  await acting.locator(`.card[data-id="${S.attention.session_id}"] .act-option`).first().click();
  await acting.waitForFunction((id) => document.querySelector(`.card[data-id="${id}"] .act-result`)?.dataset.ok === 'false', S.attention.session_id, { timeout: 5_000 });
  assert.match(await acting.locator(`.card[data-id="${S.attention.session_id}"] .act-result`).textContent(), /zellij/, 'the fake zellij cannot type: refused, said');
  await acting.locator(`.card[data-id="${S.done.session_id}"] .act-dismiss`).click();
  await acting.waitForSelector(`.card[data-id="${S.done.session_id}"]`, { state: 'detached', timeout: 10_000 });
  await acting.close();
  const restored = await fetch(`${URL_}/api/sessions/${S.done.session_id}/restore`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal((await restored.json()).outcome, 'restored');
  await page.waitForSelector(`.card[data-id="${S.done.session_id}"]`, { timeout: 10_000 });
  assert.deepEqual(pageErrors, []);
});

test('"I am away from this pane" on Claude cards switches remote approval, kept in the session file; "Focus pane"', async () => {
  const id = S.permission.session_id;
  const file = join(TMP, 'data', 'sessions', `${id}.json`);
  const onDisk = () => JSON.parse(readFileSync(file, 'utf8')).remote_approval === true;
  const box = (p) => p.locator(`.card[data-id="${id}"] .act-away-input`);
  assert.equal(await card(id).locator('.act-away').isVisible(), true, 'a Claude card has the toggle');
  assert.equal(await card(S.codex.session_id).locator('.act-away').isVisible(), false, 'a Codex card has none');
  assert.equal(await box(page).isChecked(), false);

  // Without the token: refused, said, and the box goes back (at once: a click, not check(), which would insist).
  await box(page).click();
  await page.waitForFunction((sid) => document.querySelector(`.card[data-id="${sid}"] .act-result`)?.dataset.ok === 'false', id, { timeout: 5_000 });
  assert.match(await card(id).locator('.act-result').textContent(), /token/);
  assert.equal(await box(page).isChecked(), false);
  assert.equal(onDisk(), false);

  const acting = await context.newPage();
  await acting.goto(`${URL_}/#access_token=${TOKEN}`);
  await acting.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 });
  // "Focus pane" asks the (fake) Zellij to focus the session's own pane; a dead card has no such button.
  assert.equal(await card(S.dead.session_id).locator('.act-focus').isVisible(), false);
  await acting.locator(`.card[data-id="${id}"] .act-focus`).click();
  await acting.waitForFunction((sid) => document.querySelector(`.card[data-id="${sid}"] .act-result`)?.textContent === 'focused', id, { timeout: 5_000 });
  await box(acting).check();
  await acting.waitForFunction((sid) => document.querySelector(`.card[data-id="${sid}"] .act-result`)?.textContent === 'enabled', id, { timeout: 5_000 });
  assert.equal(onDisk(), true, 'the session file has remote_approval');
  // Every page shows it from the state (the other page, without reloading; a new page too).
  await page.waitForFunction((sid) => document.querySelector(`.card[data-id="${sid}"] .act-away-input`)?.checked === true, id, { timeout: 5_000 });
  const fresh = await context.newPage();
  await fresh.goto(URL_);
  await fresh.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 });
  assert.equal(await box(fresh).isChecked(), true);
  await fresh.close();
  await box(acting).uncheck();
  await acting.waitForFunction((sid) => document.querySelector(`.card[data-id="${sid}"] .act-result`)?.textContent === 'disabled', id, { timeout: 5_000 });
  assert.equal(onDisk(), false);
  await page.waitForFunction((sid) => document.querySelector(`.card[data-id="${sid}"] .act-away-input`)?.checked === false, id, { timeout: 5_000 });
  await acting.close();
  assert.deepEqual(pageErrors, []);
});

test('a session file changed on disk shows within a second, in place (same element, no re-render)', async () => {
  const id = S.active.session_id;
  await card(id).evaluate((el) => {
    el.dataset.marker = 'kept';
  });
  const before = await page.evaluate(() => document.body.dataset.revision);
  const deltasBefore = Number(await page.evaluate(() => document.body.dataset.deltas ?? '0'));
  const t0 = Date.now();
  writeSession(TMP, { ...S.active, status: 'needs_attention', last_event: 'Notification', last_event_at: new Date().toISOString(),
    last_message_preview: 'Claude needs your permission to use Bash: `npx playwright test`' });
  const ms = await waitForGroup(id, 'needs_attention', t0, 5_000);
  console.log(`# status change on disk → on screen: ${ms} ms`);
  assert.ok(ms < 1000, `took ${ms} ms`);
  assert.equal(await card(id).getAttribute('data-marker'), 'kept', 'the card element was reused');
  assert.notEqual(await page.evaluate(() => document.body.dataset.revision), before);
  assert.equal((await groupCounts()).needs_attention, 3);
  assert.match(await text(id, '.preview'), /npx playwright test/);
  assert.match(await page.title(), /^\(3\) amc/);
  // The change came as a delta (`/api/stream?deltas=1`), and the page holds exactly the server's state.
  assert.ok(Number(await page.evaluate(() => document.body.dataset.deltas ?? '0')) > deltasBefore, 'applied as a delta');
  const api = await (await fetch(`${URL_}/api/state`)).json();
  const shown = await page.evaluate(() => ({
    revision: document.body.dataset.revision,
    ids: [...document.querySelectorAll('#groups .card')].map((c) => c.dataset.id).sort(),
  }));
  assert.deepEqual(shown, { revision: String(api.revision), ids: api.sessions.map((s) => s.session_id).sort() });

  const t1 = Date.now();
  writeSession(TMP, S.active);
  const back = await waitForGroup(id, 'active', t1, 5_000);
  console.log(`# and back: ${back} ms`);
  assert.ok(back < 1000, `took ${back} ms`);
});

test('each card has an event timeline, and a waiting card an Acknowledge button that silences it', async () => {
  const id = S.active.session_id;
  const t0 = Date.now();
  writeSession(TMP, { ...S.active, status: 'needs_attention', last_event_at: new Date().toISOString() });
  await waitForGroup(id, 'needs_attention', t0, 5_000);
  const item = (kind) => `.card[data-id="${id}"] .timeline .tl-item[data-kind="${kind}"]`;
  await page.waitForSelector(item('attention_raised'), { timeout: 5_000 });
  assert.match(await text(id, '.timeline'), /needs you/);
  const button = card(id).locator('button.ack');
  assert.ok(await button.isVisible(), 'a waiting card offers Acknowledge');
  // This page has no token: acknowledging is acting, the server refuses.
  await button.click();
  await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'Acknowledge (failed)',
    `.card[data-id="${id}"] button.ack`, { timeout: 5_000 });
  // With the token amc serve wrote: acknowledged.
  const acting = await context.newPage();
  await acting.goto(`${URL_}/#access_token=${TOKEN}`);
  await acting.waitForSelector('#conn[data-state="live"]', { timeout: 10_000 });
  await acting.locator(`.card[data-id="${id}"] button.ack`).click();
  await acting.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'Acknowledged',
    `.card[data-id="${id}"] button.ack`, { timeout: 5_000 });
  await acting.close();
  // The server took it: the same acknowledgement over HTTP answers 200 (with the act token; 401 without).
  const refused = await fetch(`${URL_}/api/sessions/${id}/ack`, { method: 'POST' });
  assert.equal(refused.status, 401);
  const r = await fetch(`${URL_}/api/sessions/${id}/ack`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.equal(r.status, 200);
  const t1 = Date.now();
  writeSession(TMP, S.active);
  await waitForGroup(id, 'active', t1, 5_000);
  await page.waitForSelector(item('attention_cleared'), { timeout: 5_000 });
  assert.equal(await button.isVisible(), false, 'no Acknowledge on a card that does not wait');
  const policy = await (await fetch(`${URL_}/api/notify`)).json();
  assert.equal(policy.dwell_ms, 5000);
});

test('filters: agent and project selects, search over project and session id, "/" and Esc', async () => {
  const visible = () => page.$$eval('#groups .card', (cs) => cs.filter((c) => c.checkVisibility()).map((c) => c.dataset.id));
  await page.selectOption('#filter-agent', 'codex');
  assert.deepEqual(await visible(), [S.codex.session_id]);
  assert.match(page.url(), /agent=codex/);
  await page.selectOption('#filter-agent', '');
  await page.selectOption('#filter-project', S.active.project_dir);
  assert.deepEqual(await visible(), [S.active.session_id]);
  await page.selectOption('#filter-project', '');

  await page.locator('body').click({ position: { x: 5, y: 300 } });
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search');
  await page.keyboard.type('payments');
  assert.deepEqual(await visible(), [S.attention.session_id]);
  await page.fill('#search', S.codex.session_id.slice(0, 8).toUpperCase());
  assert.deepEqual(await visible(), [S.codex.session_id]);
  await page.fill('#search', 'no-such-project');
  assert.equal(await page.isVisible('#empty'), true);
  assert.equal(await page.textContent('#empty-title'), 'No sessions match');
  await page.focus('#search');
  await page.keyboard.press('Escape');
  assert.equal(await page.inputValue('#search'), '');
  assert.equal((await visible()).length, 7);
  assert.equal(await page.isVisible('#empty'), false);
});

test('keyboard: cards are focusable with a visible ring, arrows move, Enter expands, the dead group opens', async () => {
  await page.focus('#search');
  await page.keyboard.press('ArrowDown');
  const first = await page.evaluate(() => document.activeElement.dataset.id);
  assert.equal(first, S.permission.session_id);
  const ring = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  assert.equal(ring.style, 'solid');
  assert.ok(ring.width >= 2);
  await page.keyboard.press('j');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.id), S.attention.session_id);
  await page.keyboard.press('Enter');
  assert.equal(await card(S.attention.session_id).getAttribute('aria-expanded'), 'true');
  await page.keyboard.press('Enter');
  assert.equal(await card(S.attention.session_id).getAttribute('aria-expanded'), 'false');
  await page.keyboard.press('k');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.id), S.permission.session_id);

  await page.focus('#group-dead > summary');
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#group-dead').evaluate((d) => d.open), true);
  assert.equal(await card(S.dead.session_id).isVisible(), true);
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#group-dead').evaluate((d) => d.open), false);
});

test('a session whose Zellij session goes away moves to the dead group', async () => {
  const id = S.done.session_id;
  assert.equal(await groupOf(id), 'done');
  const t0 = Date.now();
  writeZellij(TMP, ['work']); // drops "other", where docs-site runs
  const ms = await waitForGroup(id, 'dead', t0, 9_000);
  console.log(`# zellij session gone → dead group: ${ms} ms`);
  assert.match(await text(id, '.dead-reason'), /other/);
  assert.deepEqual(await groupCounts(), { needs_attention: 2, active: 3, starting: 1, dead: 2 });
});

test('phone viewport (390x844): one column, no horizontal overflow', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => document.querySelector('#group-dead').setAttribute('open', ''));
  const layout = await page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const cards = [...document.querySelectorAll('#groups .card')].filter((c) => c.checkVisibility());
    const lefts = new Set(cards.map((c) => Math.round(c.getBoundingClientRect().left)));
    const wide = [...document.querySelectorAll('body *')].filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > vw + 0.5 && !e.closest('.visually-hidden'));
    return { vw, scroll: document.documentElement.scrollWidth, cards: cards.length, columns: lefts.size, wide: wide.map((e) => e.className || e.tagName).slice(0, 5) };
  });
  await page.evaluate(() => document.querySelector('#group-dead').removeAttribute('open'));
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.equal(layout.scroll, layout.vw, `scrollWidth ${layout.scroll} > ${layout.vw}`);
  assert.deepEqual(layout.wide, []);
  assert.equal(layout.columns, 1);
  assert.equal(layout.cards, 8, 'every card, the dead group opened');
});

test('readable in light and dark: text contrast at least 4.5:1 on cards', async () => {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    const ratios = await page.evaluate(() => {
      const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
      const lum = ([r, g, b]) => {
        const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
      };
      const contrast = (a, b) => {
        const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((m, n) => n - m);
        return (x + 0.05) / (y + 0.05);
      };
      const c = document.querySelector('#group-active .card');
      const bg = getComputedStyle(c).backgroundColor;
      const out = { bodyBg: getComputedStyle(document.body).backgroundColor };
      for (const sel of ['.project', '.since', '.ctx-tokens', '.card-foot', '.status']) {
        out[sel] = contrast(getComputedStyle(c.querySelector(sel)).color, bg);
      }
      return out;
    });
    for (const [sel, r] of Object.entries(ratios)) if (sel !== 'bodyBg') assert.ok(r >= 4.5, `${scheme} ${sel}: ${r.toFixed(2)}`);
    const dark = (await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).match(/\d+/g).map(Number)[0] < 100;
    assert.equal(dark, scheme === 'dark');
  }
});

test('hundreds of sessions with missing or wrongly typed fields render, and go away again', async () => {
  const n = 300;
  const statuses = ['active', 'done', 'needs_attention', 'starting', 'mystery', 42, null];
  const extra = [];
  for (let i = 0; i < n; i++) {
    const s = {
      session_id: `bulk-${String(i).padStart(4, '0')}`,
      status: statuses[i % statuses.length],
      agent: i % 11 === 0 ? ['x'] : i % 2 ? 'claude' : 'gemini',
      project_dir: i % 13 === 0 ? { nope: true } : `/srv/${'deeply/'.repeat(i % 9)}project-${i % 17}`,
      zellij_session: 'work',
      // Panes of their own: two sessions on one pane are deduplicated by the collector.
      zellij_pane: i % 5 === 0 ? null : 1000 + i,
      last_event_at: i % 7 === 0 ? 'not a date' : new Date(Date.now() - i * 1000).toISOString(),
      last_message_preview: i % 3 === 0 ? 'x'.repeat(2000) : i % 3 === 1 ? 42 : 'a '.repeat(300),
      pending_questions: i % 4 === 0 ? { broken: 1 } : [{ question: 'Q?', options: [null, { label: 'ok' }, 'raw'] }],
      context_usage: i % 6 === 0 ? 'lots' : { current_tokens: i * 1000, window_tokens: i % 5 ? 200_000 : 0 },
      context_window_inferred: 'maybe',
    };
    extra.push(s);
  }
  const t0 = Date.now();
  for (const s of extra) writeSession(TMP, s);
  await page.waitForFunction((want) => document.querySelectorAll('#groups .card').length === want, 8 + n, { timeout: 15_000, polling: 100 });
  const ms = Date.now() - t0;
  console.log(`# ${n} more sessions written → rendered: ${ms} ms`);
  const timing = await page.evaluate(() => {
    const t = performance.now();
    document.body.offsetHeight; // eslint-disable-line no-unused-expressions
    return performance.now() - t;
  });
  assert.ok(timing < 500, `layout took ${timing} ms`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0);
  assert.deepEqual(pageErrors, []);
  assert.ok((await groupCounts()).other > 0, 'unknown statuses are in "other"');

  for (const s of extra) unlinkSync(join(TMP, 'data', 'sessions', `${s.session_id}.json`));
  await page.waitForFunction(() => document.querySelectorAll('#groups .card').length === 8, null, { timeout: 15_000, polling: 100 });
});

test('a server restart: reconnecting, then offline, usable all along, then live on the new instance', async () => {
  const pidFile = process.env.AMC_SERVER_PID_FILE;
  const bin = process.env.AMC_BIN;
  assert.ok(pidFile && bin, 'AMC_SERVER_PID_FILE and AMC_BIN are set');
  const instance = await page.evaluate(() => document.body.dataset.instance);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
  assert.ok(!alive(pid), 'old server stopped');
  await page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 5_000 });
  assert.equal(await page.textContent('#conn-label'), 'Reconnecting…');
  assert.equal(await page.isVisible('#notice'), true);
  assert.match(await page.textContent('#notice'), /Connection to amc lost/);
  assert.equal(await page.locator('#groups .card').count(), 8, 'the last state stays on screen');
  await page.fill('#search', 'payments'); // still usable
  assert.equal(await page.locator('#groups .card:visible').count(), 1);
  await page.fill('#search', '');
  // Still down 10 s after the loss: "offline" (retries go on).
  await page.waitForSelector('#conn[data-state="offline"]', { timeout: 13_000 });
  assert.equal(await page.textContent('#conn-label'), 'Offline');
  assert.match(await page.textContent('#conn-updated'), /ago$/);

  const addr = new URL(URL_).host;
  const addrFile = join(TMP, 'addr2');
  const log = openSync(join(TMP, 'server2.log'), 'a');
  restarted = spawn(bin, ['serve', '--listen', addr, '--addr-file', addrFile], {
    env: { ...process.env, HOME: join(TMP, 'home'), AMC_DATA_DIR: join(TMP, 'data'), AMC_ZELLIJ_BIN: join(TMP, 'zellij') },
    stdio: ['ignore', log, log],
  });
  writeFileSync(pidFile, `${restarted.pid}\n`);
  const t0 = Date.now();
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
  console.log(`# server back → page live again: ${Date.now() - t0} ms`);
  await page.waitForFunction((old) => document.body.dataset.instance && document.body.dataset.instance !== old, instance, { timeout: 5_000 });
  assert.equal(await page.isVisible('#notice'), false);
  assert.equal(await page.textContent('#conn-label'), 'Live');
  assert.equal(await page.locator('#groups .card').count(), 8);
  assert.deepEqual(pageErrors, []);
});

test('with no sessions left, the empty state says how to install the hook', async () => {
  for (const s of Object.values(S)) unlinkSync(join(TMP, 'data', 'sessions', `${s.session_id}.json`));
  await page.waitForSelector('#empty:not([hidden])', { timeout: 5_000 });
  assert.equal(await page.textContent('#empty-title'), 'No sessions');
  assert.match(await page.textContent('#empty-text'), /amc hooks install/);
  assert.equal(await page.locator('#groups .card').count(), 0);
  assert.equal(await page.title(), 'amc');
  assert.deepEqual(pageErrors, []);
});

function alive(pid) {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}
