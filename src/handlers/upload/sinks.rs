//! The two ways a file arrives, as sinks the connection gives the body to
//! ([`BodySink`]): `PUT /folder/name` (the body is the file) and a `multipart/form-data`
//! `POST` to the folder (each part with a file name is a file; RFC 7578), decoded by the
//! grammar's push decoder as the body arrives.
//!
//! A form's files are all staged before any is put in place: once the body is through,
//! each is renamed into place in turn, and if one cannot be (its name was taken meanwhile,
//! or the disk failed), those already placed by this request are removed again, so a
//! request stores all its files or none (a file replaced under `overwrite` excepted: the
//! old one is gone).

use super::names;
use super::store::{Folder, Staged, Stored};
use crate::http::response::Response;
use crate::http::response::{BodySink, Refusal};
use nomserve_grammar::{MultipartDecoder, MultipartError, MultipartEvent, Parsed};
use std::sync::Arc;

/// The most bytes of a form that are not file content: its plain fields, part heads,
/// delimiters, preamble and epilogue. A browser's form holds a few hundred; past this, a
/// client is sending something else than files, and is refused (413) rather than read
/// without end.
pub const MAX_FORM_OVERHEAD: u64 = 1024 * 1024;

/// The body of `PUT /folder/name`: the file.
#[derive(Debug)]
pub struct PutSink {
    staged: Staged,
    /// The stored file's URL path, for Location.
    location: String,
}

impl PutSink {
    /// The sink for the file `name` of `folder`, at `location`.
    pub fn new(folder: &Arc<Folder>, name: &str, location: String) -> Result<PutSink, Refusal> {
        Ok(PutSink {
            staged: folder.stage(name)?,
            location,
        })
    }
}

impl BodySink for PutSink {
    fn take(&mut self, piece: &[u8]) -> Result<(), Refusal> {
        self.staged.write(piece)
    }

    /// 201 (Created) with Location for a new file, 204 (No Content) for one replaced
    /// (RFC 9110 §9.3.4).
    fn finish(self: Box<Self>) -> Response {
        let PutSink { staged, location } = *self;
        match staged.commit() {
            Ok(Stored { replaced: true, .. }) => Response::new(204),
            Ok(Stored { name, .. }) => {
                Response::text(201, format!("stored {name:?}\n")).header("Location", location)
            }
            Err(refusal) => *refusal,
        }
    }
}

/// The body of a form `POST` to a folder.
#[derive(Debug)]
pub struct FormSink {
    folder: Arc<Folder>,
    decoder: MultipartDecoder,
    dotfiles: bool,
    /// The client prefers a page (a browser's own form submission): it is sent back to the
    /// listing with 303 (See Other, RFC 9110 §15.4.4) once the files are stored.
    browser: bool,
    /// Bytes the decoder left unconsumed (a delimiter may begin there), at most its
    /// lookahead; the next piece is appended to them.
    carry: Vec<u8>,
    /// The file of the part under way, if the part is a file.
    current: Option<Staged>,
    /// The files complete, in the order they came.
    staged: Vec<Staged>,
    /// Bytes consumed that were not file content (see [`MAX_FORM_OVERHEAD`]).
    overhead: u64,
}

impl FormSink {
    /// The sink for a form of `folder` delimited as `decoder` expects.
    pub fn new(
        folder: Arc<Folder>,
        decoder: MultipartDecoder,
        dotfiles: bool,
        browser: bool,
    ) -> FormSink {
        FormSink {
            folder,
            decoder,
            dotfiles,
            browser,
            carry: Vec::new(),
            current: None,
            staged: Vec::new(),
            overhead: 0,
        }
    }

    /// Decodes what it can of `input`; returns how many bytes it used.
    fn feed(&mut self, input: &[u8]) -> Result<usize, Refusal> {
        let mut at = 0;
        loop {
            let rest = input.get(at..).unwrap_or_default();
            let (event, consumed) = match self.decoder.decode(rest).map_err(malformed)? {
                Parsed::Partial => return Ok(at),
                Parsed::Complete { value, consumed } => (value, consumed),
            };
            at += consumed;
            let content = match (&event, &self.current) {
                (MultipartEvent::Data(data), Some(_)) => data.len(),
                _ => 0,
            };
            self.overhead += (consumed - content.min(consumed)) as u64;
            if self.overhead > MAX_FORM_OVERHEAD {
                return Err(Box::new(Response::text(
                    413,
                    format!(
                        "the form's fields and framing are larger than {MAX_FORM_OVERHEAD} bytes\n"
                    ),
                )));
            }
            match event {
                MultipartEvent::PartStart(head) => {
                    // A part without a file name is a plain field, and one with an empty
                    // name a file input left empty (HTML sends `filename=""`): skipped.
                    self.current = match head.file_name() {
                        Some(name) if !name.is_empty() => Some(self.stage(name)?),
                        _ => None,
                    };
                }
                MultipartEvent::Data(data) => {
                    if let Some(file) = self.current.as_mut() {
                        file.write(data)?;
                    }
                }
                MultipartEvent::PartEnd => {
                    if let Some(mut file) = self.current.take() {
                        file.complete()?;
                        self.staged.push(file);
                    }
                }
                // The epilogue, ignored, counts as overhead as it arrives.
                MultipartEvent::End => {
                    let rest = input.len() - at.min(input.len());
                    self.overhead += rest as u64;
                    if self.overhead > MAX_FORM_OVERHEAD {
                        return Err(Box::new(Response::text(
                            413,
                            "the form goes on past its end\n",
                        )));
                    }
                    return Ok(input.len());
                }
            }
        }
    }

    /// Starts the file `name`: refused (400) for a name the rules refuse, (409) for one
    /// taken, or given twice in the form.
    fn stage(&self, name: &str) -> Result<Staged, Refusal> {
        if let Err(rule) = names::check(name, self.dotfiles) {
            return Err(Box::new(Response::text(
                400,
                format!("{name:?} was not stored: {}\n", rule.sentence()),
            )));
        }
        if self.staged.iter().any(|file| file.name == name) {
            return Err(self.folder.taken(name));
        }
        self.folder.stage(name)
    }
}

/// A malformed form's answer: its error's status and sentence (which names the rule).
fn malformed(e: MultipartError) -> Refusal {
    Box::new(Response::text(e.status(), format!("malformed form: {e}\n")))
}

impl BodySink for FormSink {
    fn take(&mut self, piece: &[u8]) -> Result<(), Refusal> {
        if self.carry.is_empty() {
            let used = self.feed(piece)?;
            self.carry
                .extend_from_slice(piece.get(used..).unwrap_or_default());
        } else {
            let mut input = std::mem::take(&mut self.carry);
            input.extend_from_slice(piece);
            let used = self.feed(&input)?;
            input.drain(..used.min(input.len()));
            self.carry = input;
        }
        Ok(())
    }

    /// Once the close-delimiter was seen: every file put in place, or none (see the module
    /// documentation). 303 to the listing for a browser, else 201 naming the files.
    fn finish(self: Box<Self>) -> Response {
        let FormSink {
            folder,
            mut decoder,
            browser,
            carry,
            staged,
            ..
        } = *self;
        if let Err(e) = decoder.finish(&carry) {
            return *malformed(e);
        }
        if staged.is_empty() {
            return Response::text(400, "the form holds no file\n");
        }
        let mut stored: Vec<Stored> = Vec::with_capacity(staged.len());
        let mut staged = staged.into_iter();
        for file in staged.by_ref() {
            match file.commit() {
                Ok(placed) => stored.push(placed),
                Err(refusal) => {
                    // The rest are dropped (removed) with `staged`.
                    for placed in &stored {
                        folder.withdraw(placed);
                    }
                    return *refusal;
                }
            }
        }
        if browser {
            return Response::new(303).header("Location", folder.url.clone());
        }
        let names: Vec<String> = stored
            .iter()
            .map(|file| format!("{:?}", file.name))
            .collect();
        Response::text(
            201,
            format!("stored in {}: {}\n", folder.url, names.join(", ")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::upload::store::tests::{folder, names};
    use nomserve_grammar::{MultipartLimits, parse_boundary};

    fn form_sink(folder: &Arc<Folder>, browser: bool) -> Box<FormSink> {
        let boundary = parse_boundary(b"multipart/form-data; boundary=XyZ").unwrap();
        let decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
        Box::new(FormSink::new(Arc::clone(folder), decoder, false, browser))
    }

    /// A form of `files` (name, content) and a plain field, as a browser encodes it.
    fn form(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut body =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n".to_vec();
        for (name, content) in files {
            body.extend_from_slice(
                format!(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"{name}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        body
    }

    #[test]
    fn a_form_fed_in_any_pieces_stores_each_file_exactly() {
        let content: &[u8] = b"line\r\n--XyY not quite\r\n--Xy\r\n\0\xff\r";
        let body = form(&[("a.bin", content), ("b.txt", b"")]);
        for size in [1, 2, 3, 7, 64, body.len()] {
            let (dir, folder) = folder(1000, false);
            let mut sink = form_sink(&folder, false);
            for piece in body.chunks(size) {
                sink.take(piece).unwrap();
            }
            let answer = sink.finish();
            assert_eq!(answer.status, 201, "pieces of {size}");
            assert_eq!(names(&dir), ["a.bin", "b.txt"], "pieces of {size}");
            assert_eq!(std::fs::read(dir.path().join("a.bin")).unwrap(), content);
        }
    }

    #[test]
    fn a_browser_is_sent_back_to_the_listing() {
        let (_dir, folder) = folder(1000, false);
        let mut sink = form_sink(&folder, true);
        sink.take(&form(&[("a.txt", b"x")])).unwrap();
        let answer = sink.finish();
        assert_eq!(answer.status, 303);
        assert_eq!(answer.headers[0].1, "/inbox/");
    }

    #[test]
    fn a_form_stores_all_its_files_or_none() {
        let (dir, folder) = folder(1000, false);
        let mut sink = form_sink(&folder, false);
        sink.take(&form(&[("a.txt", b"1"), ("a.txt", b"2")]))
            .unwrap_err();
        drop(sink);
        assert!(names(&dir).is_empty());
        // A name taken only when the files are put in place: the first is withdrawn.
        let mut sink = form_sink(&folder, false);
        sink.take(&form(&[("a.txt", b"1"), ("b.txt", b"2")]))
            .unwrap();
        std::fs::write(dir.path().join("b.txt"), "raced").unwrap();
        assert_eq!(sink.finish().status, 409);
        assert_eq!(names(&dir), ["b.txt"]);
    }

    #[test]
    fn a_truncated_or_fileless_form_is_400_and_leaves_nothing() {
        let (dir, folder) = folder(1000, false);
        let body = form(&[("a.txt", b"data")]);
        let mut sink = form_sink(&folder, false);
        sink.take(&body[..body.len() - 12]).unwrap();
        let answer = sink.finish();
        assert_eq!(answer.status, 400);
        assert!(names(&dir).is_empty());
        let mut sink = form_sink(&folder, false);
        sink.take(&form(&[])).unwrap();
        assert_eq!(sink.finish().status, 400);
    }

    #[test]
    fn a_put_answers_201_with_location_then_204_when_replacing() {
        let (dir, folder) = folder(1000, true);
        let mut sink =
            Box::new(PutSink::new(&folder, "a b.txt", "/inbox/a%20b.txt".into()).unwrap());
        sink.take(b"one").unwrap();
        let answer = sink.finish();
        assert_eq!(answer.status, 201);
        assert!(
            answer
                .headers
                .iter()
                .any(|(n, v)| n == "Location" && v == "/inbox/a%20b.txt")
        );
        let mut sink = Box::new(PutSink::new(&folder, "a b.txt", String::new()).unwrap());
        sink.take(b"two").unwrap();
        assert_eq!(sink.finish().status, 204);
        assert_eq!(std::fs::read(dir.path().join("a b.txt")).unwrap(), b"two");
    }
}

#[cfg(test)]
mod bounds {
    use super::*;
    use crate::handlers::upload::store::tests::{folder, names};
    use nomserve_grammar::{MultipartLimits, parse_boundary};

    #[test]
    fn a_form_of_endless_plain_fields_is_refused_and_leaves_nothing() {
        let (dir, folder) = folder(10_000_000, false);
        let boundary = parse_boundary(b"multipart/form-data; boundary=B").unwrap();
        let decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
        let mut sink = FormSink::new(Arc::clone(&folder), decoder, false, false);
        sink.take(b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n")
            .unwrap();
        sink.take(&[b'x'; 4096]).unwrap();
        sink.take(b"\r\n--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n")
            .unwrap();
        let chunk = [b'y'; 64 * 1024];
        let refused = loop {
            if let Err(refusal) = sink.take(&chunk) {
                break refusal;
            }
            assert!(sink.overhead <= MAX_FORM_OVERHEAD + chunk.len() as u64);
        };
        assert_eq!(refused.status, 413);
        drop(sink);
        assert!(names(&dir).is_empty());
    }
}

#[cfg(test)]
mod round_trip {
    use super::*;
    use crate::handlers::upload::store::tests::folder;
    use nomserve_grammar::{MultipartLimits, parse_boundary};
    use proptest::prelude::*;

    /// Contents that look like framing: CR, LF, dashes and the boundary's letters.
    fn content() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                Just(b'\r'),
                Just(b'\n'),
                Just(b'-'),
                Just(b'q'),
                any::<u8>()
            ],
            0..300,
        )
    }

    proptest! {
        // Each case makes a folder and syncs its files: fewer cases than the default.
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Files encoded as a form and fed to the sink in pieces of any sizes are stored
        /// with exactly their bytes.
        #[test]
        fn files_round_trip_through_a_form_in_any_pieces(
            files in prop::collection::vec(content(), 1..4),
            cuts in prop::collection::vec(1usize..64, 1..50),
        ) {
            let boundary = "qqq-boundary-qqq";
            let mut body = Vec::new();
            for (i, file) in files.iter().enumerate() {
                body.extend_from_slice(format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; \
                     filename=\"file{i}\"\r\n\r\n"
                ).as_bytes());
                body.extend_from_slice(file);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            // A content holding the delimiter is not a valid form: skip those.
            let delimiter = format!("\r\n--{boundary}");
            prop_assume!(files.iter().all(|f| {
                let mut framed = b"\r\n".to_vec();
                framed.extend_from_slice(f);
                framed.extend_from_slice(b"\r\n");
                !framed.windows(delimiter.len()).any(|w| w == delimiter.as_bytes())
            }));
            let (dir, folder) = folder(1 << 20, false);
            let content_type = format!("multipart/form-data; boundary={boundary}");
            let decoder = MultipartDecoder::new(
                parse_boundary(content_type.as_bytes()).unwrap(),
                MultipartLimits::default(),
            );
            let mut sink = Box::new(FormSink::new(Arc::clone(&folder), decoder, false, false));
            let mut rest = &body[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, after) = rest.split_at((*cut).min(rest.len()));
                sink.take(piece).unwrap();
                rest = after;
            }
            prop_assert_eq!(sink.finish().status, 201);
            for (i, file) in files.iter().enumerate() {
                let stored = std::fs::read(dir.path().join(format!("file{i}"))).unwrap();
                prop_assert_eq!(&stored, file);
            }
        }
    }
}
