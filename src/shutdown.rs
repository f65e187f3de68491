//! SIGINT/SIGTERM/SIGHUP handling (SIGHUP, the closing terminal's signal, is a clean shutdown too: amc has no reload;
//! restart it to read a changed config). Every long-lived stream (WatchState, SSE) watches the same
//! [`CancellationToken`](tokio_util::sync::CancellationToken), so a shutdown ends them all and the process exits
//! even while clients are connected.

/// Resolves when the process receives SIGINT, SIGTERM or SIGHUP.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(unix)]
    let hup = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGHUP");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    #[cfg(not(unix))]
    let hup = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = term => tracing::info!("SIGTERM received, shutting down"),
        () = hup => tracing::info!("SIGHUP received, shutting down (amc has no reload: start it again)"),
    }
}
