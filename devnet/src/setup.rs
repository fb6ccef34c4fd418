//! The first start's wallets, funding, subnet and stake, recorded in `DIR/devnet.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Devnet, DevnetError};

/// What the first start set up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Setup {
    pub(crate) netuid: u16,
    pub(crate) faucet_mnemonic: String,
}

impl Setup {
    /// The record in `dir`, if a first start wrote one.
    pub(crate) fn read(dir: &Path) -> Result<Option<Self>, DevnetError> {
        let path = dir.join("devnet.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| DevnetError::Record { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(DevnetError::Read { path, source }),
        }
    }

    /// Record it in `dir`, atomically and readable only by this user.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), DevnetError> {
        let path = dir.join("devnet.json");
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| DevnetError::Record {
            path: path.clone(),
            source,
        })?;
        plexus_wallet::write_private(&path, &bytes)
            .map_err(|source| DevnetError::Write { path, source })
    }
}

impl Devnet {
    /// Create the wallets and the subnet on first start; read them back after.
    pub(crate) async fn setup(&self) -> Result<Setup, DevnetError> {
        if let Some(setup) = Setup::read(&self.config.dir)? {
            return Ok(setup);
        }
        let faucet = self
            .cli(&["wallet", "create", "--name", "faucet", "--overwrite"])
            .await?;
        let faucet_mnemonic = faucet["coldkey_mnemonic"]
            .as_str()
            .ok_or(DevnetError::Output {
                command: "wallet create",
                field: "mnemonic",
            })?
            .to_owned();
        self.cli(&[
            "wallet",
            "create",
            "--name",
            "devnet",
            "--hotkey",
            "validator",
            "--overwrite",
        ])
        .await?;
        self.cli(&[
            "wallet", "create", "--name", "devnet", "--hotkey", "provider",
        ])
        .await?;
        self.cli(&["wallet", "create", "--name", "user", "--overwrite"])
            .await?;
        for (name, amount) in [("faucet", "100000"), ("devnet", "1000"), ("user", "100")] {
            self.cli(&["wallet", "faucet", "--name", name, "--amount", amount])
                .await?;
        }
        let netuid = self.create_subnet().await?;
        let setup = Setup {
            netuid,
            faucet_mnemonic,
        };
        setup.write(&self.config.dir)?;
        Ok(setup)
    }

    /// Create the inference subnet, register the validator hotkey and stake on it.
    async fn create_subnet(&self) -> Result<u16, DevnetError> {
        let subnet = self
            .cli(&[
                "subnet",
                "create",
                "--name",
                "devnet",
                "--subnet-name",
                "inference",
                "--mechanism",
                "inference",
            ])
            .await?;
        let netuid = subnet["netuid"]
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or(DevnetError::Output {
                command: "subnet create",
                field: "netuid",
            })?;
        let n = netuid.to_string();
        self.cli(&[
            "subnet",
            "register",
            "--name",
            "devnet",
            "--hotkey",
            "validator",
            "--netuid",
            &n,
        ])
        .await?;
        self.cli(&[
            "stake",
            "add",
            "--name",
            "devnet",
            "--hotkey",
            "validator",
            "--amount",
            "100",
        ])
        .await?;
        Ok(netuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_start_resumes_from_the_record_the_first_wrote() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(Setup::read(dir.path()).expect("no record"), None);
        let setup = Setup {
            netuid: 3,
            faucet_mnemonic: "abandon ability".into(),
        };
        setup.write(dir.path()).expect("write");
        assert_eq!(Setup::read(dir.path()).expect("read"), Some(setup));
    }

    #[test]
    fn a_foreign_devnet_json_is_refused_with_advice() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("devnet.json"), b"{\"nope\":1}").expect("write");
        let err = Setup::read(dir.path()).expect_err("not a record");
        assert!(
            err.to_string()
                .ends_with("is not a devnet record: remove the folder to start afresh")
        );
    }
}
