//! The API served on 127.0.0.1 for the client to talk to.

use std::net::SocketAddr;

use futures::future::BoxFuture;
use plexus_api::ApiState;
use plexus_client::Client;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

/// A running server; stops when dropped or on [`Server::stop`].
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Serve `state` with `plexus_api::serve` on an ephemeral loopback port.
    pub(crate) async fn start(state: ApiState) -> Self {
        Self::spawn(|listener, shutdown| plexus_api::serve(listener, state, shutdown)).await
    }

    /// Serve an arbitrary router (a lying node, a nested API) with `axum::serve`.
    pub(crate) async fn start_router(router: axum::Router) -> Self {
        Self::spawn(|listener, shutdown| async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
        })
        .await
    }

    /// Bind an ephemeral loopback port and run `serve` on it until stopped.
    async fn spawn<F>(serve: impl FnOnce(TcpListener, BoxFuture<'static, ()>) -> F) -> Self
    where
        F: Future<Output = std::io::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve(listener, Box::pin(shutdown)));
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A client for this server.
    pub(crate) fn client(&self) -> Client {
        Client::new(&format!("http://{}", self.addr)).unwrap()
    }

    /// Shut down gracefully and wait for the server loop to return.
    pub(crate) async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), task)
            .await
            .expect("the server stops within 10 s")
            .expect("the server task does not panic")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
