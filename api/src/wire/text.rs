//! The wire types as people read them: what the `plexus` binary prints without
//! `--json`.

use std::fmt::{self, Display, Formatter};

use plexus_types::{AccountId, format_plx, text_table};

use super::{DataTaskAt, DataTasks, Issuers, Metagraph, Stakes, Subnet, Subnets};

/// `plexus subnet list`: one row per subnet.
impl Display for Subnets {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.subnets.is_empty() {
            return f.write_str(
                "No subnets yet. Create one with `plexus subnet create --subnet-name NAME`.",
            );
        }
        let rows: Vec<Vec<String>> = self
            .subnets
            .iter()
            .map(|s| {
                vec![
                    s.netuid.to_string(),
                    s.name.clone(),
                    format!("{:?}", s.mechanism).to_lowercase(),
                    format!("{}/{}", s.n, s.hyperparams.max_uids),
                    s.hyperparams.tempo.to_string(),
                    format_plx(s.burn_price),
                    s.owner.to_string(),
                ]
            })
            .collect();
        let headers = [
            "NETUID",
            "NAME",
            "MECHANISM",
            "UIDS",
            "TEMPO",
            "BURN",
            "OWNER",
        ];
        f.write_str(&text_table(&headers, &rows))
    }
}

/// `plexus stake list`: one row per hotkey staked to.
impl Display for Stakes {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = (self.stakes.iter())
            .map(|s| vec![s.hotkey.to_string(), format_plx(s.amount)])
            .collect();
        f.write_str(&text_table(&["HOTKEY", "STAKE (PLX)"], &rows))
    }
}

/// `plexus subnet show`'s head: the subnet's state, then a blank line.
impl Display for Subnet {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Subnet {} '{}' ({:?}), owner {}\n  uids {}/{}  tempo {}  epoch {} (next at block {})  burn {} PLX\n  pending emission {} PLX  last epoch paid {} PLX\n\n",
            self.netuid,
            self.name,
            self.mechanism,
            self.owner,
            self.n,
            self.hyperparams.max_uids,
            self.hyperparams.tempo,
            self.epoch_index,
            self.next_epoch_block,
            format_plx(self.burn_price),
            format_plx(self.pending_emission),
            format_plx(self.last_epoch_emission),
        )
    }
}

/// One row per UID.
impl Display for Metagraph {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let ratio = |x: u16| format!("{:.4}", f64::from(x) / 65535.0);
        let rows: Vec<Vec<String>> = self
            .neurons
            .iter()
            .map(|n| {
                vec![
                    n.uid.to_string(),
                    short(&n.hotkey),
                    format_plx(n.stake),
                    ratio(n.incentive),
                    ratio(n.dividends),
                    ratio(n.consensus),
                    ratio(n.validator_trust),
                    if n.validator_permit { "yes" } else { "" }.into(),
                    format_plx(n.emission),
                    n.endpoint.as_ref().map_or(String::new(), |e| e.url.clone()),
                ]
            })
            .collect();
        let headers = [
            "UID",
            "HOTKEY",
            "STAKE",
            "INCENTIVE",
            "DIVIDENDS",
            "CONSENSUS",
            "VTRUST",
            "PERMIT",
            "EMISSION",
            "ENDPOINT",
        ];
        f.write_str(&text_table(&headers, &rows))
    }
}

/// An address cut to its first ten and last six characters.
fn short(id: &AccountId) -> String {
    let text = id.to_string();
    format!("{}…{}", &text[..10], &text[text.len() - 6..])
}

/// `plexus credits issuers`: the price, then each issuer with its keys.
impl Display for Issuers {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut text = format!(
            "Credit price {} PLX per credit\n",
            format_plx(self.credit_price)
        );
        if self.issuers.is_empty() {
            text.push_str("No credit issuers yet: a validator starts one with `plexus issuer`.");
        }
        for i in &self.issuers {
            let retired = if i.retired {
                ", retired (sells no more)"
            } else {
                ""
            };
            text.push_str(&format!(
                "{}  {}\n  bond: {} PLX staked, {} PLX required{retired}\n",
                i.hotkey,
                i.url,
                format_plx(i.self_stake),
                format_plx(i.bond_required),
            ));
            for k in &i.keys {
                let sale = if k.on_sale { "on sale" } else { "not on sale" };
                let over = match k.over_issued {
                    true => ", OVER-ISSUED (deposits refundable in full)",
                    false => "",
                };
                text.push_str(&format!(
                    "  key epoch {} denomination {}: {sale}, {} buyers, {} blocks old, escrow {} PLX, {} tokens settled, settle window closes at block {}{over}\n",
                    k.key_epoch,
                    k.denomination,
                    k.buyers,
                    k.age_blocks,
                    format_plx(k.escrow),
                    k.tokens_settled,
                    k.closes_at,
                ));
            }
        }
        f.write_str(text.trim_end())
    }
}

/// `plexus data task list`: one row per task.
impl Display for DataTasks {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.tasks.is_empty() {
            return f.write_str("No data tasks yet: post one with `plexus data task create`.");
        }
        let rows: Vec<Vec<String>> = self
            .tasks
            .iter()
            .map(|t| {
                vec![
                    t.id.to_string(),
                    t.netuid.to_string(),
                    t.phase.clone(),
                    format_plx(t.bounty),
                    t.commit_deadline.to_string(),
                    t.reveal_deadline.to_string(),
                    format!("{}/{}", t.reveals, t.commits),
                ]
            })
            .collect();
        let headers = [
            "id",
            "netuid",
            "phase",
            "bounty",
            "commit by",
            "reveal by",
            "revealed",
        ];
        f.write_str(&text_table(&headers, &rows))
    }
}

/// `plexus data task show`: the task, its publication and its contributions.
impl Display for DataTaskAt {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (t, height) = (&self.task, self.height);
        write!(
            f,
            "Data task {} on subnet {} ({} at block {height})
  creator    {}
  bounty     {} PLX (in escrow: {} PLX)
  schema     {}
  reference  {}
  commit by  block {}
  reveal by  block {}
  rows       {}..={} per submission",
            t.id,
            t.netuid,
            t.phase,
            t.creator,
            format_plx(t.bounty),
            format_plx(t.escrow),
            t.schema_hash,
            t.reference_commitment,
            t.commit_deadline,
            t.reveal_deadline,
            t.min_rows,
            t.max_rows
        )?;
        if let Some(p) = &t.published {
            write!(
                f,
                "\n  published  {} rows, root {} (block {}, by {})",
                p.rows, p.merkle_root, p.block, p.validator
            )?;
        }
        if t.contributions.is_empty() {
            return Ok(());
        }
        let rows: Vec<Vec<String>> = t
            .contributions
            .iter()
            .map(|c| {
                vec![
                    c.uid.map_or("-".into(), |u| u.to_string()),
                    c.hotkey.to_string(),
                    c.committed_at.to_string(),
                    c.content_hash.map_or("-".into(), |h| h.to_hex()),
                    c.rows.map_or("-".into(), |r| r.to_string()),
                ]
            })
            .collect();
        let headers = ["uid", "hotkey", "committed", "content", "rows"];
        write!(f, "\n\n{}", text_table(&headers, &rows))
    }
}
