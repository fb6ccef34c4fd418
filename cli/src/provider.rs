//! `plexus provider`: load a model, put it on chain and serve it over the OpenAI API.

use std::time::Duration;

use plexus_provider::{ProviderService, ProviderSettings, ServiceError};
use plexus_serve::{settings::Layered, shutdown_signal};

use crate::{context::Context, output};

/// Flags of `plexus provider` (each also a key of its `--config` file).
pub(crate) type ProviderArgs = Layered<ProviderSettings>;

pub(crate) async fn run(ctx: &Context, flags: &ProviderArgs) -> anyhow::Result<()> {
    let Some((args, ctx)) = ctx.service(flags, |s| s.node.as_deref())? else {
        return Ok(());
    };
    crate::init_logging();
    let keys = match args.netuid {
        Some(_) => Some(ctx.hotkey(&args.name, &args.hotkey)?),
        None => None,
    };
    let engine = args.load_engine(spinner).await?;
    let embedder = args.load_embedder(spinner).await?;
    let on_chain = match keys {
        Some((coldkey, hotkey)) => {
            let kind = format!("provider/{}", hotkey.account().to_address());
            let dir = ctx.state_dir(&kind, args.data_dir.as_ref())?;
            args.on_chain(ctx.client()?, dir, coldkey, hotkey)
        }
        None => None,
    };
    let service = ProviderService::start(args.service_config(on_chain), engine, embedder.clone())
        .await
        .map_err(explain)?;
    let (json, text) = service.summary(embedder.as_ref().map(|e| e.model().id.as_str()));
    output::print(&ctx, &json, || text);
    service.run(shutdown_signal()).await.map_err(explain)
}

/// A spinner while a model loads; cleared when dropped.
fn spinner(path: &std::path::Path) -> impl Drop + use<> {
    struct Spinner(indicatif::ProgressBar);
    impl Drop for Spinner {
        fn drop(&mut self) {
            self.0.finish_and_clear();
        }
    }
    let style = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})");
    let bar = indicatif::ProgressBar::new_spinner()
        .with_style(style.unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()))
        .with_message(format!("Loading {}", path.display()));
    bar.enable_steady_tick(Duration::from_millis(120));
    Spinner(bar)
}

/// The service's errors, with what to do next where the flags can help.
fn explain(error: ServiceError) -> anyhow::Error {
    match error {
        ServiceError::Bind { addr, source } => crate::cannot_listen(addr, source),
        ServiceError::Announce { netuid, source } => anyhow::Error::new(source).context(format!(
            "cannot register and serve on subnet {netuid}: fund the wallet's coldkey (`plexus wallet faucet`) and check `plexus subnet show {netuid}`"
        )),
        other => other.into(),
    }
}
