//! Binary HTTP (RFC 9292) requests and responses, known-length encoding.
//!
//! Decoding refuses inputs over [`MAX_MESSAGE_LEN`] and accepts trailing zero padding
//! (RFC 9292 section 3.8), but not trailing non-zero bytes.

use std::io::Cursor;

use bhttp::{Message, Mode, StatusCode};

/// Longest BHTTP message (with padding) this module decodes.
pub const MAX_MESSAGE_LEN: usize = 4 << 20;

/// Errors from BHTTP encoding and decoding.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The input is longer than [`MAX_MESSAGE_LEN`].
    #[error("message of {0} bytes exceeds the limit")]
    Oversized(usize),
    /// The input is not a valid BHTTP message.
    #[error("malformed BHTTP: {0}")]
    Malformed(#[from] bhttp::Error),
    /// A request was expected and a response found, or the reverse.
    #[error("wrong message kind")]
    WrongKind,
    /// Bytes after the message were not zero padding.
    #[error("non-zero bytes after the message")]
    TrailingData,
    /// The status code is outside 100..=599.
    #[error("invalid status code {0}")]
    InvalidStatus(u16),
}

/// An HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Method, e.g. `POST`.
    pub method: Vec<u8>,
    /// Scheme, e.g. `https`.
    pub scheme: Vec<u8>,
    /// Authority, e.g. `provider.example`.
    pub authority: Vec<u8>,
    /// Path, e.g. `/v1/chat/completions`.
    pub path: Vec<u8>,
    /// Header fields in order (names lower case).
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Body.
    pub body: Vec<u8>,
}

/// An HTTP response (final status only; informational responses are dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields in order.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name`.
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Encode in known-length BHTTP.
    pub fn encode(&self) -> Result<Vec<u8>, MessageError> {
        let mut m = Message::request(
            self.method.clone(),
            self.scheme.clone(),
            self.authority.clone(),
            self.path.clone(),
        );
        for (n, v) in &self.headers {
            m.put_header(n.clone(), v.clone());
        }
        m.write_content(&self.body);
        let mut out = Vec::new();
        m.write_bhttp(Mode::KnownLength, &mut out)?;
        Ok(out)
    }

    /// Decode a BHTTP request, allowing trailing zero padding.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        let m = read(bytes)?;
        let c = m.control();
        if !c.is_request() {
            return Err(MessageError::WrongKind);
        }
        Ok(Self {
            method: c.method().unwrap_or_default().to_vec(),
            scheme: c.scheme().unwrap_or_default().to_vec(),
            authority: c.authority().unwrap_or_default().to_vec(),
            path: c.path().unwrap_or_default().to_vec(),
            headers: fields(&m),
            body: m.content().to_vec(),
        })
    }
}

impl Response {
    /// Encode in known-length BHTTP.
    pub fn encode(&self) -> Result<Vec<u8>, MessageError> {
        let status = StatusCode::try_from(self.status)
            .map_err(|_| MessageError::InvalidStatus(self.status))?;
        let mut m = Message::response(status);
        for (n, v) in &self.headers {
            m.put_header(n.clone(), v.clone());
        }
        m.write_content(&self.body);
        let mut out = Vec::new();
        m.write_bhttp(Mode::KnownLength, &mut out)?;
        Ok(out)
    }

    /// Decode a BHTTP response, allowing trailing zero padding.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        let m = read(bytes)?;
        let c = m.control();
        let status = c.status().ok_or(MessageError::WrongKind)?;
        Ok(Self {
            status: status.code(),
            headers: fields(&m),
            body: m.content().to_vec(),
        })
    }
}

fn read(bytes: &[u8]) -> Result<Message, MessageError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(MessageError::Oversized(bytes.len()));
    }
    let mut cursor = Cursor::new(bytes);
    let m = Message::read_bhttp(&mut cursor)?;
    let end = usize::try_from(cursor.position()).map_err(|_| MessageError::TrailingData)?;
    if bytes
        .get(end..)
        .is_some_and(|rest| rest.iter().any(|&b| b != 0))
    {
        return Err(MessageError::TrailingData);
    }
    Ok(m)
}

fn fields(m: &Message) -> Vec<(Vec<u8>, Vec<u8>)> {
    m.header()
        .fields()
        .iter()
        .map(|f| (f.name().to_vec(), f.value().to_vec()))
        .collect()
}
