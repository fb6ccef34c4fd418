//! Subtensor's `test_bonds`: original-Yuma bond dynamics over seven epochs.

use plexus_ledger::yuma::scenario;

#[test]
fn scratch() {
    let json = include_str!("vectors/original_bond_dynamics.json");
    let out = scenario::run_json(json).unwrap();
    println!("{out}");
}
