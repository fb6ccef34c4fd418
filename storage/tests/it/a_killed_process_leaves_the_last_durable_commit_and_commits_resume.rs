//! A child process commits blocks in a loop and reports each root once `commit_block`
//! returns; the parent kills it (SIGKILL) mid-stream, which usually lands inside a
//! write transaction. Reopening must show every reported commit, identical roots, and
//! let the chain resume.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use plexus_ledger::store::WriteSet;
use plexus_storage::Store;

use crate::support::commit;

const CHILD_ENV: &str = "PLEXUS_STORAGE_CRASH_CHILD_DB";

/// The writes of block `h`: a pure function of the height, so any process can redo them.
fn block_writes(h: u64) -> WriteSet {
    let mut w = WriteSet::new();
    for i in 0..200u64 {
        let k = (h * 131 + i * 7) % 1_000;
        w.insert(
            format!("acct/{k}").into_bytes(),
            Some(format!("{h}:{i}").into_bytes()),
        );
    }
    w.insert(format!("acct/{}", (h * 17) % 1_000).into_bytes(), None);
    w
}

/// Runs only inside the child process the parent test starts.
#[test]
fn crash_child_commits_until_killed() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open(path).expect("open");
    let mut out = std::io::stdout().lock();
    loop {
        let h = store.committed_height().map_or(0, |h| h + 1);
        let block = commit(&store, &block_writes(h), Vec::new());
        use std::io::Write;
        writeln!(out, "committed {h} {}", block.header.state_root).expect("report");
        out.flush().expect("flush");
    }
}

#[test]
fn a_process_killed_mid_commit_reopens_at_a_reported_height_and_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.redb");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "a_killed_process_leaves_the_last_durable_commit_and_commits_resume::crash_child_commits_until_killed", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut reported = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let mut parts = line.split_whitespace();
        if parts.next() != Some("committed") {
            continue;
        }
        let h: u64 = parts.next().and_then(|h| h.parse().ok()).expect("height");
        let root = parts.next().expect("root").to_string();
        reported.push((h, root));
        if reported.len() == 12 {
            child.kill().expect("kill");
            break;
        }
    }
    child.wait().expect("wait");
    assert_eq!(reported.len(), 12, "child reported too few commits");

    let store = Store::open(&path).expect("reopen after kill");
    let tip = store.committed_height().expect("something committed");
    // Every reported commit is durable; at most the in-flight one beyond it landed too.
    assert!(tip >= 11, "tip {tip} lost a reported commit");
    for (h, root) in &reported {
        assert_eq!(
            &store
                .state_root(*h)
                .expect("root")
                .expect("committed")
                .to_hex(),
            root
        );
    }

    // Resume to height 20 and compare with an uninterrupted run.
    while store.committed_height() < Some(20) {
        let h = store.committed_height().map_or(0, |h| h + 1);
        commit(&store, &block_writes(h), Vec::new());
    }
    let reference_dir = tempfile::tempdir().expect("tempdir");
    let reference = Store::open(reference_dir.path().join("state.redb")).expect("open");
    for h in 0..=20 {
        commit(&reference, &block_writes(h), Vec::new());
    }
    for h in 0..=20 {
        assert_eq!(
            store.state_root(h).expect("root"),
            reference.state_root(h).expect("root"),
            "height {h}"
        );
    }
}
