//! Integration tests of the shared types (one binary); each module is named as the
//! sentence it checks.

mod codec_round_trips_and_rejects_hostile_bytes;
