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
    /// A target ARN of this region and account ([`parse_target`]); one of another names no
    /// resource here (404, as TagResource's, SPEC AMBIG-33).
    ///
    /// # Errors
    /// 400 for an ARN that is not a thing's or group's, 404 for one of another region or account.
    pub fn own_target(&self, arn: &str) -> Result<Target, ApiError> {
        let target = parse_target(arn)?;
        match &target {
            Target::Thing(n) => self.own(arn, "thing", n)?,
            Target::Group(n) => self.own(arn, "thinggroup", n)?,
        }
        Ok(target)
    }

    /// `arn` is the ARN this emulator gives resource `name` of type `kind` ([`Arns::arn`]); one
    /// of another region or account names no resource here: targets, a custom job template,
    /// a tagged resource (SPEC AMBIG-33).
    ///
    /// # Errors
    /// 404 naming the emulator's region and account.
    pub fn own(&self, arn: &str, kind: &str, name: &str) -> Result<(), ApiError> {
        let own = self.arn(kind, name);
        if own != arn {
            return Err(ApiError::not_found(format!(
                "{arn} does not exist: this emulator's resources are in region {}, account {} ({own})",
                self.region, self.account
            )));
        }
        Ok(())
    }

    /// ARNs of `region` and `account`, each checked ([`check_region`], [`check_account`]).
    ///
    /// # Errors
    /// A message naming the flag and the shape it needs.
    pub fn new(region: &str, account: &str) -> Result<Self, String> {
        check_region(region)?;
        check_account(account)?;
        Ok(Arns { region: region.to_owned(), account: account.to_owned() })
    }

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

/// An AWS region's shape: lower-case words of letters joined by `-`, the first of 2 or more
/// letters, ending in a number (`us-east-1`, `us-gov-west-1`, `ap-southeast-5`).
///
/// # Errors
/// `--region`'s message.
pub fn check_region(region: &str) -> Result<(), String> {
    let mut parts = region.split('-');
    let first = parts.next().unwrap_or_default();
    let number = parts.next_back().unwrap_or_default();
    let words: Vec<&str> = parts.collect();
    let letters = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase());
    let ok = first.len() >= 2
        && letters(first)
        && !words.is_empty()
        && words.iter().all(|w| letters(w))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--region {region:?} is not an AWS region (such as us-east-1: lower-case words joined by -, then a number)"
        ))
    }
}

/// An AWS account id: 12 digits.
///
/// # Errors
/// `--account-id`'s message.
pub fn check_account(account: &str) -> Result<(), String> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("--account-id {account:?} is not an AWS account id (12 digits, such as 123456789012)"))
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

    #[test]
    fn regions_and_accounts_have_the_aws_shapes() {
        for r in
            ["us-east-1", "us-gov-west-1", "ap-southeast-5", "eu-central-2", "cn-north-1", "eusc-de-east-1"]
        {
            assert_eq!(check_region(r), Ok(()), "{r}");
        }
        for r in [
            "",
            "us",
            "us-east",
            "us-east-",
            "-east-1",
            "US-EAST-1",
            "us-east-123",
            "u-east-1",
            "us--1",
            "us-east-1 ",
            "us_east_1",
        ] {
            let e = check_region(r).unwrap_err();
            assert!(e.starts_with(&format!("--region {r:?} is not an AWS region")), "{e}");
        }
        assert_eq!(check_account("123456789012"), Ok(()));
        for a in ["", "abc", "12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٢"] {
            assert!(check_account(a).unwrap_err().contains("12 digits"), "{a}");
        }
        assert!(Arns::new("us-east-1", "abc").is_err());
        assert_eq!(
            Arns::new("eu-west-1", "000000000000").unwrap().job("j"),
            "arn:aws:iot:eu-west-1:000000000000:job/j"
        );
    }
}
