//! HTTP on the way out: the response a handler builds, how it is serialised into a
//! connection's output, the Date clock and the access log. Nothing here touches a socket.

pub mod access_log;
pub mod buffers;
pub mod clock;
pub mod error_page;
pub mod head;
pub mod html;
pub mod json;
pub mod negotiate;
pub mod output;
pub mod response;
pub mod writer;
