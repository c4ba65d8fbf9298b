//! A part's header section: its lines (RFC 2046 §5.1.1, RFC 9112 §5) and the fields
//! `multipart/form-data` defines (RFC 7578 §4.2, §4.4, §4.7, §4.8).

#![forbid(unsafe_code)]

use super::disposition::{Disposition, content_disposition};
use super::error::{MultipartError, MultipartErrorKind};
use crate::abnf::crlf;
use crate::fail::offset_in;
use crate::fields::{FieldLine, field_line};

/// The head of one part of a form, as [`MultipartDecoder`](crate::MultipartDecoder) parsed
/// it: the fields of its `Content-Disposition: form-data` and its `Content-Type`.
///
/// Every string is UTF-8, as the HTML form submission sends them. The filenames are as
/// given, neither checked nor cleaned: a server checks them against its own path rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartHead {
    /// The form field's `name` (RFC 7578 §4.2), unquoted.
    pub name: String,
    /// The `filename` parameter (RFC 7578 §4.2), unquoted and otherwise as received: a
    /// browser sends a `"` in a name as `%22`, a CR as `%0D` and an LF as `%0A` (HTML's
    /// form submission), which are not decoded, since nothing marks them apart from a `%`
    /// typed in the name.
    pub filename: Option<String>,
    /// The `filename*` parameter (RFC 6266 §4.3, RFC 8187), percent-decoded from UTF-8.
    pub filename_star: Option<String>,
    /// The part's `Content-Type` value as received (RFC 7578 §4.4), `None` when absent (a
    /// recipient then takes `text/plain`, or for a file `application/octet-stream`).
    pub content_type: Option<String>,
}

impl PartHead {
    /// The file name the client meant: `filename*` when given, else `filename`, as RFC 6266
    /// §4.3 has a recipient prefer it. `None` for a plain form field.
    pub fn file_name(&self) -> Option<&str> {
        self.filename_star.as_deref().or(self.filename.as_deref())
    }
}

/// A part's head as its lines are parsed.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadBuilder {
    disposition: Option<Disposition>,
    content_type: Option<String>,
}

impl HeadBuilder {
    /// Takes one field line of the head, found at the start of `input` (the offsets of its
    /// errors count from there).
    ///
    /// Content-Disposition and Content-Type are read, each at most once
    /// (`DuplicatePartHeader`: two of either leave the part ambiguous). A
    /// Content-Transfer-Encoding, deprecated by RFC 7578 §4.7, is allowed only when it says
    /// the content is as sent (`7bit`, `8bit`, `binary`): any other would have the server
    /// store encoded bytes as the file. Other fields are ignored (RFC 7578 §4.8).
    fn field(&mut self, input: &[u8], line: &FieldLine<'_>) -> Result<(), MultipartError> {
        use MultipartErrorKind::*;
        let at_value = |kind| MultipartError::new(kind, offset_in(input, line.value));
        let name = line.name.as_bytes();
        if name.eq_ignore_ascii_case(b"content-disposition") {
            if self.disposition.is_some() {
                return Err(MultipartError::new(DuplicatePartHeader, 0));
            }
            let disposition = match content_disposition(line.value) {
                Ok((_, disposition)) => disposition,
                Err(nom::Err::Error(f) | nom::Err::Failure(f)) => {
                    let error = f.into_error(line.value);
                    return Err(error.shifted(offset_in(input, line.value)));
                }
                Err(nom::Err::Incomplete(_)) => return Err(at_value(InvalidContentDisposition)),
            };
            self.disposition = Some(disposition);
        } else if name.eq_ignore_ascii_case(b"content-type") {
            if self.content_type.is_some() {
                return Err(MultipartError::new(DuplicatePartHeader, 0));
            }
            let text = String::from_utf8(line.value.to_vec()).map_err(|_| at_value(InvalidUtf8))?;
            self.content_type = Some(text);
        } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
            let identity = [&b"7bit"[..], b"8bit", b"binary"];
            if !identity.iter().any(|m| line.value.eq_ignore_ascii_case(m)) {
                return Err(at_value(UnsupportedTransferEncoding));
            }
        }
        Ok(())
    }

    /// The head, once its blank line came, found at the start of `input`; the builder is
    /// left empty for the next part. A head without Content-Disposition is
    /// `MissingContentDisposition`, at the blank line (RFC 7578 §4.2: each part MUST have
    /// one).
    pub(crate) fn finish(&mut self) -> Result<PartHead, MultipartError> {
        let HeadBuilder {
            disposition,
            content_type,
        } = std::mem::take(self);
        let Some(disposition) = disposition else {
            return Err(MultipartError::new(
                MultipartErrorKind::MissingContentDisposition,
                0,
            ));
        };
        Ok(PartHead {
            name: disposition.name,
            filename: disposition.filename,
            filename_star: disposition.filename_star,
            content_type,
        })
    }

    /// One line of a part's head at the start of `input`, of at most `budget` bytes (CRLF
    /// included): `Some(HeadLine::Field(len))` once a field line was taken into the head,
    /// `Some(HeadLine::End)` for the blank line that ends the head, `None` if `input` is a
    /// prefix of a line. Offsets in the error count from the start of `input`.
    ///
    /// ```text
    /// body-part          := MIME-part-headers [CRLF *OCTET]
    /// MIME-part-headers  = *( field-line CRLF )
    /// ```
    /// RFC 2046 §5.1.1, the field lines read by RFC 9112 §5 (the header section's
    /// [`field_line`]): only CRLF ends a line, no obs-fold (a line that starts with SP or
    /// HTAB), no whitespace before the colon. **Decision, argued**: RFC 2046 allows the
    /// blank line to be absent in a part with no content; every encoder writes it, and
    /// without it a delimiter could be read as the first line of content, so it is required.
    /// Each failure of the line's syntax is `InvalidPartHeader` at the byte where it
    /// happens; a line that cannot fit in `budget` is `PartHeadTooLarge` at the byte past it.
    pub(crate) fn line(
        &mut self,
        input: &[u8],
        budget: usize,
    ) -> Result<Option<HeadLine>, MultipartError> {
        use MultipartErrorKind::*;
        let syntax = |at: &[u8]| MultipartError::new(InvalidPartHeader, offset_in(input, at));
        let window = input.get(..budget).unwrap_or(input);
        let too_large = || MultipartError::new(PartHeadTooLarge, window.len());
        match window.first() {
            None if input.is_empty() => return Ok(None),
            None => return Err(too_large()),
            Some(b'\r' | b'\n') => {
                return match crlf(window) {
                    Ok(_) => Ok(Some(HeadLine::End)),
                    Err(nom::Err::Incomplete(_)) if input.len() > window.len() => Err(too_large()),
                    Err(nom::Err::Incomplete(_)) => Ok(None),
                    Err(nom::Err::Error(f) | nom::Err::Failure(f)) => Err(syntax(f.at)),
                };
            }
            Some(b' ' | b'\t') => return Err(syntax(input)),
            Some(_) => {}
        }
        match field_line(window) {
            Ok((rest, line)) => {
                self.field(input, &line)?;
                Ok(Some(HeadLine::Field(window.len() - rest.len())))
            }
            Err(nom::Err::Incomplete(_)) if input.len() > window.len() => Err(too_large()),
            Err(nom::Err::Incomplete(_)) => Ok(None),
            Err(nom::Err::Error(f) | nom::Err::Failure(f)) => Err(syntax(f.at)),
        }
    }
}

/// One line of a part's head, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadLine {
    /// A field line and its CRLF, this many bytes.
    Field(usize),
    /// The blank line (CRLF) that ends the head.
    End,
}

#[cfg(test)]
mod tests {
    use super::*;
    use MultipartErrorKind::*;

    /// The head `lines` (ending in the blank line) make, fed whole.
    fn head(lines: &[u8]) -> Result<PartHead, (MultipartErrorKind, usize)> {
        let mut builder = HeadBuilder::default();
        let mut at = 0;
        loop {
            match builder.line(&lines[at..], 1024) {
                Ok(Some(HeadLine::Field(len))) => at += len,
                Ok(Some(HeadLine::End)) => {
                    return builder.finish().map_err(|e| (e.kind(), e.offset() + at));
                }
                Ok(None) => panic!("{:?} is partial", String::from_utf8_lossy(lines)),
                Err(e) => return Err((e.kind(), e.offset() + at)),
            }
        }
    }

    #[test]
    fn accepted() {
        let got = head(
            b"Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\
              content-type:  text/plain; charset=utf-8 \r\n\
              Content-Transfer-Encoding: BINARY\r\nX-Other: ignored\r\n\r\n",
        );
        assert_eq!(
            got,
            Ok(PartHead {
                name: "f".into(),
                filename: Some("a.txt".into()),
                filename_star: None,
                content_type: Some("text/plain; charset=utf-8".into()),
            })
        );
        let plain = head(b"Content-Disposition: form-data; name=x\r\n\r\n").unwrap();
        assert_eq!(
            (plain.file_name(), plain.content_type.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn file_name_prefers_the_star() {
        let head = PartHead {
            filename: Some("a.txt".into()),
            filename_star: Some("€.txt".into()),
            ..PartHead::default()
        };
        assert_eq!(head.file_name(), Some("€.txt"));
        let head = PartHead {
            filename: Some("a.txt".into()),
            ..PartHead::default()
        };
        assert_eq!(head.file_name(), Some("a.txt"));
    }

    #[test]
    fn refused() {
        let cases: &[(&[u8], MultipartErrorKind, usize)] = &[
            (b"\r\n", MissingContentDisposition, 0),
            (b"Content-Type: text/plain\r\n\r\n", MissingContentDisposition, 26),
            (b"Content-Disposition: attachment\r\n\r\n", InvalidContentDisposition, 21),
            (b"Content-Disposition: form-data; x=1\r\n\r\n", MissingName, 21),
            (b"Content-Disposition: form-data; name=\"a\r\n\r\n", InvalidContentDisposition, 39),
            (
                b"Content-Disposition: form-data; name=a\r\ncontent-disposition: form-data; name=b\r\n\r\n",
                DuplicatePartHeader,
                40,
            ),
            (
                b"Content-Type: a/b\r\nContent-Type: c/d\r\n\r\n",
                DuplicatePartHeader,
                19,
            ),
            (b"Content-Type: \xff\r\n\r\n", InvalidUtf8, 14),
            (b"Content-Transfer-Encoding: base64\r\n\r\n", UnsupportedTransferEncoding, 27),
            (b"Content-Type : a/b\r\n\r\n", InvalidPartHeader, 12),
            (b"Content-Type\r\n\r\n", InvalidPartHeader, 12),
            (b"Content-Type: a/b\n\r\n", InvalidPartHeader, 17),
            (b"Content-Type: a\x00\r\n\r\n", InvalidPartHeader, 15),
            (b"Content-Type: a/b\r\n folded\r\n\r\n", InvalidPartHeader, 19),
            (b"\n", InvalidPartHeader, 0),
            (b"\rX", InvalidPartHeader, 0),
        ];
        for &(lines, kind, offset) in cases {
            assert_eq!(
                head(lines),
                Err((kind, offset)),
                "{:?}",
                String::from_utf8_lossy(lines)
            );
        }
    }

    #[test]
    fn partial_and_bounded() {
        let mut builder = HeadBuilder::default();
        for prefix in [&b""[..], b"\r", b"Content-Type", b"Content-Type: a/b\r"] {
            assert_eq!(builder.line(prefix, 64), Ok(None), "{prefix:?}");
        }
        // A line of exactly the budget is taken; one byte more is refused at the bound.
        let line = b"Content-Type: a/b\r\n";
        assert_eq!(
            builder.line(line, line.len()),
            Ok(Some(HeadLine::Field(19)))
        );
        let mut builder = HeadBuilder::default();
        assert_eq!(
            builder.line(line, line.len() - 1),
            Err(MultipartError::new(PartHeadTooLarge, 18))
        );
        // Up to the budget an unfinished line waits.
        assert_eq!(builder.line(&line[..18], 18), Ok(None));
    }
}
