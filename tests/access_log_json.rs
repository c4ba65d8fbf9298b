//! The JSON access log against the real binary: every control a client can put in a logged
//! field, C1 controls (obs-text, RFC 9110 §5.5) and U+2028/U+2029 included, is written as a
//! `\uXXXX` escape, so a line shows nothing that moves a terminal's cursor or ends a line.

mod common;

use common::{Server, split_responses};

#[test]
fn c1_controls_and_unicode_line_ends_from_the_client_are_escaped_in_the_json_log() {
    let root = tempfile::tempdir().expect("temporary root");
    std::fs::write(root.path().join("a.txt"), "a\n").expect("write a.txt");
    let server = Server::with_args(root.path(), &["--access-log", "-", "--log-format", "json"]);
    // U+0080, U+009B (CSI: a terminal's command introducer), U+009F, U+0085 (NEL, a line
    // end), U+2028 and U+2029, in UTF-8, in field values.
    let raw = b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\
        User-Agent: a\xc2\x80b\xc2\x9b[31mc\xc2\x9fd\r\n\
        Referer: http://example.com/\xc2\x85x\xe2\x80\xa8y\xe2\x80\xa9z\r\n\
        Connection: close\r\n\r\n";
    let response = split_responses(&server.exchange(raw), &[false]).remove(0);
    assert_eq!(response.status, 200);
    let line = server.wait_for_stdout("\"status\":200");
    assert!(
        line.contains(r#""user_agent":"a\u0080b\u009b[31mc\u009fd""#),
        "{line}"
    );
    assert!(
        line.contains(r#""referer":"http://example.com/\u0085x\u2028y\u2029z""#),
        "{line}"
    );
    let shown = |c: char| !c.is_control() && c != '\u{2028}' && c != '\u{2029}';
    assert!(line.chars().all(shown), "{line:?}");
    let entry: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(entry["user_agent"], "a\u{80}b\u{9b}[31mc\u{9f}d");
    assert_eq!(
        entry["referer"],
        "http://example.com/\u{85}x\u{2028}y\u{2029}z"
    );
}
