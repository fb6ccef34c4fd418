//! A validator's signed score report for a data task, published beside the dataset.

use serde::{Deserialize, Serialize};

use crate::keys::{AccountId, KeyError, Keypair, Signature};

/// Domain separator of a score report's signature.
pub const REPORT_SIGNING_DOMAIN: &[u8] = b"plexus/data-report/v1";

/// Largest report a store or API accepts: 1 MiB of JSON.
pub const MAX_REPORT_BYTES: usize = 1 << 20;

/// A validator's score report for one data task: the report's JSON text exactly as it
/// was signed, so anyone (a browser included) can check the signature without
/// re-encoding anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReport {
    /// The task scored.
    pub task: u64,
    /// The validator hotkey that scored it and signs the report.
    pub validator: AccountId,
    /// The report (JSON text).
    pub report: String,
    /// ed25519 over [`report_signing_bytes`].
    pub signature: Signature,
}

/// What a report's signature covers: the domain, the task id (8 bytes, big-endian)
/// and the report's UTF-8 bytes.
pub fn report_signing_bytes(task: u64, report: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(REPORT_SIGNING_DOMAIN.len() + 8 + report.len());
    out.extend_from_slice(REPORT_SIGNING_DOMAIN);
    out.extend_from_slice(&task.to_be_bytes());
    out.extend_from_slice(report.as_bytes());
    out
}

impl SignedReport {
    /// Sign `report` (JSON text) for `task` with the validator's hotkey.
    pub fn sign(key: &Keypair, task: u64, report: String) -> Self {
        let signature = key.sign(&report_signing_bytes(task, &report));
        Self {
            task,
            validator: key.account(),
            report,
            signature,
        }
    }

    /// Check the signature against the validator's key.
    pub fn verify(&self) -> Result<(), KeyError> {
        self.validator.verify(
            &report_signing_bytes(self.task, &self.report),
            &self.signature,
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_signed_report_verifies_and_any_change_breaks_it() {
        let key = Keypair::from_label("validator");
        let signed = SignedReport::sign(&key, 7, r#"{"task":7}"#.into());
        signed.verify().unwrap();

        let mut other_task = signed.clone();
        other_task.task = 8;
        assert_eq!(other_task.verify(), Err(KeyError::BadSignature));
        let mut edited = signed.clone();
        edited.report = r#"{"task":7} "#.into();
        assert_eq!(edited.verify(), Err(KeyError::BadSignature));
        let mut impostor = signed;
        impostor.validator = Keypair::from_label("other").account();
        assert_eq!(impostor.verify(), Err(KeyError::BadSignature));
    }
}
