//! What a handler answers: a status, its own header fields and a body.
//!
//! Handlers build a [`Response`]; the connection layer writes it, adding the fields every
//! response carries (Date, Server, Content-Length, Connection) and leaving the body out for
//! HEAD and for statuses that have none (RFC 9110 §6.4.1).

use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::sync::Arc;

/// A field name: usually a static string; a configured one (`--header`, `[[rules]]`) is
/// built when the settings are read. Borrowed names cost no allocation to send.
pub type FieldName = Cow<'static, str>;

/// A field value: usually a static string, sometimes one built for this response.
pub type FieldValue = Cow<'static, str>;

/// A response, before framing.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Fields set by the handler, in the order they are written. The connection layer adds
    /// Date, Server, Content-Length and Connection itself; handlers never set those.
    pub headers: Vec<(FieldName, FieldValue)>,
    /// Field lines serialised ahead of time (`Name: value` CRLF each), written after
    /// `headers`: a cached file's fields, built and checked once, sent without allocating.
    pub fields: Option<Arc<[u8]>>,
    /// The content.
    pub body: Body,
}

/// The content of a response.
#[derive(Debug)]
pub enum Body {
    /// No content (Content-Length: 0, or none at all for 204 and 304).
    Empty,
    /// Content held in memory.
    Bytes(Cow<'static, [u8]>),
    /// Content held in memory and shared, such as a cached small file.
    Shared(Arc<[u8]>),
    /// `len` bytes of `file` from `offset`, sent with the kernel's zero-copy path.
    File {
        /// The open file (shared with the open-file cache).
        file: Arc<File>,
        /// Where the content starts.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
    /// A `multipart/byteranges` body (RFC 9110 §14.6): each part's head, then that range
    /// of the file; then the closing delimiter.
    Multipart {
        /// The open file.
        file: Arc<File>,
        /// Each part: its delimiter and header fields, then the range's offset and length.
        parts: Vec<(Vec<u8>, u64, u64)>,
        /// The closing delimiter.
        tail: Vec<u8>,
    },
    /// Content of a length not known in advance, made as it is sent: framed with the chunked
    /// transfer coding (RFC 9112 §7.1), without a Content-Length. Only for HTTP/1.1 clients:
    /// HTTP/1.0 has no chunked coding.
    Stream(Box<dyn Source>),
}

/// Content made in steps, as the socket takes what was made before: each step appends a
/// bounded amount, so that a connection holds little of it at a time. The content is given
/// unframed; the output frames it for HTTP/1.1 (chunks), so another framing could carry it.
pub trait Source: Send {
    /// Appends the next bytes of the content to `out` (possibly none); `Ok(true)` once the
    /// content is complete. An error ends the content unfinished.
    fn fill(&mut self, out: &mut Vec<u8>) -> io::Result<bool>;
}

impl std::fmt::Debug for dyn Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Source")
    }
}

impl Body {
    /// The number of bytes the body holds: the Content-Length to send (0 for a stream, which
    /// is sent without one).
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty | Body::Stream(_) => 0,
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::Shared(bytes) => bytes.len() as u64,
            Body::File { len, .. } => *len,
            Body::Multipart { parts, tail, .. } => {
                parts
                    .iter()
                    .map(|(head, _, len)| head.len() as u64 + len)
                    .sum::<u64>()
                    + tail.len() as u64
            }
        }
    }
}

impl Response {
    /// A response with no fields and no body.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            fields: None,
            body: Body::Empty,
        }
    }

    /// A `text/plain` response whose body is exactly `text`.
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        let text: String = text.into();
        Response::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(Body::Bytes(Cow::Owned(text.into_bytes())))
    }

    /// Adds a field.
    pub fn header(mut self, name: impl Into<FieldName>, value: impl Into<FieldValue>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }
}
