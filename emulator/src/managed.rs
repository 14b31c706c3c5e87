//! The AWS managed job templates (ListManagedJobTemplates, DescribeManagedJobTemplate, CreateJob
//! with a managed template's ARN): the catalogue of the developer guide's *Use AWS managed
//! templates to deploy common remote operations* (job-templates-managed.html) and *Create a job
//! from AWS managed templates by using the AWS CLI* (job-template-manage-cli-create.html), with
//! each template's job document, environment and `documentParameters` (SPEC AMBIG-31 says which
//! members the guide gives verbatim and which are read from its prose).
//!
//! [`resolve`] validates CreateJob's `documentParameters` against a template (unknown keys,
//! required keys, each value's pattern as a full match, SPEC R17) and substitutes them with the
//! core's [`iot_jobs_core::parameters::substitute`].

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};

use iot_jobs_core::parameters::{self, SubstitutionError};

use crate::wire::{ApiError, StringMap};

/// One of a managed template's `documentParameters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter {
    pub key: &'static str,
    pub description: &'static str,
    /// The service's pattern, applied as a full match.
    pub regex: &'static str,
    pub example: &'static str,
    pub optional: bool,
}

/// An AWS managed job template, one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedTemplate {
    pub name: &'static str,
    pub version: &'static str,
    pub description: &'static str,
    pub environments: &'static [&'static str],
    pub parameters: &'static [Parameter],
    pub document: &'static str,
}

const RUN_AS_USER: Parameter = Parameter {
    key: "runAsUser",
    description: "Execute handler as another user. If not specified, then handler is executed as the same user as device client.",
    regex: "(.){0,256}",
    example: "user1",
    optional: true,
};

const PATH_TO_HANDLER: Parameter = Parameter {
    key: "pathToHandler",
    description: "Path to handler on the device. If not specified, then device client will use the current working directory.",
    regex: "(.){0,4096}",
    example: "/path/to/handler/script",
    optional: true,
};

const fn required(key: &'static str, description: &'static str, example: &'static str) -> Parameter {
    Parameter { key, description, regex: "(.*?)", example, optional: false }
}

const LINUX: &[&str] = &["LINUX"];

/// A `runHandler` document: one step running `handler` with `args` (placeholders of required
/// parameters), the handler's path and the user from the optional parameters.
macro_rules! run_handler {
    ($name:literal, $handler:literal $(, $arg:literal)*) => {
        concat!(
            r#"{"version":"1.0","steps":[{"action":{"name":""#, $name,
            r#"","type":"runHandler","input":{"handler":""#, $handler, r#"","#,
            $( r#""args":["${aws:iot:parameter:"#, $arg, r#"}"],"#, )*
            r#""path":"${aws:iot:parameter:pathToHandler}"},"runAsUser":"${aws:iot:parameter:runAsUser}"}}]}"#
        )
    };
}

/// Every managed template, sorted by name (the listing's order).
pub const CATALOGUE: [ManagedTemplate; 8] = [
    ManagedTemplate {
        name: "AWS-Download-File",
        version: "1.0",
        description: "A managed job template for downloading a file.",
        environments: LINUX,
        parameters: &[
            required("downloadUrl", "URL of file to download.", "http://www.example.com/index.html"),
            required("filePath", "Path on the device where downloaded file is written.", "/path/to/file"),
            RUN_AS_USER,
            PATH_TO_HANDLER,
        ],
        document: concat!(
            r#"{"version":"1.0","steps":[{"action":{"name":"Download-File","type":"runHandler","input":{"handler":"download-file.sh","#,
            r#""args":["${aws:iot:parameter:downloadUrl}","${aws:iot:parameter:filePath}"],"#,
            r#""path":"${aws:iot:parameter:pathToHandler}"},"runAsUser":"${aws:iot:parameter:runAsUser}"}}]}"#
        ),
    },
    ManagedTemplate {
        name: "AWS-Install-Application",
        version: "1.0",
        description: "A managed job template for installing one or more applications.",
        environments: LINUX,
        parameters: &[
            required(
                "packages",
                "Space separated list of one or more applications to be installed.",
                "lighttpd",
            ),
            RUN_AS_USER,
            PATH_TO_HANDLER,
        ],
        document: run_handler!("Install-Application", "install-packages.sh", "packages"),
    },
    ManagedTemplate {
        name: "AWS-Reboot",
        version: "1.0",
        description: "A managed job template for rebooting the device.",
        environments: LINUX,
        parameters: &[RUN_AS_USER, PATH_TO_HANDLER],
        document: run_handler!("Reboot", "reboot.sh"),
    },
    ManagedTemplate {
        name: "AWS-Remove-Application",
        version: "1.0",
        description: "A managed job template for uninstalling one or more applications.",
        environments: LINUX,
        parameters: &[
            required(
                "packages",
                "Space separated list of one or more applications to be uninstalled.",
                "lighttpd",
            ),
            RUN_AS_USER,
            PATH_TO_HANDLER,
        ],
        document: run_handler!("Remove-Application", "remove-packages.sh", "packages"),
    },
    ManagedTemplate {
        name: "AWS-Restart-Application",
        version: "1.0",
        description: "A managed job template for restarting one or more system services.",
        environments: LINUX,
        parameters: &[
            required("services", "Space separated list of one or more services to be restarted.", "lighttpd"),
            RUN_AS_USER,
            PATH_TO_HANDLER,
        ],
        document: run_handler!("Restart-Application", "restart-services.sh", "services"),
    },
    ManagedTemplate {
        name: "AWS-Run-Command",
        version: "1.0",
        description: "A managed job template for running a shell command.",
        environments: LINUX,
        parameters: &[
            required(
                "command",
                "A comma separated string of command. Any comma contained in the command itself must be escaped.",
                "ls,-l",
            ),
            RUN_AS_USER,
        ],
        document: concat!(
            r#"{"version":"1.0","steps":[{"action":{"name":"Run-Command","type":"runCommand","#,
            r#""input":{"command":"${aws:iot:parameter:command}"},"runAsUser":"${aws:iot:parameter:runAsUser}"}}]}"#
        ),
    },
    ManagedTemplate {
        name: "AWS-Start-Application",
        version: "1.0",
        description: "A managed job template for starting one or more system services.",
        environments: LINUX,
        parameters: &[
            required("services", "Space separated list of one or more services to be started.", "lighttpd"),
            RUN_AS_USER,
            PATH_TO_HANDLER,
        ],
        document: run_handler!("Start-Application", "start-services.sh", "services"),
    },
    ManagedTemplate {
        name: "AWS-Stop-Application",
        version: "1.0",
        description: "A managed job template for stopping one or more system services.",
        environments: LINUX,
        parameters: &[
            required("services", "Space separated list of one or more services to be stopped.", "lighttpd"),
            RUN_AS_USER,
            PATH_TO_HANDLER,
        ],
        document: run_handler!("Stop-Application", "stop-services.sh", "services"),
    },
];

/// The managed template of this name and version (`None`: the newest version).
pub fn find(name: &str, version: Option<&str>) -> Option<&'static ManagedTemplate> {
    CATALOGUE.iter().find(|t| t.name == name && version.is_none_or(|v| v == t.version))
}

/// The most characters a job document may have after substitution (SPEC §5 `JobDocument`).
const MAX_DOCUMENT: usize = 32_768;

/// Validates `documentParameters` against `template` and returns its document with them
/// substituted (an optional parameter not given stands for the empty string, SPEC AMBIG-31).
///
/// # Errors
/// 400 for a key the template does not have, a required key missing, a value that does not match
/// its pattern, or a result longer than a job document may be.
pub fn resolve(template: &ManagedTemplate, given: Option<&StringMap>) -> Result<String, ApiError> {
    let empty = StringMap::new();
    let given = given.unwrap_or(&empty);
    if let Some(k) = given.keys().find(|k| !template.parameters.iter().any(|p| p.key == k.as_str())) {
        let known: Vec<&str> = template.parameters.iter().map(|p| p.key).collect();
        return Err(ApiError::invalid(format!(
            "documentParameters: {k:?} is not a parameter of {} (its parameters: {})",
            template.name,
            known.join(", ")
        )));
    }
    for p in template.parameters {
        match given.get(p.key) {
            None if !p.optional => {
                return Err(ApiError::invalid(format!(
                    "documentParameters: {} needs the parameter {} (for example {:?})",
                    template.name, p.key, p.example
                )));
            }
            None => {}
            Some(v) => {
                let re = pattern(p.regex).map_err(|e| {
                    ApiError::unavailable(format!("the pattern of {} does not compile: {e}", p.key))
                })?;
                if !re.is_match(v) {
                    return Err(ApiError::invalid(format!(
                        "documentParameters: the value of {} does not match {}",
                        p.key, p.regex
                    )));
                }
            }
        }
    }
    // UTF-8 needs at most 4 bytes a character.
    let mut out = vec![0u8; MAX_DOCUMENT.saturating_mul(4)];
    let value = |k: &str| Some(given.get(k).map_or("", String::as_str));
    let n = parameters::substitute(template.document, value, &mut out).map_err(|e| match e {
        SubstitutionError::Overflow => too_long(),
        e => ApiError::unavailable(format!("the document of {} cannot be substituted: {e}", template.name)),
    })?;
    out.truncate(n);
    let document = String::from_utf8(out).map_err(|_| too_long())?;
    if document.chars().map(char::len_utf16).sum::<usize>() > MAX_DOCUMENT {
        return Err(too_long());
    }
    Ok(document)
}

/// The full-match form of a catalogue pattern, compiled once.
fn pattern(regex: &'static str) -> Result<regex::Regex, regex::Error> {
    static COMPILED: LazyLock<Mutex<BTreeMap<&'static str, regex::Regex>>> = LazyLock::new(Mutex::default);
    let mut compiled = COMPILED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(re) = compiled.get(regex) {
        return Ok(re.clone());
    }
    let re = regex::Regex::new(&format!("^(?:{regex})$"))?;
    compiled.insert(regex, re.clone());
    Ok(re)
}

fn too_long() -> ApiError {
    ApiError::invalid(format!(
        "the job document after substitution of documentParameters is longer than {MAX_DOCUMENT} characters"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_document_is_json_and_uses_exactly_its_parameters() {
        for t in CATALOGUE {
            serde_json::from_str::<serde_json::Value>(t.document).unwrap();
            let mut used: Vec<&str> = parameters::placeholders(t.document).map(Result::unwrap).collect();
            used.sort_unstable();
            used.dedup();
            let mut declared: Vec<&str> = t.parameters.iter().map(|p| p.key).collect();
            declared.sort_unstable();
            assert_eq!(used, declared, "{}", t.name);
            for p in t.parameters {
                regex::Regex::new(p.regex).unwrap();
                assert!(pattern(p.regex).unwrap().is_match(p.example), "{} {}", t.name, p.key);
            }
        }
        let names: Vec<&str> = CATALOGUE.iter().map(|t| t.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }

    #[test]
    fn resolve_substitutes_and_validates() {
        let t = find("AWS-Download-File", None).unwrap();
        let p = |pairs: &[(&str, &str)]| -> StringMap {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        let doc =
            resolve(t, Some(&p(&[("downloadUrl", "https://e.com/f"), ("filePath", "/tmp/f")]))).unwrap();
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let action = &v["steps"][0]["action"];
        assert_eq!(action["input"]["args"], serde_json::json!(["https://e.com/f", "/tmp/f"]));
        assert_eq!(action["input"]["path"], "");
        assert_eq!(action["runAsUser"], "");
        assert!(resolve(t, Some(&p(&[("downloadUrl", "u")]))).unwrap_err().message.contains("filePath"));
        let unknown = resolve(t, Some(&p(&[("downloadUrl", "u"), ("filePath", "f"), ("x", "1")])));
        assert!(unknown.unwrap_err().message.contains("\"x\""));
        let long_user = "u".repeat(257);
        let bad = resolve(t, Some(&p(&[("downloadUrl", "u"), ("filePath", "f"), ("runAsUser", &long_user)])));
        assert_eq!(bad.unwrap_err().status, 400);
        let reboot = find("AWS-Reboot", Some("1.0")).unwrap();
        assert_eq!(resolve(reboot, None).unwrap().matches("${").count(), 0);
        assert!(find("AWS-Reboot", Some("9.9")).is_none());
    }
}
