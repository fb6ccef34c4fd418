//! Derive keys from mnemonics and keep them encrypted at rest.
