//! Turn a stream of token bytes into text pieces, honouring stop strings.
//!
//! Tokens may end in the middle of a UTF-8 character, and a stop string may arrive
//! split over several tokens. [`TextStream`] holds back incomplete characters and any
//! tail that could still grow into a stop string, so what it lets out is final.

/// What the caller does after pushing one token's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Send this text (possibly empty) and keep generating.
    Emit(String),
    /// A stop string matched: send this text (what came before the match) and stop.
    Stop(String),
}

/// Incremental UTF-8 decoding with stop-string detection.
#[derive(Debug, Default)]
pub(crate) struct TextStream {
    /// Bytes of an incomplete trailing character.
    bytes: Vec<u8>,
    /// Decoded text not yet let out because it may begin a stop string.
    held: String,
    /// Non-empty stop strings.
    stops: Vec<String>,
}

impl TextStream {
    /// A stream that stops at any of `stops` (empty strings are ignored).
    pub(crate) fn new(stops: &[String]) -> Self {
        Self {
            bytes: Vec::new(),
            held: String::new(),
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
        }
    }

    /// Add one token's bytes.
    pub(crate) fn push(&mut self, piece: &[u8]) -> Step {
        self.bytes.extend_from_slice(piece);
        self.decode();
        if let Some(at) = self.first_stop() {
            let before = self.held[..at].to_string();
            self.held.clear();
            return Step::Stop(before);
        }
        let keep = self.held_back_from();
        let out = self.held[..keep].to_string();
        self.held.drain(..keep);
        Step::Emit(out)
    }

    /// Everything still held, at the end of generation (an incomplete character
    /// becomes U+FFFD).
    pub(crate) fn finish(&mut self) -> String {
        let mut out = std::mem::take(&mut self.held);
        if !self.bytes.is_empty() {
            out.push_str(&String::from_utf8_lossy(&self.bytes));
            self.bytes.clear();
        }
        out
    }

    /// Move the complete characters of `bytes` into `held`.
    fn decode(&mut self) {
        loop {
            match std::str::from_utf8(&self.bytes) {
                Ok(text) => {
                    self.held.push_str(text);
                    self.bytes.clear();
                    return;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // The prefix is valid UTF-8 by construction.
                    self.held
                        .push_str(&String::from_utf8_lossy(&self.bytes[..valid]));
                    match e.error_len() {
                        Some(bad) => {
                            self.held.push(char::REPLACEMENT_CHARACTER);
                            self.bytes.drain(..valid + bad);
                        }
                        None => {
                            self.bytes.drain(..valid);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Byte offset of the earliest stop-string match in `held`.
    fn first_stop(&self) -> Option<usize> {
        self.stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min()
    }

    /// The first char boundary from which the rest of `held` is a proper prefix of
    /// some stop string (or `held.len()` if none).
    fn held_back_from(&self) -> usize {
        self.held
            .char_indices()
            .map(|(i, _)| i)
            .find(|&i| {
                let tail = &self.held[i..];
                self.stops.iter().any(|s| s.starts_with(tail))
            })
            .unwrap_or(self.held.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit(s: &str) -> Step {
        Step::Emit(s.to_string())
    }

    #[test]
    fn split_characters_are_held_until_complete() {
        let mut t = TextStream::new(&[]);
        let snow = "é☃".as_bytes();
        assert_eq!(t.push(&snow[..1]), emit(""));
        assert_eq!(t.push(&snow[1..3]), emit("é"));
        assert_eq!(t.push(&snow[3..]), emit("☃"));
        assert_eq!(t.finish(), "");
    }

    #[test]
    fn a_stop_string_split_over_tokens_is_cut_out() {
        let mut t = TextStream::new(&["END".to_string()]);
        assert_eq!(t.push(b"hello E"), emit("hello "));
        assert_eq!(t.push(b"N"), emit(""));
        assert_eq!(t.push(b"D and more"), Step::Stop(String::new()));
    }

    #[test]
    fn a_false_start_is_released() {
        let mut t = TextStream::new(&["END".to_string()]);
        assert_eq!(t.push(b"EN"), emit(""));
        assert_eq!(t.push(b"X"), emit("ENX"));
        assert_eq!(t.push(b"abcEND"), Step::Stop("abc".to_string()));
    }

    #[test]
    fn the_earliest_of_several_stops_wins() {
        let mut t = TextStream::new(&["b".to_string(), "a".to_string(), String::new()]);
        assert_eq!(t.push(b"xxab"), Step::Stop("xx".to_string()));
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut t = TextStream::new(&[]);
        assert_eq!(t.push(&[b'a', 0xff, b'b']), emit("a\u{fffd}b"));
        assert_eq!(t.push(&[0xe2, 0x98]), emit(""));
        assert_eq!(t.finish(), "\u{fffd}");
    }

    #[test]
    fn held_text_is_flushed_at_the_end() {
        let mut t = TextStream::new(&["STOP".to_string()]);
        assert_eq!(t.push(b"ok ST"), emit("ok "));
        assert_eq!(t.finish(), "ST");
    }
}
