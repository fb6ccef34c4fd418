//! Yuma consensus (placeholder, being written).
