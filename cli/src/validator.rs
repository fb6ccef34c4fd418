//! `plexus validator`: keep an inference subnet's providers honest.
//!
//! The epoch loop is [`plexus_validator::service`]'s actor: this file resolves the
//! settings, loads the declared model for re-execution, opens the wallet's credits,
//! and prints what the actor reports. The state folder keeps the seed, the scoreboard
//! and the pending weights commit, so a restart resumes.

use anyhow::Context as _;
use plexus_serve::settings::Layered;
use plexus_validator::service::{Event, Validator, ValidatorSettings};
use serde_json::json;

use crate::{
    context::{Context, required_netuid},
    credits::open_session,
};

/// Flags of `plexus validator` (each also a key of its `--config` file).
pub(crate) type ValidatorArgs = Layered<ValidatorSettings>;

pub(crate) async fn run(ctx: &Context, flags: &ValidatorArgs) -> anyhow::Result<()> {
    let Some((args, ctx)) = ctx.service(flags, |s| s.node.as_deref())? else {
        return Ok(());
    };
    let netuid = required_netuid(args.netuid)?;
    let (coldkey, hotkey) = ctx.hotkey(&args.name, &args.hotkey)?;
    let kind = format!("validator/{}", hotkey.account().to_address());
    let dir = ctx.state_dir(&kind, args.data_dir.as_ref())?;
    let (model, declared, engine) =
        plexus_inference::models::load_declared(args.model.as_deref(), args.threads)
            .context("cannot load the model to re-execute answers with")?;
    let config = args.config(netuid, hotkey, declared, &dir)?;
    let session = open_session(&ctx, &args.name, &coldkey, args.relay.clone()).await?;
    eprintln!(
        "Validating subnet {netuid} with {} (weights {declared}), probes through {}; state in {}",
        model.display(),
        args.relay,
        dir.display()
    );
    let transport = args.transport(session, coldkey);
    let validator = Validator::new(config, ctx.client()?, transport, engine);
    let json = ctx.json;
    Ok(validator.run(|event| print_event(json, &event)).await?)
}

/// Print what the actor did: one line per provider per epoch, or JSON with `--json`.
fn print_event(json: bool, event: &Event) {
    match event {
        Event::Probed { epoch, providers } if json => {
            println!("{}", json!({"epoch": epoch, "providers": providers}));
        }
        Event::Probed { providers, .. } if providers.is_empty() => {}
        event => eprintln!("{event}"),
    }
}
