//! Service settings: defaults < an optional TOML file (`--config`) < environment
//! variables < flags, one struct per service.
//!
//! A service's settings are one struct (serde, `#[serde(default,
//! deny_unknown_fields)]`, defaults written once in its `Default`, a doc line per
//! field) that also derives `clap::Args` with no clap defaults. [`Layered`] holds that
//! struct's flags plus `--config` and `--print-config`; [`Layered::resolve`] reads the
//! file into the struct first, so a malformed file, a value of the wrong type or an
//! unknown key is an error naming the file, the line and the key, then applies only
//! the flags and environment variables that were given, key by key.

use std::{
    marker::PhantomData,
    path::{Path, PathBuf},
};

use clap::{ArgMatches, Args, Command, FromArgMatches, parser::ValueSource};
use serde::{Serialize, de::DeserializeOwned};

/// What can go wrong reading a service's settings.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The `--config` file cannot be read.
    #[error("cannot read the configuration file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The `--config` file is not valid TOML, has a value of the wrong type or an
    /// unknown key (the message names the line and the key).
    #[error("{} is not a valid configuration: {error}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line and the key (part of this error's
        /// message, so not its source).
        error: toml::de::Error,
    },
    /// The settings do not encode as TOML.
    #[error("cannot encode the configuration")]
    Encode(#[from] toml::ser::Error),
    /// A flag's value does not fit the setting.
    #[error("the flags and the configuration file disagree")]
    Disagree(#[source] toml::de::Error),
    /// The flags could not be read back from the command line.
    #[error("cannot read the flags")]
    Flags(#[from] clap::Error),
}

/// The flags every service has for its configuration.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// Read settings from this TOML file (flags and environment variables win over
    /// it; `--print-config` shows every key).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
}

/// Settings `S` as given on the command line: its flags (all optional), `--config`
/// and `--print-config`.
#[derive(Debug, Clone)]
pub struct Layered<S> {
    /// `--config` and `--print-config`.
    pub config: ConfigArgs,
    matches: ArgMatches,
    settings: PhantomData<S>,
}

impl<S: Args> Args for Layered<S> {
    fn augment_args(cmd: Command) -> Command {
        // Every setting has a default: no flag is required.
        S::augment_args(ConfigArgs::augment_args(cmd)).mut_args(|arg| arg.required(false))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<S> FromArgMatches for Layered<S> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self {
            config: ConfigArgs::from_arg_matches(matches)?,
            matches: matches.clone(),
            settings: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl<S> Layered<S>
where
    S: Serialize + DeserializeOwned + Default + FromArgMatches,
{
    /// The effective settings: defaults, then the `--config` file, then the flags and
    /// environment variables that were given.
    pub fn resolve(&self) -> Result<S, SettingsError> {
        let mut settings = load::<S>(self.config.config.as_deref())?;
        let before = toml::Table::try_from(&settings)?;
        settings.update_from_arg_matches(&self.matches)?;
        let mut after = toml::Table::try_from(&settings)?;
        // clap also updates from its implicit defaults (`false` for a switch): keep
        // the file's value of every setting not given on the command line.
        for id in self.matches.ids().map(|id| id.as_str()) {
            let given = matches!(
                self.matches.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            );
            match before.get(id) {
                _ if given => {}
                Some(value) => {
                    after.insert(id.to_owned(), value.clone());
                }
                None => {
                    after.remove(id);
                }
            }
        }
        toml::Value::Table(after)
            .try_into()
            .map_err(SettingsError::Disagree)
    }

    /// With `--print-config`: the effective settings as TOML, to print before exiting.
    pub fn to_print(&self, settings: &S) -> Result<Option<String>, SettingsError> {
        if !self.config.print_config {
            return Ok(None);
        }
        Ok(Some(
            toml::to_string_pretty(settings)?.trim_end().to_owned(),
        ))
    }
}

/// Defaults < the TOML file at `file`.
pub fn load<S: DeserializeOwned + Default>(file: Option<&Path>) -> Result<S, SettingsError> {
    let Some(path) = file else {
        return Ok(S::default());
    };
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|error| SettingsError::Invalid {
        path: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::Parser;
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

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize, Args)]
    #[serde(default, deny_unknown_fields)]
    struct Service {
        /// Where to listen.
        #[arg(long)]
        listen: String,
        /// A name.
        #[arg(long)]
        name: Option<String>,
        /// A switch.
        #[arg(long)]
        open: bool,
        /// File only.
        #[arg(skip)]
        limits: Limits,
    }

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        service: Layered<Service>,
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("service.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn resolve(args: &[&str]) -> Result<Service, SettingsError> {
        Cli::try_parse_from(std::iter::once(&"service").chain(args))
            .unwrap()
            .service
            .resolve()
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_the_defaults() {
        let (_dir, path) = file("listen = \"127.0.0.1:1\"\nopen = true\n[limits]\nbody = 7\n");
        let path = path.to_str().unwrap();
        let from_file = resolve(&["--config", path]).unwrap();
        assert_eq!(from_file.listen, "127.0.0.1:1");
        assert!(from_file.open, "a switch not given keeps the file's value");
        assert_eq!(from_file.limits.body, 7);
        assert_eq!(from_file.limits.timeout_secs, 10);
        let both = resolve(&["--config", path, "--listen", "127.0.0.1:2", "--name", "n"]).unwrap();
        assert_eq!(both.listen, "127.0.0.1:2");
        assert_eq!(both.name.as_deref(), Some("n"));
        assert_eq!(both.limits.body, 7);
        assert_eq!(resolve(&[]).unwrap(), Service::default());
        assert!(resolve(&["--open"]).unwrap().open);
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_the_file_the_line_and_the_key() {
        let (_dir, path) = file("listen = \"x\"\n\n[limits]\nbody = 1\nbodee = 2\n");
        let error = load::<Service>(Some(&path)).unwrap_err().to_string();
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
            let error = load::<Service>(Some(&path)).unwrap_err().to_string();
            assert!(error.contains("service.toml"), "{error}");
            assert!(error.contains(line), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let error = load::<Service>(Some(Path::new("/nonexistent/x.toml")))
            .unwrap_err()
            .to_string();
        assert!(error.contains("/nonexistent/x.toml"), "{error}");
    }
}
