//! The accept loop: maxclients, and shutdown.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::state::ServerState;
use super::{connection, ServerConfig};

/// How long shutdown waits for connections to finish their current batch.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

pub(super) async fn run(
    listener: TcpListener,
    server: Arc<ServerState>,
    config: Arc<ServerConfig>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        // Reap finished connections so the set does not grow with every client ever served.
        while connections.try_join_next().is_some() {}
        let (mut stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let stats = &server.stats;
        stats.accepted.fetch_add(1, Ordering::Relaxed);
        // `maxclients` as CONFIG SET left it.
        let maxclients = server.settings.maxclients.load(Ordering::Relaxed);
        if stats.connected.load(Ordering::Relaxed) as u64 >= maxclients {
            tracing::warn!(%peer, "max number of clients reached");
            tokio::spawn(async move {
                let _ = stream
                    .write_all(b"-ERR max number of clients reached\r\n")
                    .await;
            });
            continue;
        }
        stats.connected.fetch_add(1, Ordering::Relaxed);
        let (server, config, shutdown) = (server.clone(), config.clone(), shutdown.clone());
        connections.spawn(async move {
            tracing::debug!(%peer, "client connected");
            let stats = Arc::clone(&server.stats);
            connection::serve(stream, server, config, shutdown).await;
            stats.connected.fetch_sub(1, Ordering::Relaxed);
            tracing::debug!(%peer, "client gone");
        });
    }
    tracing::info!("shutting down: {} connections to close", connections.len());
    if tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        connections.abort_all();
    }
}
