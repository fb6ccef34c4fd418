//! Fixtures: the penguins table, and a node that serves one data task and nothing else.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{Json, Router, http::StatusCode, routing::get};
use plexus_client::{Client, wire::DataTaskAt};
use plexus_datastore::{DataStore, ReferenceKind, public_split};
use plexus_synth::{Schema, Table};
use tokio::task::JoinHandle;

/// The penguins fixture's folder.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../synth/tests/fixtures");

/// The penguins SDV metadata JSON, as bytes.
pub(crate) fn penguins_metadata() -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/penguins.json")).unwrap()
}

/// The penguins schema and reference CSV.
pub(crate) fn penguins() -> (Schema, Vec<u8>) {
    let schema =
        Schema::from_metadata_json(std::str::from_utf8(&penguins_metadata()).unwrap()).unwrap();
    (
        schema,
        std::fs::read(format!("{FIXTURES}/penguins.csv")).unwrap(),
    )
}

/// A node API on loopback that answers `GET /v1/data/tasks/{id}` for one task and
/// counts every other request (answered 404). Stops when dropped.
pub(crate) struct TaskNode {
    addr: SocketAddr,
    others: Arc<AtomicUsize>,
    server: JoinHandle<std::io::Result<()>>,
}

impl TaskNode {
    /// Serve `task`.
    pub(crate) async fn serving(task: DataTaskAt) -> Self {
        let others = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&others);
        let path = format!("/v1/data/tasks/{}", task.task.id);
        let router = Router::new()
            .route(
                &path,
                get(move || {
                    let task = task.clone();
                    async move { Json(task) }
                }),
            )
            .fallback(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { StatusCode::NOT_FOUND }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            addr,
            others,
            server,
        }
    }

    /// A client for it.
    pub(crate) fn client(&self) -> Client {
        Client::new(&format!("http://{}", self.addr)).unwrap()
    }

    /// Requests for anything but the task.
    pub(crate) fn other_requests(&self) -> usize {
        self.others.load(Ordering::SeqCst)
    }
}

impl Drop for TaskNode {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The penguins reference published in `store` as a requester does: its schema and rows,
/// how the store resolved it, and the training half contributors see.
pub(crate) struct Published {
    pub(crate) schema: Schema,
    pub(crate) reference: Table,
    pub(crate) kind: ReferenceKind,
    pub(crate) train: Table,
}

/// Publish the penguins reference's split in `store` and resolve it as a validator does.
pub(crate) async fn publish_penguins(store: &DataStore) -> Published {
    let (schema, reference_csv) = penguins();
    let reference = Table::from_csv(&schema, &reference_csv).unwrap();
    // The requester publishes the training half; the chain would hold `commitment`.
    let split = public_split(&schema, &reference_csv).unwrap();
    let commitment = store.publish_reference(&split).await.unwrap();
    let kind = store
        .resolve_reference(&schema, &commitment, &reference_csv, &reference)
        .await
        .unwrap();
    // Contributors see only the training half.
    let manifest = store.public_reference(&commitment).await.unwrap().unwrap();
    let train = Table::from_csv(&schema, &store.training_half(&manifest).await.unwrap()).unwrap();
    Published {
        schema,
        reference,
        kind,
        train,
    }
}
