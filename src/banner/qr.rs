//! The banner's QR code (`--qr`): the first URL a phone on the same network could open,
//! encoded with the `qrcode` crate and drawn in text, two rows of modules per line with the
//! half blocks `▀`, `▄` and `█` (Unicode's Block Elements), inside the quiet zone of four
//! modules that ISO/IEC 18004 asks for.

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};
use std::net::IpAddr;

/// The URL to encode: the first of `addresses` (each URL with the address it names, `None`
/// for a Unix socket) whose address another machine can reach, neither loopback nor
/// unspecified.
pub(super) fn phone_url(addresses: &[(String, Option<IpAddr>)]) -> Option<&str> {
    addresses
        .iter()
        .find(|(_, ip)| ip.is_some_and(|ip| !ip.is_loopback() && !ip.is_unspecified()))
        .map(|(url, _)| url.as_str())
}

/// `url` as a QR code (error correction level M, which survives a smudged screen), each line
/// indented by two spaces. The blocks are drawn in the terminal's foreground colour: with
/// `colour`, black on white (SGR 30 and 107); without, light on the dark background most
/// terminals have, so the dark modules are the spaces. `None` if the URL is too long for a
/// QR code.
pub(super) fn render(url: &str, colour: bool) -> Option<String> {
    let code = QrCode::with_error_correction_level(url, EcLevel::M).ok()?;
    let (dark, light) = match colour {
        true => (Dense1x2::Dark, Dense1x2::Light),
        false => (Dense1x2::Light, Dense1x2::Dark),
    };
    let drawn = code
        .render::<Dense1x2>()
        .dark_color(dark)
        .light_color(light)
        .quiet_zone(true)
        .build();
    let mut text = String::with_capacity(drawn.len() * 2);
    for line in drawn.lines() {
        text.push_str("  ");
        if colour {
            text.push_str("\x1b[30;107m");
            text.push_str(line);
            text.push_str("\x1b[0m");
        } else {
            text.push_str(line);
        }
        text.push('\n');
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::Color;

    /// The modules a drawing shows, read back from its half blocks (`dark_is_block`: whether
    /// a dark module is drawn in the foreground colour), quiet zone included.
    fn modules(text: &str, dark_is_block: bool) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in text.lines() {
            let line = line.strip_prefix("  ").unwrap();
            let line = line
                .trim_start_matches("\x1b[30;107m")
                .trim_end_matches("\x1b[0m");
            let (mut top, mut bottom) = (Vec::new(), Vec::new());
            for c in line.chars() {
                let (t, b) = match c {
                    ' ' => (false, false),
                    '\u{2580}' => (true, false),
                    '\u{2584}' => (false, true),
                    '\u{2588}' => (true, true),
                    other => panic!("{other:?} in a QR code"),
                };
                top.push(t == dark_is_block);
                bottom.push(b == dark_is_block);
            }
            rows.push(top);
            rows.push(bottom);
        }
        rows
    }

    #[test]
    fn the_drawing_is_the_code_in_its_quiet_zone() {
        let url = "http://192.168.1.20:8080/";
        let code = QrCode::with_error_correction_level(url, EcLevel::M).unwrap();
        let width = code.width();
        let colors = code.to_colors();
        for colour in [true, false] {
            let rows = modules(&render(url, colour).unwrap(), colour);
            assert!(rows.len() >= width + 8 && rows.len() <= width + 9);
            // An odd count of rows leaves a half line below the quiet zone, drawn as the
            // terminal's background: not part of the code.
            for (y, row) in rows.iter().take(width + 8).enumerate() {
                assert_eq!(row.len(), width + 8);
                for (x, &dark) in row.iter().enumerate() {
                    let inside = (4..width + 4).contains(&x) && (4..width + 4).contains(&y);
                    let expected = inside && colors[(y - 4) * width + (x - 4)] == Color::Dark;
                    assert_eq!(dark, expected, "module ({x}, {y}), colour {colour}");
                }
            }
        }
    }

    #[test]
    fn the_first_address_another_machine_can_reach() {
        let at = |url: &str, ip: Option<&str>| (url.to_string(), ip.map(|ip| ip.parse().unwrap()));
        let addresses = [
            at("unix:/run/n.sock", None),
            at("http://127.0.0.1:8080/", Some("127.0.0.1")),
            at("http://[::1]:8080/", Some("::1")),
            at("http://192.168.1.20:8080/", Some("192.168.1.20")),
            at("http://10.0.0.2:8080/", Some("10.0.0.2")),
        ];
        assert_eq!(phone_url(&addresses), Some("http://192.168.1.20:8080/"));
        assert_eq!(phone_url(&addresses[..3]), None);
    }
}
