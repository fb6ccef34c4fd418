//! Serve the node's HTTP API and the web UI.
