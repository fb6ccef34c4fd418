//! Human output by default, one JSON document with `--json`.

use serde::Serialize;

use crate::context::Context;

/// Print `value` as JSON, or `human` as text.
pub(crate) fn print<T: Serialize>(ctx: &Context, value: &T, human: impl FnOnce() -> String) {
    if ctx.json {
        match serde_json::to_string_pretty(value) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("error: cannot encode output: {error}"),
        }
    } else {
        let text = human();
        if !text.is_empty() {
            println!("{}", text.trim_end());
        }
    }
}

/// Report a failed command on stderr: its chain of causes, or a JSON object with `--json`.
pub(crate) fn error(ctx: &Context, error: &anyhow::Error) {
    if ctx.json {
        let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
        let value =
            serde_json::json!({ "error": { "message": error.to_string(), "causes": chain } });
        eprintln!("{value}");
        return;
    }
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
