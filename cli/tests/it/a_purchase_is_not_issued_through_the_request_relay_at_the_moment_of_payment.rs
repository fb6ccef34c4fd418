//! Purchase timing: a `BuyCredits` on chain names the wallet that paid; were its tokens
//! fetched at once through the relay the user chats through, that relay would link
//! its client's address to the wallet whose deposit just landed (RFC 9576 section 7).
//! The tokens are fetched later, at a random moment, and through another relay when
//! one is named.

use crate::support::{PrivateNet, Recorder, fails, json, ok};

#[test]
fn a_purchase_is_not_issued_through_the_request_relay_at_the_moment_of_payment() {
    let net = PrivateNet::start(|port| format!("http://127.0.0.1:{port}"));
    // Two relay URLs: the one requests use, and another (another operator's, in a real
    // network), both recording what passes.
    let requests = Recorder::start(net.relay_port);
    let other = Recorder::start(net.relay_port);
    let issuers = json(&ok(net.cli().args(["--json", "credits", "issuers"])));
    let issuer = issuers["issuers"][0]["hotkey"].as_str().unwrap().to_owned();
    let issuer_hotkey: plexus_types::AccountId = issuer.parse().unwrap();
    let to_issuer = format!("/v1/relay/{}", issuer_hotkey.to_address());
    let issuances = |r: &Recorder| {
        r.seen()
            .iter()
            .filter(|x| x.method == "POST" && x.path.starts_with(&to_issuer))
            .count()
    };
    ok(net.cli().args(["wallet", "create", "--name", "bob"]));
    ok(net
        .cli()
        .args(["wallet", "faucet", "--name", "bob", "--amount", "10"]));
    let buy = |extra: &[&str]| {
        let out = net
            .cli()
            .env("PLEXUS_ISSUANCE_WINDOW_SECS", "4")
            .args([
                "--json",
                "credits",
                "buy",
                "--name",
                "bob",
                "--credits",
                "10",
            ])
            .args(["--relay", &requests.url()])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}\n{}", net.logs());
        (json(&String::from_utf8(out.stdout).unwrap()), stderr)
    };

    // The user names only the relay their requests use.
    let (first, warned) = buy(&[]);
    assert_eq!(
        issuances(&requests),
        0,
        "the request relay saw the issuance at the moment of payment: {first}"
    );
    assert_eq!(first["pending"], true, "{first}");
    assert_eq!(first["credits"], 0, "{first}");
    assert!(
        warned.contains("--issuance-relay"),
        "no warning that issuance shares the request relay: {warned}"
    );

    // With another relay named, that relay carries the issuance, later.
    let (second, _) = buy(&["--issuance-relay", &other.url()]);
    assert_eq!(second["pending"], true, "{second}");
    assert_eq!(issuances(&requests) + issuances(&other), 0);
    let balance = json(&ok(net
        .cli()
        .args(["--json", "credits", "balance", "--name", "bob"])));
    assert_eq!(balance["credits"], 0, "{balance}");
    assert_eq!(balance["pending"].as_array().unwrap().len(), 2, "{balance}");
    for p in balance["pending"].as_array().unwrap() {
        assert!(p["due_in_secs"].as_u64().unwrap() <= 4, "{balance}");
    }

    // Once due, `credits fetch` fetches each through the relay chosen at purchase.
    std::thread::sleep(std::time::Duration::from_secs(5));
    let fetched = json(&ok(net
        .cli()
        .args(["--json", "credits", "fetch", "--name", "bob"])));
    assert_eq!(fetched["issued"].as_array().unwrap().len(), 2, "{fetched}");
    assert_eq!(fetched["credits"], 20, "{fetched}");
    assert_eq!(
        issuances(&requests),
        1,
        "only the deposit bought without another relay"
    );
    assert_eq!(
        issuances(&other),
        1,
        "the deposit bought with another relay"
    );
    let balance = json(&ok(net
        .cli()
        .args(["--json", "credits", "balance", "--name", "bob"])));
    assert_eq!(balance["credits"], 20, "{balance}");
    assert_eq!(balance["pending"].as_array().unwrap().len(), 0, "{balance}");

    // A deposit whose key still settles is not refundable yet, and no fee is paid for
    // asking.
    let deposit = first["deposit"].as_u64().unwrap().to_string();
    let refused =
        fails(
            net.cli()
                .args(["credits", "refund", "--name", "bob", "--deposit", &deposit]),
        );
    assert!(
        refused.contains("refundable from block") && refused.contains("nothing was sent"),
        "{refused}"
    );
}
