//! A mnemonic typed as a flag is visible to every user of the machine (`ps`, shell
//! history): `plexus wallet regen` takes it from a prompt, a file or the environment.

use std::io::Write as _;

use super::support::{fails, json, ok, plexus};

const PHRASE: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

#[test]
fn a_mnemonic_on_the_command_line_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error =
        fails(plexus(dir.path()).args(["wallet", "regen", "--name", "ps", "--mnemonic", PHRASE]));
    assert!(error.contains("--mnemonic"), "{error}");
    assert!(
        !dir.path().join("ps").exists(),
        "no wallet was restored from argv"
    );
}

#[test]
fn a_mnemonic_is_read_from_a_file_from_standard_input_or_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("phrase.txt");
    std::fs::write(&file, format!("{PHRASE}\n")).unwrap();
    let address = |out: &str| json(out)["address"].as_str().unwrap().to_string();

    let from_file = address(&ok(plexus(dir.path())
        .args([
            "--json",
            "wallet",
            "regen",
            "--name",
            "file",
            "--mnemonic-file",
        ])
        .arg(&file)));

    let mut child = plexus(dir.path())
        .args([
            "--json",
            "wallet",
            "regen",
            "--name",
            "stdin",
            "--mnemonic-file",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PHRASE.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let from_stdin = address(&String::from_utf8(out.stdout).unwrap());

    let from_env = address(&ok(plexus(dir.path())
        .env("PLEXUS_MNEMONIC", PHRASE)
        .args(["--json", "wallet", "regen", "--name", "env"])));

    assert_eq!(from_file, from_stdin);
    assert_eq!(from_file, from_env);
}
