//! `/metrics` and `/health`: the handler of the `--metrics` listener.
//!
//! `GET /metrics` answers the process's counters in the Prometheus text exposition format,
//! version 0.0.4 ([`metrics::exposition`]). `GET /health` answers `200 ok` while the server
//! serves and `503 draining` once a shutdown has begun, for a load balancer's health check.
//! HEAD is answered as GET, without the content. Any other path gets 404, and any other
//! method 405 with `Allow: GET, HEAD` (RFC 9110 §15.5.6), as the site's router answers. Every
//! answer is a reading of the moment: `Cache-Control: no-store` keeps caches from storing it
//! (RFC 9111 §5.2.2.5).

use crate::handlers::{ALLOW, Handler};
use crate::http::head::RequestHead;
use crate::http::response::{Body, Response};
use crate::metrics;
use nomserve_grammar::{Method, Request};
use std::borrow::Cow;
use std::net::IpAddr;

/// The media type of the text exposition format, version 0.0.4.
const EXPOSITION_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the handler reads of the running server it reports on.
pub trait Vitals: Send + Sync {
    /// Client connections open and, of those, idle.
    fn connections(&self) -> (usize, usize);

    /// Whether a shutdown has begun.
    fn draining(&self) -> bool;
}

/// Answers `/metrics` and `/health` from the counters and from `V`.
#[derive(Debug)]
pub struct Metrics<V> {
    vitals: V,
}

impl<V: Vitals> Metrics<V> {
    /// The handler reporting on the server `vitals` reads.
    pub fn new(vitals: V) -> Self {
        Metrics { vitals }
    }
}

impl<V: Vitals> Handler for Metrics<V> {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        _head: &RequestHead<'_>,
        _client: IpAddr,
    ) -> Response {
        if !matches!(request.method, Method::Get | Method::Head) {
            return Response::text(405, "GET or HEAD only\n")
                .header("Allow", ALLOW)
                .header("Cache-Control", "no-store");
        }
        let response = match request.target.path() {
            Some("/metrics") => Response::new(200)
                .header("Content-Type", EXPOSITION_TYPE)
                .body(Body::Bytes(Cow::Owned(
                    metrics::exposition(self.vitals.connections()).into_bytes(),
                ))),
            Some("/health") if self.vitals.draining() => Response::text(503, "draining\n"),
            Some("/health") => Response::text(200, "ok\n"),
            _ => Response::text(404, "/metrics or /health\n"),
        };
        response.header("Cache-Control", "no-store")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::{BodyFraming, ConnectionOptions, Headers, RequestTarget, Version};
    use std::sync::atomic::{AtomicBool, Ordering};

    #[derive(Debug, Default)]
    struct Fixed {
        draining: AtomicBool,
    }

    impl Vitals for &Fixed {
        fn connections(&self) -> (usize, usize) {
            (3, 1)
        }

        fn draining(&self) -> bool {
            self.draining.load(Ordering::Relaxed)
        }
    }

    fn answer(vitals: &Fixed, method: Method, path: &str) -> Response {
        let request = Request {
            method,
            target: RequestTarget::Origin { path, query: None },
            version: Version::HTTP_11,
            headers: Headers::new(&[]),
            host: Some("x"),
            framing: BodyFraming::None,
            connection: ConnectionOptions::default(),
        };
        Metrics::new(vitals).handle(
            &request,
            &RequestHead::Raw(b""),
            IpAddr::from([127, 0, 0, 1]),
        )
    }

    /// Whether `response` has the field `name: value`.
    fn has(response: &Response, name: &str, value: &str) -> bool {
        response
            .headers
            .iter()
            .any(|(n, v)| n == name && v == value)
    }

    fn text(response: &Response) -> String {
        let Body::Bytes(bytes) = &response.body else {
            panic!("not bytes: {:?}", response.body);
        };
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn metrics_are_the_exposition_with_the_servers_connections() {
        let vitals = Fixed::default();
        for method in [Method::Get, Method::Head] {
            let response = answer(&vitals, method, "/metrics");
            assert_eq!(response.status, 200);
            assert!(has(&response, "Content-Type", EXPOSITION_TYPE));
            assert!(has(&response, "Cache-Control", "no-store"));
            let text = text(&response);
            assert!(text.contains("\nnomserve_connections_open 3\n"), "{text}");
            assert!(text.contains("\nnomserve_connections_idle 1\n"), "{text}");
        }
    }

    #[test]
    fn health_is_ok_until_the_server_drains() {
        let vitals = Fixed::default();
        let ok = answer(&vitals, Method::Get, "/health");
        assert_eq!((ok.status, text(&ok).as_str()), (200, "ok\n"));
        vitals.draining.store(true, Ordering::Relaxed);
        let draining = answer(&vitals, Method::Head, "/health");
        assert_eq!(
            (draining.status, text(&draining).as_str()),
            (503, "draining\n")
        );
        assert!(has(&draining, "Cache-Control", "no-store"));
    }

    #[test]
    fn other_paths_are_404_and_other_methods_405() {
        let vitals = Fixed::default();
        assert_eq!(answer(&vitals, Method::Get, "/").status, 404);
        assert_eq!(answer(&vitals, Method::Get, "/metrics/").status, 404);
        let refused = answer(&vitals, Method::Post, "/metrics");
        assert_eq!(refused.status, 405);
        assert!(has(&refused, "Allow", ALLOW));
    }
}
