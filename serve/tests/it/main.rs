//! The shared serve loop against idle, slow and oversized clients; each module is
//! named as the sentence it checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod a_slow_loris_of_idle_connections_does_not_keep_a_real_request_out;
