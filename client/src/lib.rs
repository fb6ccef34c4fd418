//! Talk to a node's API with typed requests.
