//! A small parser for `text/event-stream` (server-sent events).
//!
//! Lines end in `\n` or `\r\n`; `event:` names the event, `data:` lines are joined
//! with `\n`, `id:` and `retry:` are kept or ignored, lines starting with `:` are
//! comments (keep-alives), and a blank line dispatches the event if it has data.

/// Largest buffered event; a node that sends more is refused.
pub(crate) const MAX_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEvent {
    /// The `event:` name, or `message` when absent.
    pub(crate) name: String,
    /// The joined `data:` lines.
    pub(crate) data: String,
    /// The last `id:` seen.
    pub(crate) id: Option<String>,
}

/// Incremental parser state.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    buffer: Vec<u8>,
    name: Option<String>,
    data: Option<String>,
    id: Option<String>,
    /// Bytes held in `name` and `data` for the event being built.
    pending: usize,
}

/// The stream broke the format or its size bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) String);

impl Parser {
    /// Append received bytes.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), ParseError> {
        if self.buffer.len() + self.pending + bytes.len() > MAX_EVENT_BYTES {
            return Err(ParseError(format!(
                "an event is larger than {MAX_EVENT_BYTES} bytes"
            )));
        }
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }

    /// The next complete event, if the buffer holds one.
    pub(crate) fn next_event(&mut self) -> Result<Option<RawEvent>, ParseError> {
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8(line)
                .map_err(|_| ParseError("an event line is not UTF-8".into()))?;
            if line.is_empty() {
                let name = self.name.take();
                let data = self.data.take();
                self.pending = 0;
                if let Some(data) = data {
                    return Ok(Some(RawEvent {
                        name: name.unwrap_or_else(|| "message".into()),
                        data,
                        id: self.id.clone(),
                    }));
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line.as_str(), ""),
            };
            match field {
                "event" => {
                    self.pending += value.len();
                    self.name = Some(value.to_string());
                }
                "data" => {
                    self.pending += value.len() + 1;
                    let data = self.data.get_or_insert_with(String::new);
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value);
                }
                "id" if !value.contains('\0') => self.id = Some(value.to_string()),
                _ => {}
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<RawEvent> {
        let mut parser = Parser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk).unwrap();
            while let Some(event) = parser.next_event().unwrap() {
                out.push(event);
            }
        }
        out
    }

    #[test]
    fn events_split_across_chunks_and_lines_are_reassembled() {
        let got = events(&[
            b": keep-alive\n\nevent: blo",
            b"ck\r\nid: 7\r\ndata: {\"a\":",
            b"1}\r\n\r\nevent: lagged\ndata:{\"missed\":3}\n\n",
        ]);
        assert_eq!(
            got,
            vec![
                RawEvent {
                    name: "block".into(),
                    data: "{\"a\":1}".into(),
                    id: Some("7".into())
                },
                RawEvent {
                    name: "lagged".into(),
                    data: "{\"missed\":3}".into(),
                    id: Some("7".into())
                },
            ]
        );
    }

    #[test]
    fn multi_line_data_is_joined_and_events_without_data_are_dropped() {
        let got = events(&[b"event: x\n\ndata: a\ndata: b\n\n"]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "message");
        assert_eq!(got[0].data, "a\nb");
    }

    #[test]
    fn an_event_above_the_bound_is_refused() {
        let mut parser = Parser::default();
        let chunk = vec![b'a'; 1024 * 1024];
        let mut result = Ok(());
        for _ in 0..(MAX_EVENT_BYTES / chunk.len() + 1) {
            result = parser.push(&chunk);
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err());
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let mut parser = Parser::default();
        parser.push(b"data: \xff\xfe\n\n").unwrap();
        assert!(parser.next_event().is_err());
    }
}
