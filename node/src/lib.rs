//! Order blocks with BFT consensus and feed finalized blocks to the ledger.
