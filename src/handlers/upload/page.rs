//! The upload form an upload folder's listing shows: several files at once, dropped on the
//! form or chosen, sent with progress shown as they go, and no external asset.
//!
//! The form works on its own (a plain `multipart/form-data` POST to the folder, answered
//! with 303 back to the listing). A small inline script adds drag and drop and a progress
//! bar (XMLHttpRequest's upload progress events). The listing's Content-Security-Policy
//! forbids scripts; a listing with the form allows exactly this script, by its SHA-256 hash
//! (CSP Level 3, `script-src 'sha256-…'`), its requests to the server itself
//! (`connect-src 'self'`) and the form's target (`form-action 'self'`): nothing else runs,
//! whatever a file name holds.

use crate::http::response::{Body, FieldValue, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::sync::LazyLock;

/// The form, placed at the end of the listing's body.
const FORM: &str = r#"<form id="upload" method="post" enctype="multipart/form-data" style="margin:1.5em 0;padding:1em;border:2px dashed #888;border-radius:6px">
<label>Upload files: <input type="file" name="file" multiple required></label>
<button type="submit">Upload</button>
<progress hidden max="1" value="0" style="width:100%;margin-top:.5em"></progress>
<output style="display:block;margin-top:.5em"></output>
<p style="margin:.5em 0 0;color:#666">or drop files here</p>
</form>
"#;

/// Drag and drop, and the progress of the upload.
const SCRIPT: &str = r##"(function () {
  var form = document.getElementById("upload");
  if (!form || !window.FormData) return;
  var input = form.querySelector("input[type=file]");
  var bar = form.querySelector("progress");
  var out = form.querySelector("output");
  function send(files) {
    if (!files || !files.length) return;
    var data = new FormData();
    for (var i = 0; i < files.length; i++) data.append("file", files[i], files[i].name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || location.pathname);
    xhr.setRequestHeader("Accept", "text/plain");
    bar.hidden = false;
    bar.value = 0;
    out.textContent = "Uploading " + files.length + " file(s)...";
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) bar.value = e.loaded / e.total;
    };
    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 1;
        out.textContent = "Done.";
        location.reload();
      } else {
        out.textContent = "Upload failed: " + xhr.status + " " + xhr.responseText;
      }
    };
    xhr.onerror = function () { out.textContent = "Upload failed: the connection was cut."; };
    xhr.send(data);
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); send(input.files); });
  ["dragenter", "dragover"].forEach(function (type) {
    form.addEventListener(type, function (e) { e.preventDefault(); form.style.borderColor = "#07c"; });
  });
  form.addEventListener("dragleave", function () { form.style.borderColor = "#888"; });
  form.addEventListener("drop", function (e) {
    e.preventDefault();
    form.style.borderColor = "#888";
    send(e.dataTransfer.files);
  });
})();
"##;

/// The listing's policy, with the script allowed by its hash.
static POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{hash}'; \
         connect-src 'self'; form-action 'self'"
    )
});

/// `listing` (a folder's listing page) with the upload form added before the end of its
/// body, and its Content-Security-Policy allowing the form's script. Anything other than an
/// HTML `200` held in memory (a JSON listing, an error, a challenge) is returned as it is.
pub fn with_form(mut listing: Response) -> Response {
    let html = listing.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type") && value.starts_with("text/html")
    });
    if listing.status != 200 || !html {
        return listing;
    }
    let Body::Bytes(bytes) = &listing.body else {
        return listing;
    };
    let page = String::from_utf8_lossy(bytes);
    let Some(end) = page.rfind("</body>") else {
        return listing;
    };
    let mut with = String::with_capacity(page.len() + FORM.len() + SCRIPT.len() + 32);
    with.push_str(&page[..end]);
    with.push_str(FORM);
    with.push_str("<script>");
    with.push_str(SCRIPT);
    with.push_str("</script>\n");
    with.push_str(&page[end..]);
    for (name, value) in &mut listing.headers {
        if name.eq_ignore_ascii_case("content-security-policy") {
            *value = FieldValue::Owned(POLICY.clone());
        }
    }
    listing.body = Body::Bytes(Cow::Owned(with.into_bytes()));
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> Response {
        Response::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .header("Content-Security-Policy", "default-src 'none'")
            .body(Body::Bytes(Cow::Borrowed(
                b"<html><body><ul></ul></body></html>",
            )))
    }

    #[test]
    fn the_form_and_its_script_go_before_the_end_of_the_body() {
        let page = with_form(listing());
        let Body::Bytes(bytes) = &page.body else {
            panic!("bytes")
        };
        let text = String::from_utf8_lossy(bytes);
        let form = text.find("<form id=\"upload\"").unwrap();
        assert!(text.find("<ul>").unwrap() < form);
        assert!(form < text.find("<script>").unwrap());
        assert!(text.ends_with("</script>\n</body></html>"));
        let policy = &page.headers[1].1;
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
        assert!(
            policy.contains(&format!("script-src 'sha256-{hash}'")),
            "{policy}"
        );
        assert!(policy.contains("connect-src 'self'"), "{policy}");
    }

    #[test]
    fn anything_but_an_html_page_is_left_as_it_is() {
        let json = Response::text(200, "{}").header("Content-Type", "application/json");
        let Body::Bytes(before) = &json.body else {
            panic!("bytes")
        };
        let before = before.clone();
        let after = with_form(json);
        let Body::Bytes(after) = &after.body else {
            panic!("bytes")
        };
        assert_eq!(before, *after);
        assert_eq!(with_form(Response::text(404, "x")).status, 404);
    }
}
