//! The typed, borrowed request that [`parse_request`](crate::parse_request) produces.
//!
//! Everything here borrows from the caller's buffer: parsing a request allocates nothing.

#![forbid(unsafe_code)]

/// The outcome of a parse that did not fail: the input either holds a whole item, or is a
/// prefix of one and more bytes are needed. A partial input is never an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<T> {
    /// A whole item, and how many bytes of the input it used.
    Complete {
        /// The item.
        value: T,
        /// Bytes of the input used; bytes after them are left alone.
        consumed: usize,
    },
    /// The input is a strict prefix of a valid item: read more and parse again.
    Partial,
}

/// Bounds on a request head, set by the caller. Past each bound the parser fails with the
/// matching 414 or 431 error instead of waiting for more bytes, so a caller that buffers
/// until [`Parsed::Complete`] or an error never buffers more than `max_head` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest request-line, CRLF included. RFC 9112 §3 recommends supporting at least
    /// 8000 octets; past it, 414 (URI Too Long).
    pub max_request_line: usize,
    /// Largest head (request-line, field lines and the final CRLF). Past it, 431.
    pub max_head: usize,
    /// Most field lines. Past it, 431. The caller's header storage also bounds the count.
    pub max_headers: usize,
}

impl Limits {
    /// 8 KiB: RFC 9112 §3's recommended minimum (8000 octets) rounded up, as nginx and
    /// Apache default to.
    pub const DEFAULT_MAX_REQUEST_LINE: usize = 8 * 1024;
    /// 64 KiB: room for large cookies while bounding each connection's buffer.
    pub const DEFAULT_MAX_HEAD: usize = 64 * 1024;
    /// 100 fields, as hyper and h2 default to; real browsers send fewer than 30.
    pub const DEFAULT_MAX_HEADERS: usize = 100;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_line: Self::DEFAULT_MAX_REQUEST_LINE,
            max_head: Self::DEFAULT_MAX_HEAD,
            max_headers: Self::DEFAULT_MAX_HEADERS,
        }
    }
}

/// A request method (RFC 9110 §9). The standard methods are variants; any other token is kept
/// as an extension method. Method names are case-sensitive (RFC 9110 §9.1): `get` is an
/// extension method, not GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method<'b> {
    /// RFC 9110 §9.3.1
    Get,
    /// RFC 9110 §9.3.2
    Head,
    /// RFC 9110 §9.3.3
    Post,
    /// RFC 9110 §9.3.4
    Put,
    /// RFC 9110 §9.3.5
    Delete,
    /// RFC 9110 §9.3.6
    Connect,
    /// RFC 9110 §9.3.7
    Options,
    /// RFC 9110 §9.3.8
    Trace,
    /// RFC 5789
    Patch,
    /// Any other token.
    Extension(&'b str),
}

impl<'b> Method<'b> {
    /// The method's name as it appeared on the wire.
    pub fn as_str(&self) -> &'b str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Extension(name) => name,
        }
    }
}

/// The request-target in one of its four forms (RFC 9112 §3.2). Every string is ASCII, as
/// received, not yet percent-decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestTarget<'b> {
    /// `absolute-path [ "?" query ]` (RFC 9112 §3.2.1).
    Origin {
        /// The absolute path, starting with `/`.
        path: &'b str,
        /// The query, without its `?`.
        query: Option<&'b str>,
    },
    /// `absolute-URI` (RFC 9112 §3.2.2).
    Absolute {
        /// The scheme, such as `http`.
        scheme: &'b str,
        /// The authority (`host[:port]`), empty if the URI has none.
        authority: &'b str,
        /// The path; `/` when the URI's path is empty (RFC 9112 §3.2.1).
        path: &'b str,
        /// The query, without its `?`.
        query: Option<&'b str>,
    },
    /// `uri-host ":" port`, for CONNECT (RFC 9112 §3.2.3).
    Authority(&'b str),
    /// `*`, for a server-wide OPTIONS (RFC 9112 §3.2.4).
    Asterisk,
}

impl<'b> RequestTarget<'b> {
    /// The path a server routes on: the origin-form or absolute-form path, `None` for the
    /// authority and asterisk forms.
    pub fn path(&self) -> Option<&'b str> {
        match self {
            RequestTarget::Origin { path, .. } | RequestTarget::Absolute { path, .. } => Some(path),
            RequestTarget::Authority(_) | RequestTarget::Asterisk => None,
        }
    }

    /// The query, without its `?`.
    pub fn query(&self) -> Option<&'b str> {
        match self {
            RequestTarget::Origin { query, .. } | RequestTarget::Absolute { query, .. } => *query,
            RequestTarget::Authority(_) | RequestTarget::Asterisk => None,
        }
    }
}

/// The request-target written back as RFC 9112 §3.2 spells each form. Parsing the text again
/// gives an equal `RequestTarget`; the text equals the bytes received except for an
/// absolute-form with an empty path, which the parser reports as `/` (RFC 9112 §3.2.1) and
/// which is written back with that `/`.
impl std::fmt::Display for RequestTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let query = match self {
            RequestTarget::Origin { path, query } => {
                f.write_str(path)?;
                query
            }
            RequestTarget::Absolute {
                scheme,
                authority,
                path,
                query,
            } => {
                write!(f, "{scheme}://{authority}{path}")?;
                query
            }
            RequestTarget::Authority(authority) => return f.write_str(authority),
            RequestTarget::Asterisk => return f.write_str("*"),
        };
        match query {
            Some(query) => write!(f, "?{query}"),
            None => Ok(()),
        }
    }
}

/// `HTTP-version = HTTP-name "/" DIGIT "." DIGIT` (RFC 9112 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The major version; always 1 in a request that parsed.
    pub major: u8,
    /// The minor version.
    pub minor: u8,
}

impl Version {
    /// HTTP/1.0
    pub const HTTP_10: Version = Version { major: 1, minor: 0 };
    /// HTTP/1.1
    pub const HTTP_11: Version = Version { major: 1, minor: 1 };
}

/// One field line: a name (a token, as received) and its value with surrounding OWS removed
/// (RFC 9112 §5). The value holds only VCHAR, obs-text, SP and HTAB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'b> {
    /// The field name, as received (compare it case-insensitively).
    pub name: &'b str,
    /// The field value, without leading or trailing OWS.
    pub value: &'b [u8],
}

impl Header<'_> {
    /// An empty placeholder, to initialise header storage: `[Header::EMPTY; 100]`.
    pub const EMPTY: Header<'static> = Header {
        name: "",
        value: b"",
    };
}

/// The header fields of a request, in the order received, with case-insensitive lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headers<'b, 'h> {
    fields: &'h [Header<'b>],
}

impl<'b, 'h> Headers<'b, 'h> {
    /// Wraps field lines already parsed.
    pub fn new(fields: &'h [Header<'b>]) -> Self {
        Headers { fields }
    }

    /// All field lines, in order.
    pub fn as_slice(&self) -> &'h [Header<'b>] {
        self.fields
    }

    /// How many field lines.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The value of the first field line named `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&'b [u8]> {
        self.get_all(name).next()
    }

    /// The values of every field line named `name`, in order.
    pub fn get_all<'n>(&self, name: &'n str) -> impl Iterator<Item = &'b [u8]> + use<'b, 'h, 'n> {
        self.fields
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// Every field line, in order.
    pub fn iter(&self) -> std::slice::Iter<'h, Header<'b>> {
        self.fields.iter()
    }
}

/// How the request's message body is delimited (RFC 9112 §6.3), decided from the framing
/// fields after they were checked against each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body: neither Content-Length nor Transfer-Encoding.
    None,
    /// Exactly this many bytes follow the head.
    ContentLength(u64),
    /// The body is in the chunked transfer coding; decode it with
    /// [`ChunkedDecoder`](crate::ChunkedDecoder).
    Chunked,
}

/// The connection options a request carries in its Connection field (RFC 9110 §7.6.1) that
/// decide persistence (RFC 9112 §9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectionOptions {
    /// The `close` option was present.
    pub close: bool,
    /// The `keep-alive` option was present (HTTP/1.0 persistence, RFC 9112 §C.2.2).
    pub keep_alive: bool,
}

/// A parsed request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'b, 'h> {
    /// The method.
    pub method: Method<'b>,
    /// The request-target.
    pub target: RequestTarget<'b>,
    /// The protocol version (major is always 1).
    pub version: Version,
    /// The field lines, in order.
    pub headers: Headers<'b, 'h>,
    /// The Host field's value, checked to be `uri-host [ ":" port ]` (RFC 9112 §3.2).
    /// `None` only in an HTTP/1.0 request without one.
    pub host: Option<&'b str>,
    /// How the body is delimited.
    pub framing: BodyFraming,
    /// The Connection options that decide persistence.
    pub connection: ConnectionOptions,
}

impl Request<'_, '_> {
    /// Whether the connection stays open after the response, from the request's side
    /// (RFC 9112 §9.3): `close` ends it; HTTP/1.1 persists by default; HTTP/1.0 only with
    /// `keep-alive`.
    pub fn wants_keep_alive(&self) -> bool {
        if self.connection.close {
            false
        } else if self.version >= Version::HTTP_11 {
            true
        } else {
            self.connection.keep_alive
        }
    }
}
