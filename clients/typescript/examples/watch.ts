// Watches amc's state and logs every change (sessions added, removed, or changing status).
//   npx tsx examples/watch.ts [http://127.0.0.1:7400] [--max N]     (--max: stop after N snapshots)
import { AmcError, SessionStatus, watchState, type Session } from "../src/index.js";

const args = process.argv.slice(2);
const maxIdx = args.indexOf("--max");
const max = maxIdx >= 0 ? Number(args.splice(maxIdx, 2)[1]) : Infinity;
const baseUrl = args[0] ?? process.env.AMC_URL ?? "http://127.0.0.1:7400";

const label = (s: Session) => `${s.sessionId} ${SessionStatus[s.status] ?? s.rawStatus}`;

let previous = new Map<string, Session>();
let seen = 0;
try {
  for await (const state of watchState({
    baseUrl,
    onReconnect: (r) => console.log(`reconnecting (attempt ${r.attempt}, in ${r.delayMs} ms): ${r.error.message}`),
  })) {
    const current = new Map(state.sessions.map((s) => [s.sessionId, s]));
    console.log(`revision ${state.revision} (instance ${state.instanceId}): ${current.size} session(s)`);
    for (const [id, s] of current) {
      const before = previous.get(id);
      if (!before) console.log(`  + ${label(s)}`);
      else if (before.status !== s.status) console.log(`  ~ ${label(s)} (was ${SessionStatus[before.status]})`);
    }
    for (const [id, s] of previous) if (!current.has(id)) console.log(`  - ${label(s)}`);
    previous = current;
    if (++seen >= max) break;
  }
} catch (err) {
  console.error(err instanceof AmcError ? err.message : err);
  process.exit(1);
}
