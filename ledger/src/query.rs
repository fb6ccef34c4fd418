//! Typed reads of the state for the API and the CLI.
