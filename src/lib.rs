//! amc — Agent Mission Control: what every Claude Code and Codex agent in your Zellij panes is doing.
//!
//! # Layout
//!
//! Read top to bottom and you follow the data: disk and processes → facts → rules → one pass → one owner → many
//! clients.
//!
//! - [`model`]: the session record (`SessionJson`), its key, status and agent names, and the `Decision` rules return.
//! - [`config`]: the environment, read once into `Paths` and `Config`.
//! - [`store`]: session files on disk: safe ids, per-session locks, atomic writes, the trash.
//! - [`transcript`]: context usage from Claude transcripts and Codex rollouts, read incrementally.
//! - [`collect`]: one collection pass (the original's rules), shared by `amc serve` and `amc snapshot`.
//! - [`publisher`]: the one task that owns the state and publishes revisioned snapshots.
//! - [`wire`]: session JSON → proto, the published `Snapshot` in both shapes, and the `/api/state` envelope; the only
//!   module that knows both shapes.
//! - [`server`]: one port: gRPC, gRPC-Web, reflection, health, `/api/*` and the dashboard.
//! - [`hook`]: `amc hook` and `amc hooks install|uninstall|status`.
//! - [`error`]: the error enum and its one mapping to gRPC and HTTP codes.
//! - [`shutdown`]: SIGINT/SIGTERM and the token every long-lived stream watches.
//! - [`cli`]: the command line.
#![forbid(unsafe_code)]

pub mod cli;
pub mod collect;
pub mod config;
pub mod error;
pub mod hook;
pub mod model;
pub mod proto;
pub mod publisher;
pub mod rules;
pub mod server;
pub mod shutdown;
pub mod sources;
pub mod store;
pub mod transcript;
pub mod wire;
