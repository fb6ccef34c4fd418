//! Simulation harness, fixtures and test vectors (dev-dependency only).
