//! Configuration files for the long-running services: an optional TOML file, layered
//! file < environment < flags.
//!
//! Each service has a configuration struct (serde, every field defaulted, unknown
//! keys refused) and flags that are all optional (`clap` reads the environment
//! variable of a flag when the flag is absent). The file is parsed into the struct
//! first, so a malformed file, a value of the wrong type or an unknown key is an
//! error naming the file, the line and the key; then the flags and environment
//! variables that were given replace the file's values, key by key.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use serde::{Serialize, de::DeserializeOwned};

/// The flags every service has for its configuration.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ConfigArgs {
    /// Read settings from this TOML file (flags and environment variables win over
    /// it; `--print-config` shows every key).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    pub(crate) print_config: bool,
}

/// The wallet, hotkey and subnet a validator's service acts for (flags, each also a
/// key of the `--config` file).
#[derive(Debug, Clone, Default, Args, Serialize)]
pub(crate) struct HotkeyFlags {
    /// Wallet holding the hotkey [default: default].
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The hotkey (it needs a validator permit on the subnet) [default: default].
    #[arg(long)]
    pub(crate) hotkey: Option<String>,
    /// The subnet (required, as a flag or in the file).
    #[arg(long)]
    pub(crate) netuid: Option<plexus_types::Netuid>,
}

/// The subnet a service was configured for, or an error saying how to set it.
pub(crate) fn required_netuid(
    netuid: Option<plexus_types::Netuid>,
) -> anyhow::Result<plexus_types::Netuid> {
    netuid.context("no subnet given: pass --netuid N or set `netuid` in the --config file")
}

impl ConfigArgs {
    /// The effective configuration: defaults, then the file, then `overrides` (the
    /// flags and environment variables given, serialized with `None`s skipped).
    pub(crate) fn resolve<C>(&self, overrides: &impl Serialize) -> anyhow::Result<C>
    where
        C: Serialize + DeserializeOwned,
    {
        resolve(self.config.as_deref(), overrides)
    }

    /// With `--print-config`: print `config` as TOML and return true (the command
    /// then exits without starting the service).
    pub(crate) fn printed(&self, config: &impl Serialize) -> anyhow::Result<bool> {
        if self.print_config {
            let text = toml::to_string_pretty(config).context("cannot print the configuration")?;
            println!("{}", text.trim_end());
        }
        Ok(self.print_config)
    }
}

/// Defaults < the file at `file` < `overrides`.
pub(crate) fn resolve<C>(file: Option<&Path>, overrides: &impl Serialize) -> anyhow::Result<C>
where
    C: Serialize + DeserializeOwned,
{
    let mut table = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the configuration file {}", path.display())
            })?;
            // Parsed into the struct first, for errors that name the line and the key.
            let parsed: C = toml::from_str(&text).map_err(|e| {
                anyhow::anyhow!("{} is not a valid configuration: {e}", path.display())
            })?;
            toml::Table::try_from(&parsed).context("cannot re-read the configuration")?
        }
        None => toml::Table::new(),
    };
    let given = toml::Table::try_from(overrides).context("cannot read the flags")?;
    merge(&mut table, given);
    toml::Value::Table(table)
        .try_into()
        .context("the flags and the configuration file disagree")
}

/// Put `over`'s keys into `base`, descending into tables present in both.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(value)) => merge(inner, value),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Limits {
        body: u64,
        timeout_secs: u64,
    }

    impl Default for Limits {
        fn default() -> Self {
            Self {
                body: 256,
                timeout_secs: 10,
            }
        }
    }

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Service {
        listen: String,
        name: Option<String>,
        limits: Limits,
    }

    /// Flags as clap gives them: `None` when not given.
    #[derive(Serialize, Default)]
    struct Flags {
        listen: Option<String>,
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("service.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_the_defaults() {
        let (_dir, path) = file("listen = \"127.0.0.1:1\"\n[limits]\nbody = 7\n");
        let from_file: Service = resolve(Some(&path), &Flags::default()).unwrap();
        assert_eq!(from_file.listen, "127.0.0.1:1");
        assert_eq!(from_file.limits.body, 7);
        assert_eq!(from_file.limits.timeout_secs, 10);
        let flags = Flags {
            listen: Some("127.0.0.1:2".into()),
        };
        let both: Service = resolve(Some(&path), &flags).unwrap();
        assert_eq!(both.listen, "127.0.0.1:2");
        assert_eq!(both.limits.body, 7);
        let none: Service = resolve(None, &Flags::default()).unwrap();
        assert_eq!(none, Service::default());
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_the_file_the_line_and_the_key() {
        let (_dir, path) = file("listen = \"x\"\n\n[limits]\nbody = 1\nbodee = 2\n");
        let error = resolve::<Service>(Some(&path), &Flags::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("service.toml"), "{error}");
        assert!(error.contains("line 5"), "{error}");
        assert!(error.contains("bodee"), "{error}");
    }

    #[test]
    fn a_malformed_file_or_a_wrong_type_is_an_error_naming_the_file_and_the_line() {
        for (text, line) in [
            ("listen = \"x\"\nlimits = [\n", "line 2"),
            ("listen = 5\n", "line 1"),
            ("\n\n[limits]\ntimeout_secs = \"ten\"\n", "line 4"),
        ] {
            let (_dir, path) = file(text);
            let error = resolve::<Service>(Some(&path), &Flags::default())
                .unwrap_err()
                .to_string();
            assert!(error.contains("service.toml"), "{error}");
            assert!(error.contains(line), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let error = resolve::<Service>(Some(Path::new("/nonexistent/x.toml")), &Flags::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nonexistent/x.toml"), "{error}");
    }
}
