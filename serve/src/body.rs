//! Bodies with a guard: a request body that fails past its deadline, and a response
//! body that keeps its connection marked busy until it is finished or dropped.

use std::{
    fmt,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

use crate::table::Busy;

/// A body that fails once its deadline passes, or holds a connection busy.
pub(crate) struct Guarded {
    inner: Body,
    deadline: Option<Pin<Box<Sleep>>>,
    _busy: Option<Busy>,
}

impl Guarded {
    /// A request body that must be read to its end before `deadline`.
    pub(crate) fn request(inner: Body, deadline: Option<Instant>) -> Self {
        Self {
            inner,
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            _busy: None,
        }
    }

    /// A response body whose connection stays busy until it is done.
    pub(crate) fn response(inner: Body, busy: Busy) -> Self {
        Self {
            inner,
            deadline: None,
            _busy: Some(busy),
        }
    }
}

/// The request body did not arrive in time.
#[derive(Debug)]
struct TooSlow;

impl fmt::Display for TooSlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for TooSlow {}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            self.deadline = None;
            return Poll::Ready(Some(Err(axum::Error::new(TooSlow))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
