//! amc — Agent Mission Control: what every Claude Code and Codex agent in your Zellij panes is doing.
//!
//! # Layout
//!
//! Read top to bottom and you follow the data: disk and processes → facts → rules → one pass → one owner → many
//! clients. Each module imports only from the lines above it (`tests/module_graph.rs` checks this).
//!
//! - [`model`]: the session record (`SessionJson`), its key, status and agent names, and `Decision`/`Removed`.
//! - [`config`]: the environment, read once into `Paths` and `Config`.
//! - [`event`]: the one event type (edges between consecutive states: attention raised/cleared, turn done, …) and
//!   its derivation.
//! - [`metrics`]: the process's counters (passes by trigger and duration, file events, revisions, bytes read, streams,
//!   requests, notifications, actions) for `GET /metrics`.
//! - [`bounded`]: bounded file reads: regular files only (`O_NONBLOCK` + `fstat`), symlinks out of the data dir
//!   refused, a size limit per caller.
//! - [`error`]: the error enum and its one mapping to gRPC and HTTP codes.
//! - [`shutdown`]: SIGINT/SIGTERM and the token every long-lived stream watches.
//! - [`proto`]: the generated `amc.v1` types and the descriptor set for reflection.
//! - [`store`]: session files on disk: safe ids, per-session locks, atomic writes, the trash.
//! - [`transcript`]: context usage from Claude transcripts and Codex rollouts, read incrementally (memchr
//!   scans, a raw-byte line filter, a persisted index in `cache/`), the window and where it came from; one reader
//!   per agent format, the hook's tail reader included.
//! - [`sources`]: all disk and process I/O of the collector; facts only:
//!   - [`sources::agent_procs`]: the one `/proc` scan of a pass, agent processes classified once (Claude, Codex
//!     TUI, `exec`, daemon), and Claude Code's `sessions/<pid>.json`;
//!   - [`sources::process`]: which files processes hold open (read on demand), or one `lsof`;
//!   - [`sources::session_file`]: the session files and event logs on disk, and the one session-file codec;
//!   - [`sources::codex`]: the head and tail of Codex rollouts;
//!   - [`sources::zellij`]: `zellij list-sessions`, with a timeout, parsed and cached.
//! - [`rules`]: pure functions (session, facts, now) → [`model::Decision`]:
//!   - [`rules::liveness`]: `is_dead`, settled once from [`rules::liveness::original`] (the Zellij list, open
//!     files), [`rules::liveness::claude`] and [`rules::liveness::codex`] (process evidence); orphan removal;
//!   - [`rules::status`]: Claude Code's own status record corrects a status the hooks left;
//!   - [`rules::context`]: the context window and `turn_start_tokens`;
//!   - [`rules::dedupe`]: which session keeps a Zellij pane;
//!   - [`rules::cleanup`]: stale event logs and stale `starting` session files;
//!   - [`rules::codex`]: Codex discovery (a rollout's pane, its session file, dismissed ids).
//! - [`hook`]: `amc hook` (a hook event → the session file and the event log) and `amc hooks install|uninstall|status`.
//! - [`collect`]: one collection pass (facts → rules → effects), shared by `amc serve` and `amc snapshot`; its
//!   `Pass` carries each session's decisions and the files it removed.
//! - [`wire`]: session JSON → proto, the published `Snapshot` in both shapes, the `/api/state` envelope, and a
//!   session's `Explanation` (`wire::explain`); the only module that knows both shapes.
//! - [`publisher`]: the one task that owns the state and publishes revisioned snapshots;
//!   [`publisher::decision_log`] keeps the latest decisions per session and the removed sessions' last ones.
//! - [`fleet`]: NATS JetStream: this host's sessions mirrored into the fleet bucket ([`fleet::publish`]), a hub's
//!   union of every host ([`fleet::hub`]), actions routed to the owning host ([`fleet::act`]).
//! - [`notify`]: notifications: the dwell/cooldown/ack policy over the events, durable outboxes, and the webhook,
//!   ntfy and desktop sinks.
//! - [`server`]: one port: gRPC, gRPC-Web, reflection, health, `/api/*`, `/metrics` and the dashboard.
//! - [`top`]: `amc top`, the terminal client: the watch with deltas and reconnects, the dashboard's groups, the
//!   screen (ratatui) and its `--once` table.
//! - [`cli`]: the command line; [`cli::serve`], [`cli::logging`] (`--log-format`), [`cli::service`] (systemd/launchd),
//!   [`cli::doctor`].
//!
//! **Why was a session removed or marked dead?** `rules::*` returns a `Decision` whose `rule` names the function and
//! whose reason is the log line (`liveness_reason` for `is_dead`; the `reason` of "moved to trash" for a removal):
//! grep the words, land on the rule. `collect::Pass::decisions` and `collect::Pass::removed` keep them per session;
//! the publisher's decision log keeps them for `amc explain <id>`, `ExplainSession` and `/api/sessions/{id}/explain`.
#![forbid(unsafe_code)]

pub mod bounded;
pub mod cli;
pub mod collect;
pub mod config;
pub mod error;
pub mod event;
pub mod fleet;
pub mod hook;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod proto;
pub mod publisher;
pub mod rules;
pub mod server;
pub mod shutdown;
pub mod sources;
pub mod store;
pub mod top;
pub mod transcript;
pub mod wire;
