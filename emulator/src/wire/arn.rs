//! ARNs: parsing the thing and thing-group ARNs of `targets` and membership requests and the
//! job-template ARNs of CreateJob, and rendering the ARNs of jobs, job templates, things and
//! groups for one region and account.

use super::ApiError;

/// What an ARN in `targets` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `arn:aws:iot:REGION:ACCOUNT:thing/NAME`
    Thing(String),
    /// `arn:aws:iot:REGION:ACCOUNT:thinggroup/NAME`
    Group(String),
}

/// Parses a thing or thing-group ARN (any region and account).
pub fn parse_target(arn: &str) -> Result<Target, ApiError> {
    let bad = || {
        ApiError::invalid(format!(
            "target {arn:?} is not a thing or thing group ARN (arn:aws:iot:REGION:ACCOUNT:thing/NAME or ...:thinggroup/NAME)"
        ))
    };
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("iot"), Some(_), Some(_), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    match resource.split_once('/') {
        Some(("thing", name)) if !name.is_empty() => Ok(Target::Thing(name.to_owned())),
        Some(("thinggroup", name)) if !name.is_empty() => Ok(Target::Group(name.to_owned())),
        _ => Err(bad()),
    }
}

/// What a `jobTemplateArn` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateArn {
    /// `arn:aws:iot:REGION:ACCOUNT:jobtemplate/ID`: a template of this account.
    Custom(String),
    /// `arn:aws:iot:REGION::jobtemplate/NAME:VERSION`: an AWS managed template (no account).
    Managed { name: String, version: String },
}

/// Parses a job template ARN (any partition and region); `None` if it is not one.
pub fn parse_template_arn(arn: &str) -> Option<TemplateArn> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("iot"), Some(_), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let id = resource.strip_prefix("jobtemplate/").filter(|i| !i.is_empty())?;
    if account.is_empty() {
        let (name, version) = id.split_once(':')?;
        return Some(TemplateArn::Managed { name: name.to_owned(), version: version.to_owned() });
    }
    Some(TemplateArn::Custom(id.to_owned()))
}

/// Builds ARNs for one region and account.
#[derive(Debug, Clone)]
pub struct Arns {
    /// `--region`.
    pub region: String,
    /// `--account-id`.
    pub account: String,
}

impl Arns {
    /// The ARN of resource `name` of type `kind` (`job`, `thing`, `thinggroup`, ...).
    pub fn arn(&self, kind: &str, name: &str) -> String {
        format!("arn:aws:iot:{}:{}:{kind}/{name}", self.region, self.account)
    }
    /// A job's ARN.
    pub fn job(&self, id: &str) -> String {
        self.arn("job", id)
    }
    /// A thing's ARN.
    pub fn thing(&self, name: &str) -> String {
        self.arn("thing", name)
    }
    /// A thing's ARN less its name, as the inside of a JSON string (escaped once, for lists of
    /// summaries that add the validated name after it).
    pub fn thing_prefix_json(&self) -> String {
        let quoted = serde_json::Value::from(self.arn("thing", "")).to_string();
        quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_owned()
    }
    /// A job template's ARN.
    pub fn job_template(&self, id: &str) -> String {
        self.arn("jobtemplate", id)
    }
    /// An AWS managed template's ARN: no account (the service's form).
    pub fn managed_template(&self, name: &str, version: &str) -> String {
        format!("arn:aws:iot:{}::jobtemplate/{name}:{version}", self.region)
    }
    /// A thing group's ARN.
    pub fn group(&self, name: &str) -> String {
        self.arn("thinggroup", name)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(parse_target("arn:aws:iot:us-east-1:1:thing/t1").unwrap(), Target::Thing("t1".into()));
        assert_eq!(parse_target("arn:aws:iot:r:1:thinggroup/g").unwrap(), Target::Group("g".into()));
        assert!(parse_target("arn:aws:iot:r:1:job/j").is_err());
        assert!(parse_target("arn:aws:iot:r:1:thing/").is_err());
        assert!(parse_target("t1").is_err());
        let arns = Arns { region: "r".into(), account: "1".into() };
        assert_eq!(parse_target(&arns.thing("t1")).unwrap(), Target::Thing("t1".into()));
        assert_eq!(parse_target(&arns.group("g")).unwrap(), Target::Group("g".into()));
        assert_eq!(arns.job("j"), "arn:aws:iot:r:1:job/j");
        assert_eq!(parse_template_arn(&arns.job_template("t")), Some(TemplateArn::Custom("t".into())));
        assert_eq!(
            parse_template_arn(&arns.managed_template("AWS-Reboot", "1.0")),
            Some(TemplateArn::Managed { name: "AWS-Reboot".into(), version: "1.0".into() })
        );
        for bad in
            ["arn:aws:iot:r:1:job/j", "arn:aws:iot:r:1:jobtemplate/", "arn:aws:iot:r::jobtemplate/x", "t"]
        {
            assert_eq!(parse_template_arn(bad), None, "{bad}");
        }
    }
}
