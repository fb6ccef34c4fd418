//! The default probe corpus needs no manual step: `scripts/setup.sh` installs the
//! public ShareGPT V3 file, and a validator's first start samples a private corpus
//! from it with its secret seed into its own state folder (owner-only), which later
//! starts read back.

use plexus_validator::corpus::{
    DEFAULT_CORPUS_SIZE, decode_sharegpt, default_public_dataset, draw_probe, load_or_build,
};

#[test]
fn a_new_validator_builds_its_private_corpus_from_the_installed_data_set() {
    let public = default_public_dataset();
    let bytes = std::fs::read(&public)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", public.display()));
    // The shipped array is cut off mid-record: every complete record is read.
    let decoded = decode_sharegpt(&bytes);
    assert_eq!(decoded.records, 17_671);
    assert_eq!(
        decoded.conversations.len(),
        17_395,
        "records with a user turn"
    );
    let mut turns: Vec<usize> = decoded.conversations.iter().map(Vec::len).collect();
    turns.sort_unstable();
    assert!(
        (4..=6).contains(&turns[turns.len() / 2]),
        "{}",
        turns[turns.len() / 2]
    );
    drop(bytes);

    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("validator/corpus.jsonl");
    let seed = [11u8; 32];
    let corpus = load_or_build(None, &private, &public, &seed).unwrap();
    assert_eq!(corpus.len(), DEFAULT_CORPUS_SIZE);
    assert!(
        corpus
            .iter()
            .all(|r| r.messages.last().unwrap().role == "user")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the corpus is private: {mode:o}");
    }
    // Later starts read the saved corpus, not the public file.
    let missing = dir.path().join("no-such-file.json");
    assert_eq!(
        load_or_build(None, &private, &missing, &seed).unwrap(),
        corpus
    );
    // Another validator's corpus is another selection of the same public turns: an
    // independent draw of 8,000 of about 61,000 user turns shares about 13 %.
    let other = load_or_build(None, &dir.path().join("other.jsonl"), &public, &[12u8; 32]).unwrap();
    let shared = corpus
        .iter()
        .take(500)
        .filter(|r| other.contains(r))
        .count();
    assert!(shared < 100, "{shared} of 500 requests shared");
    // Probes come in varied shapes: multi-turn, with and without system prompts.
    let probes: Vec<_> = (0..400)
        .map(|i| draw_probe(&corpus, &seed, 1, i).unwrap())
        .collect();
    assert!(probes.iter().filter(|p| p.messages.len() >= 3).count() > 100);
    assert!(probes.iter().any(|p| p.messages[0].role == "system"));
    assert!(probes.iter().any(|p| p.messages[0].role == "user"));
}
