//! The gateway key schedule: one OHTTP key per key epoch, derived from a seed.
//!
//! Key epoch `e` covers blocks `[e·P, (e+1)·P)`, with `P` the chain's key period (the
//! `issuer_key_period` chain parameter: gateway keys and issuer keys turn over at the
//! same blocks). A gateway publishes the keys of the current and the next epoch (RFC
//! 9458 §3 key configurations, at most two live), so the key a client picks is on
//! chain before its epoch starts; it accepts the previous epoch's key for
//! [`grace_blocks`] after the boundary (requests sealed just before it still land) and
//! refuses it afterwards as an unknown key id. A key's id is its epoch modulo 256, so
//! a client tells from the chain's height alone which listed keys are valid now.

use crate::oblivious::{Gateway, GatewayKey, OhttpError, PublicKeyConfig, encode_key_list};

/// Blocks after an epoch boundary during which the previous epoch's key is still
/// accepted, at most (half the period for very short periods).
pub const MAX_GRACE_BLOCKS: u64 = 60;

/// The key epoch holding `height` under key period `period` (blocks).
pub fn epoch_at(height: u64, period: u64) -> u64 {
    height / period.max(1)
}

/// The OHTTP key id of epoch `epoch`.
pub fn key_id(epoch: u64) -> u8 {
    (epoch % 256) as u8
}

/// Blocks after a boundary the previous key stays accepted under period `period`.
pub fn grace_blocks(period: u64) -> u64 {
    MAX_GRACE_BLOCKS.min(period / 2)
}

/// The key ids a client may seal to at `height`: the next epoch's first (it lives
/// longest), then the current one's.
pub fn valid_key_ids(height: u64, period: u64) -> [u8; 2] {
    let epoch = epoch_at(height, period);
    [key_id(epoch.saturating_add(1)), key_id(epoch)]
}

/// The newest key of `keys` that is valid at `height` (see [`valid_key_ids`]).
pub fn pick_key(keys: &[PublicKeyConfig], height: u64, period: u64) -> Option<PublicKeyConfig> {
    valid_key_ids(height, period)
        .into_iter()
        .find_map(|id| keys.iter().find(|k| k.key_id() == id).cloned())
}

/// A gateway's keys from its secret seed (at least 32 bytes). Cheap to clone.
#[derive(Clone)]
pub struct KeySchedule {
    seed: Vec<u8>,
    period: u64,
}

impl std::fmt::Debug for KeySchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySchedule")
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// What a gateway holds at some height: the keys it accepts and the list it publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The current key epoch.
    pub epoch: u64,
    /// Whether the previous epoch's key is still accepted.
    pub grace: bool,
}

impl KeySchedule {
    /// The schedule of `seed` under key period `period` (blocks, at least 1).
    pub fn new(seed: &[u8], period: u64) -> Result<Self, OhttpError> {
        if seed.len() < 32 {
            return Err(OhttpError::ShortIkm);
        }
        Ok(Self {
            seed: seed.to_vec(),
            period: period.max(1),
        })
    }

    /// The key period, in blocks.
    pub fn period(&self) -> u64 {
        self.period
    }

    /// The key of `epoch`: HPKE `DeriveKeyPair` over the seed and the epoch number.
    pub fn key(&self, epoch: u64) -> Result<GatewayKey, OhttpError> {
        let mut ikm = self.seed.clone();
        ikm.extend_from_slice(b"plexus ohttp key epoch");
        ikm.extend_from_slice(&epoch.to_be_bytes());
        GatewayKey::derive(key_id(epoch), &ikm)
    }

    /// Where the schedule stands at `height`.
    pub fn window(&self, height: u64) -> Window {
        let epoch = epoch_at(height, self.period);
        let into = height - epoch * self.period;
        Window {
            epoch,
            grace: epoch > 0 && into < grace_blocks(self.period),
        }
    }

    /// The gateway of `window`: the current and next keys, and the previous one in
    /// its grace period.
    pub fn gateway(&self, window: Window) -> Result<Gateway, OhttpError> {
        let mut keys = vec![
            self.key(window.epoch)?,
            self.key(window.epoch.saturating_add(1))?,
        ];
        if window.grace {
            keys.push(self.key(window.epoch - 1)?);
        }
        Gateway::new(keys)
    }

    /// The `application/ohttp-keys` list to publish in `window`: the current key, then
    /// the next.
    pub fn published(&self, window: Window) -> Result<Vec<u8>, OhttpError> {
        encode_key_list(&[
            self.key(window.epoch)?.public_config()?,
            self.key(window.epoch.saturating_add(1))?.public_config()?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oblivious::decode_key_list;

    #[test]
    fn a_key_is_accepted_from_the_epoch_before_its_own_until_the_grace_after_it() {
        let s = KeySchedule::new(&[7; 32], 100).unwrap();
        let accepts = |height: u64, epoch: u64| {
            let id = key_id(epoch);
            s.gateway(s.window(height))
                .unwrap()
                .public_configs()
                .unwrap()
                .iter()
                .any(|k| {
                    k.key_id() == id
                        && k.encoded() == s.key(epoch).unwrap().public_config().unwrap().encoded()
                })
        };
        assert!(!accepts(0, 2));
        assert!(accepts(100, 2));
        assert!(accepts(250, 2));
        assert!(accepts(349, 2));
        assert!(!accepts(350, 2));
        assert_eq!(grace_blocks(100), 50);
    }

    #[test]
    fn the_published_list_holds_the_current_and_next_keys_and_a_client_picks_the_next() {
        let s = KeySchedule::new(&[7; 32], 10).unwrap();
        let list = decode_key_list(&s.published(s.window(25)).unwrap()).unwrap();
        assert_eq!(list.iter().map(|k| k.key_id()).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(pick_key(&list, 25, 10).unwrap().key_id(), 3);
        assert_eq!(pick_key(&list, 35, 10).unwrap().key_id(), 3);
        assert!(
            pick_key(&list, 45, 10).is_none(),
            "both keys are past their window"
        );
    }

    #[test]
    fn keys_of_different_epochs_and_seeds_differ() {
        let a = KeySchedule::new(&[7; 32], 10).unwrap();
        let b = KeySchedule::new(&[8; 32], 10).unwrap();
        let enc = |s: &KeySchedule, e| {
            s.key(e)
                .unwrap()
                .public_config()
                .unwrap()
                .encoded()
                .to_vec()
        };
        assert_ne!(enc(&a, 1), enc(&a, 257));
        assert_ne!(enc(&a, 1), enc(&b, 1));
        assert_eq!(enc(&a, 1), enc(&a.clone(), 1));
    }
}
