//! Requests to an in-process emulator and what they got back: the helpers the HTTP and template
//! tests share.

use serde_json::Value;

use crate::in_process::Emu;

/// What a request got back: status, `x-amzn-ErrorType`, `x-amzn-ErrorMessage`, JSON body (Null
/// when empty).
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub error: Option<String>,
    pub error_message: Option<String>,
    pub body: Value,
}

impl Got {
    /// The body of a 200.
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "{self:?}");
        self.body
    }
    /// An AWS error: its status, name (header and `__type`) and a message (in the body, and in
    /// the header too when it is a valid header value: visible ASCII, spaces and tabs).
    pub fn err(&self, status: u16, name: &str) {
        assert_eq!((self.status, self.error.as_deref()), (status, Some(name)), "{self:?}");
        assert_eq!(self.body["__type"], name);
        let m = self.message();
        assert!(!m.is_empty(), "{self:?}");
        let header_value = m.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
        assert_eq!(self.error_message.as_deref(), header_value.then_some(m), "{self:?}");
    }
    /// The error's message (empty when there is none).
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
}

impl Emu {
    /// One request, with `auth` as its `authorization` header and `body` as JSON.
    pub async fn raw(&self, auth: Option<&str>, method: &str, path: &str, body: Option<Vec<u8>>) -> Got {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let header = |name| {
            resp.headers().get(name).map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
        };
        let (error, error_message) = (header("x-amzn-ErrorType"), header("x-amzn-ErrorMessage"));
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
        Got { status, error, error_message, body }
    }
}
