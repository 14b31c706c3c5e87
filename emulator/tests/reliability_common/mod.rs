//! What both reliability test files share.

use std::path::PathBuf;
use std::time::Duration;

/// A control-plane `Authorization` header (any signature: the emulator reads only the service).
pub const CONTROL: &str =
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00";
/// The ARN prefix of the default region and account.
pub const ARN: &str = "arn:aws:iot:us-east-1:123456789012";

/// Generous bound for what must happen (it fails the test, it measures nothing).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iot-jobs-emulator-reliability-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temporary directory");
    d
}
