//! What HTTPS adds to the answers: the redirect that a plain-HTTP listener gives instead of
//! content (`--redirect-http`), and Strict-Transport-Security on every HTTPS response
//! (`--hsts`).

use super::{Gate, Handler};
use crate::http::head::RequestHead;
use crate::http::response::Response;
use nomserve_grammar::Request;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Answers every request with 308 Permanent Redirect (RFC 9110 §15.4.9) to the same path and
/// query over HTTPS: 308 rather than 301, so that a client repeats the request with the same
/// method (RFC 9110 §15.4.2 lets a 301 turn a POST into a GET).
#[derive(Debug)]
pub struct RedirectToHttps {
    /// The HTTPS port, left out of the URL when it is 443 (the default for `https`,
    /// RFC 9110 §4.2.2).
    port: u16,
    /// The host named when a request has none (HTTP/1.0 without Host): the address the
    /// server listens on, bracketed when it is IPv6.
    fallback_host: String,
}

impl RedirectToHttps {
    /// Redirects to HTTPS on `port`, naming `fallback_host` when a request names no host.
    pub fn new(port: u16, fallback_host: String) -> Self {
        RedirectToHttps {
            port,
            fallback_host,
        }
    }

    /// The `https` URL for `request`: its host without the port it came to, the HTTPS port
    /// unless it is 443, and its path and query (`/` for the asterisk and authority forms,
    /// which name no resource).
    fn location(&self, request: &Request<'_, '_>) -> String {
        let host = request
            .host
            .map_or(self.fallback_host.as_str(), without_port);
        let port = match self.port {
            443 => String::new(),
            port => format!(":{port}"),
        };
        let path = request.target.path().unwrap_or("/");
        match request.target.query() {
            Some(query) => format!("https://{host}{port}{path}?{query}"),
            None => format!("https://{host}{port}{path}"),
        }
    }
}

impl Handler for RedirectToHttps {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        _head: &RequestHead<'_>,
        _client: IpAddr,
    ) -> Response {
        let location = self.location(request);
        Response::text(308, format!("This site is served over HTTPS: {location}\n"))
            .header("Location", location)
    }
}

/// `host` (the value of Host, checked by the grammar as `uri-host [":" port]`, RFC 9110 §7.2)
/// without its port. An IP-literal ends with `]`; a port is the digits after the last `:`
/// otherwise.
fn without_port(host: &str) -> &str {
    if host.ends_with(']') {
        return host;
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Adds `Strict-Transport-Security: max-age=N` (RFC 6797 §6.1) to every response of the
/// handler it wraps, and names it to the connection layer, which adds it to the responses it
/// makes itself over TLS (a 400 for a malformed request, a 408, ...: RFC 6797 §7.1 has it on
/// every response over secure transport). Sent only over HTTPS: RFC 6797 §7.2 has a client
/// ignore it over plain HTTP, and a server not send it there.
#[derive(Debug)]
pub struct Hsts<H> {
    inner: H,
    value: Arc<str>,
}

impl<H: Handler> Hsts<H> {
    /// `inner`'s responses, with a policy lasting `max_age` (whole seconds).
    pub fn new(inner: H, max_age: Duration) -> Self {
        Hsts {
            inner,
            value: Arc::from(format!("max-age={}", max_age.as_secs())),
        }
    }
}

impl<H: Handler> Handler for Hsts<H> {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
    ) -> Response {
        self.inner
            .handle(request, head, client)
            .header("Strict-Transport-Security", Arc::clone(&self.value))
    }

    fn strict_transport_security(&self) -> Option<Arc<str>> {
        Some(Arc::clone(&self.value))
    }
}

/// Adds `Alt-Svc: h3=":PORT"; ma=86400` (RFC 7838 §3) to every response of the handler it
/// wraps that goes over HTTP/1.1 or HTTP/2, so that a browser learns that HTTP/3 is served
/// on UDP at `PORT` and moves its next requests there; the advertisement holds for a day
/// (`ma`, in seconds). Not on HTTP/3 responses, which need none.
pub struct AltSvc {
    inner: Arc<dyn Handler>,
    value: Arc<str>,
}

impl AltSvc {
    /// `inner`'s responses, advertising HTTP/3 on UDP `port`.
    pub fn new(inner: Arc<dyn Handler>, port: u16) -> Self {
        AltSvc {
            inner,
            value: Arc::from(format!("h3=\":{port}\"; ma=86400")),
        }
    }

    /// `response` to `request`, with the advertisement unless it goes over HTTP/3.
    fn advertise(&self, request: &Request<'_, '_>, response: Response) -> Response {
        if request.version.major < 3 {
            response.header("Alt-Svc", Arc::clone(&self.value))
        } else {
            response
        }
    }
}

impl Handler for AltSvc {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
    ) -> Response {
        self.advertise(request, self.inner.handle(request, head, client))
    }

    fn strict_transport_security(&self) -> Option<Arc<str>> {
        self.inner.strict_transport_security()
    }

    fn handle_gated(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
        gate: &dyn Gate,
    ) -> Response {
        let response = self.inner.handle_gated(request, head, client, gate);
        self.advertise(request, response)
    }

    fn gate<'a>(
        &'a self,
        request: &'a Request<'_, '_>,
        client: IpAddr,
    ) -> Option<Box<dyn Gate + 'a>> {
        self.inner.gate(request, client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::testing::answer;

    fn location(response: &Response) -> Option<&str> {
        response
            .headers
            .iter()
            .find(|(name, _)| *name == "Location")
            .map(|(_, value)| value.as_ref())
    }

    #[test]
    fn redirects_keep_path_and_query_and_drop_the_plain_port() {
        let redirect = RedirectToHttps::new(8443, "127.0.0.1".to_string());
        for (head, expected) in [
            (
                "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
                "https://example.com:8443/a/b?x=1",
            ),
            (
                "POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Length: 0\r\n\r\n",
                "https://example.com:8443/form",
            ),
            (
                "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
                "https://[::1]:8443/",
            ),
            (
                "GET /x HTTP/1.1\r\nHost: [::1]\r\n\r\n",
                "https://[::1]:8443/x",
            ),
            ("GET /old HTTP/1.0\r\n\r\n", "https://127.0.0.1:8443/old"),
            (
                "GET http://example.org/p?q HTTP/1.1\r\nHost: example.org\r\n\r\n",
                "https://example.org:8443/p?q",
            ),
        ] {
            let response = answer(&redirect, head);
            assert_eq!(response.status, 308, "{head:?}");
            assert_eq!(location(&response), Some(expected), "{head:?}");
        }
        let default_port = RedirectToHttps::new(443, "127.0.0.1".to_string());
        let response = answer(
            &default_port,
            "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n",
        );
        assert_eq!(location(&response), Some("https://example.com/a"));
    }

    #[test]
    fn alt_svc_advertises_http3_on_http1_and_http2_not_on_http3() {
        use nomserve_grammar::{
            BodyFraming, ConnectionOptions, Headers, Method, RequestTarget, Version,
        };
        let inner: Arc<dyn Handler> = Arc::new(RedirectToHttps::new(443, "h".to_string()));
        let alt = AltSvc::new(inner, 8443);
        let response = answer(&alt, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        let value = crate::handlers::testing::header(&response, "Alt-Svc");
        assert_eq!(value, Some("h3=\":8443\"; ma=86400"));
        for major in [2, 3] {
            let request = Request {
                method: Method::Get,
                target: RequestTarget::Origin {
                    path: "/",
                    query: None,
                },
                version: Version { major, minor: 0 },
                headers: Headers::new(&[]),
                host: Some("h"),
                framing: BodyFraming::None,
                connection: ConnectionOptions::default(),
            };
            let ip = IpAddr::from([127, 0, 0, 1]);
            let response = alt.handle(&request, &RequestHead::Raw(b""), ip);
            let value = crate::handlers::testing::header(&response, "Alt-Svc");
            assert_eq!(value.is_some(), major < 3, "HTTP/{major}");
        }
    }

    #[test]
    fn hsts_is_added_to_every_response() {
        let hsts = Hsts::new(
            RedirectToHttps::new(443, "h".to_string()),
            Duration::from_secs(86_400),
        );
        let response = answer(&hsts, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        let value = response
            .headers
            .iter()
            .find(|(name, _)| *name == "Strict-Transport-Security")
            .map(|(_, value)| value.as_ref());
        assert_eq!(value, Some("max-age=86400"));
    }
}
