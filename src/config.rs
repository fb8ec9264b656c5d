//! The Opik configuration: validation with Dify's rules (reference §6.2,
//! opik-api.md §5), every problem reported at once, the API key kept out of
//! every error, warning and `Debug` output.

use std::fmt;

use serde::Serialize;

use crate::fields::Fields;

use crate::error::{Error, ErrorCode};
use crate::options::normalize_project;

/// Opik Cloud's API base (Dify's default).
pub const CLOUD_URL: &str = "https://www.comet.com/opik/api/";
/// The workspace the SDKs send when none is configured.
pub const DEFAULT_WORKSPACE: &str = "default";

/// An API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The key itself, for the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Masks a secret for display: never more than its last four characters.
pub fn mask(secret: &str) -> String {
    let n = secret.chars().count();
    if n <= 8 {
        "****".to_owned()
    } else {
        let tail: String = secret.chars().skip(n - 4).collect();
        format!("****{tail}")
    }
}

/// The configuration as a host gives it (all fields optional).
#[derive(Default, Clone)]
pub struct ConfigInput {
    /// Opik API base URL; blank → Opik Cloud.
    pub url: Option<String>,
    /// API key (Cloud and enterprise).
    pub api_key: Option<String>,
    /// Workspace (required on Cloud).
    pub workspace: Option<String>,
    /// Project; blank → "Default Project".
    pub project: Option<String>,
}

impl fmt::Debug for ConfigInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigInput")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("workspace", &self.workspace)
            .field("project", &self.project)
            .finish()
    }
}

/// Where the configuration points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Opik Cloud (comet.com): API key and workspace required.
    Cloud,
    /// A self-hosted Opik server.
    SelfHosted,
}

/// A valid configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// API base URL, ending with `/`.
    pub url: String,
    /// API key, when configured.
    pub api_key: Option<ApiKey>,
    /// Workspace sent in `Comet-Workspace`.
    pub workspace: String,
    /// Project.
    pub project: String,
    /// Cloud or self-hosted.
    pub target: Target,
}

/// The outcome of validating a configuration.
#[derive(Debug, Serialize)]
pub struct Report {
    /// No problems.
    pub ok: bool,
    /// Cloud or self-hosted (from the URL, even when there are problems).
    pub target: Target,
    /// The normalised URL.
    pub url: String,
    /// The workspace that will be sent.
    pub workspace: String,
    /// The normalised project.
    pub project: String,
    /// Whether an API key is set (the key itself is never reported).
    pub has_api_key: bool,
    /// Every problem, each with code `invalid_config` and the field's path.
    pub problems: Vec<Error>,
}

fn problem(field: &str, msg: &str) -> Error {
    Error::new(ErrorCode::InvalidConfig, format!("/{field}"), msg)
}

/// Splits `scheme://host[:port]/path`; `None` when the URL has no host.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().map(|h| &h[1..]).unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    (!host.is_empty()).then_some(host)
}

/// Whether a host is Opik Cloud.
pub fn is_cloud_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    h == "comet.com" || h.ends_with(".comet.com")
}

fn header_safe(s: &str) -> bool {
    s.chars()
        .all(|c| c == '\t' || (!c.is_control() && c != '\u{7f}'))
}

/// Validates a configuration: every problem at once.
pub fn validate(input: &ConfigInput) -> (Option<Config>, Report) {
    let mut problems = Vec::new();
    let url = match input.url.as_deref().map(str::trim) {
        None | Some("") => CLOUD_URL.to_owned(),
        Some(u) => {
            let mut u = u.to_owned();
            if !u.ends_with('/') {
                u.push('/');
            }
            u
        }
    };
    let lower = url.to_ascii_lowercase();
    let host = host_of(&url);
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        problems.push(problem(
            "url",
            "the URL must start with http:// or https://",
        ));
    } else if host.is_none() {
        problems.push(problem("url", "the URL has no host"));
    } else if url.contains(['?', '#']) || url.chars().any(char::is_whitespace) {
        problems.push(problem(
            "url",
            "the URL must be a plain API base without spaces, query or fragment",
        ));
    } else if !url.ends_with("/api/") {
        problems.push(problem(
            "url",
            "the URL must end with /api/ (Opik's API base, e.g. https://www.comet.com/opik/api/ or http://localhost:5173/api/)",
        ));
    }
    let target = if host.is_some_and(is_cloud_host) {
        Target::Cloud
    } else {
        Target::SelfHosted
    };
    let api_key = input
        .api_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| ApiKey(k.to_owned()));
    if let Some(k) = &api_key {
        if !header_safe(k.expose()) {
            problems.push(problem(
                "api_key",
                "the API key contains characters an HTTP header cannot carry",
            ));
        }
    }
    let workspace = input
        .workspace
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned);
    if let Some(w) = &workspace {
        if !header_safe(w) {
            problems.push(problem(
                "workspace",
                "the workspace contains characters an HTTP header cannot carry",
            ));
        }
    }
    if target == Target::Cloud {
        if api_key.is_none() {
            problems.push(problem("api_key", "Opik Cloud needs an API key"));
        }
        match workspace.as_deref() {
            None => problems.push(problem("workspace", "Opik Cloud needs a workspace name")),
            Some(DEFAULT_WORKSPACE) => problems.push(problem(
                "workspace",
                "Opik Cloud rejects the workspace \"default\": give your workspace name",
            )),
            Some(_) => {}
        }
    }
    let project = normalize_project(input.project.as_deref());
    let workspace = workspace.unwrap_or_else(|| DEFAULT_WORKSPACE.to_owned());
    let report = Report {
        ok: problems.is_empty(),
        target,
        url: url.clone(),
        workspace: workspace.clone(),
        project: project.clone(),
        has_api_key: api_key.is_some(),
        problems,
    };
    let cfg = report.ok.then_some(Config {
        url,
        api_key,
        workspace,
        project,
        target,
    });
    (cfg, report)
}

/// Parses configuration JSON; a parse failure is one problem at `/`.
pub fn parse_input(text: &str) -> Result<ConfigInput, Error> {
    let f = Fields::read(
        text,
        &["url", "api_key", "workspace", "project"],
        ErrorCode::InvalidConfig,
        "",
    )?;
    Ok(ConfigInput {
        url: f.string("url")?,
        api_key: f.string("api_key")?,
        workspace: f.string("workspace")?,
        project: f.string("project")?,
    })
}

/// Validates configuration JSON and returns the [`Report`] as JSON.
pub fn validate_json(text: &str) -> String {
    let report = match parse_input(text) {
        Ok(input) => validate(&input).1,
        Err(e) => {
            let (_, mut r) = validate(&ConfigInput::default());
            r.ok = false;
            r.problems = vec![e];
            r
        }
    };
    crate::write::to_string(&report)
}

/// Parses and validates configuration JSON into a [`Config`], or the first
/// problem as an error (all problems are listed in its message).
pub fn config_from_json(text: &str) -> Result<Config, Error> {
    let input = parse_input(text)?;
    let (cfg, report) = validate(&input);
    cfg.ok_or_else(|| {
        let first = report.problems[0].clone();
        if report.problems.len() == 1 {
            first
        } else {
            let all: Vec<String> = report
                .problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect();
            Error {
                message: format!("{} problems: {}", report.problems.len(), all.join("; ")),
                ..first
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        url: Option<&str>,
        key: Option<&str>,
        ws: Option<&str>,
        project: Option<&str>,
    ) -> ConfigInput {
        ConfigInput {
            url: url.map(Into::into),
            api_key: key.map(Into::into),
            workspace: ws.map(Into::into),
            project: project.map(Into::into),
        }
    }

    #[test]
    fn default_is_cloud_and_needs_key_and_workspace() {
        let (cfg, r) = validate(&ConfigInput::default());
        assert!(cfg.is_none());
        assert_eq!(r.target, Target::Cloud);
        assert_eq!(r.url, CLOUD_URL);
        let paths: Vec<&str> = r.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["/api_key", "/workspace"]);
        assert!(r
            .problems
            .iter()
            .all(|p| p.code == ErrorCode::InvalidConfig));
        let (cfg, r) = validate(&input(None, Some("k-123456789"), Some("acme"), Some("  ")));
        assert!(r.ok);
        let cfg = cfg.unwrap();
        assert_eq!(
            (cfg.project.as_str(), cfg.workspace.as_str()),
            ("Default Project", "acme")
        );
        let (_, r) = validate(&input(None, Some("k"), Some("default"), None));
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].path, "/workspace");
    }

    #[test]
    fn self_hosted_bases_are_normalised() {
        for (given, want) in [
            ("http://localhost:5173/api", "http://localhost:5173/api/"),
            ("http://localhost:5173/api/", "http://localhost:5173/api/"),
            (
                "  https://opik.internal.example/api  ",
                "https://opik.internal.example/api/",
            ),
            (
                "https://comet.example.org/opik/api",
                "https://comet.example.org/opik/api/",
            ),
        ] {
            let (cfg, r) = validate(&input(Some(given), None, None, None));
            assert!(r.ok, "{given}: {:?}", r.problems);
            assert_eq!(r.target, Target::SelfHosted);
            let cfg = cfg.unwrap();
            assert_eq!(cfg.url, want);
            assert_eq!(cfg.workspace, DEFAULT_WORKSPACE);
        }
        let (_, r) = validate(&input(
            Some("https://www.comet.com/opik/api"),
            None,
            None,
            None,
        ));
        assert_eq!(r.target, Target::Cloud);
        assert_eq!(r.url, CLOUD_URL);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let (cfg, r) = validate(&input(
            Some("ftp://x/api/"),
            Some("a\nb"),
            Some("w\u{0}"),
            None,
        ));
        assert!(cfg.is_none());
        let paths: Vec<&str> = r.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["/url", "/api_key", "/workspace"]);
        for bad in [
            "localhost:5173/api/",
            "http:///api/",
            "http://h/api/?x=1",
            "http://h/opik/",
        ] {
            let (_, r) = validate(&input(Some(bad), None, None, None));
            assert_eq!(r.problems.len(), 1, "{bad}");
            assert_eq!(r.problems[0].path, "/url");
        }
    }

    #[test]
    fn the_key_never_shows() {
        let secret = "sk-super-secret-value-1234";
        let i = input(Some("nope"), Some(secret), None, None);
        let (_, r) = validate(&i);
        let all = format!("{:?} {:?} {}", i, r, serde_json::to_string(&r).unwrap());
        assert!(!all.contains(secret), "{all}");
        let (cfg, _) = validate(&input(Some("http://h/api"), Some(secret), None, None));
        assert!(!format!("{cfg:?}").contains(secret));
        assert_eq!(mask(secret), "****1234");
        assert_eq!(mask("short"), "****");
    }

    #[test]
    fn json_forms() {
        let r: serde_json::Value =
            serde_json::from_str(&validate_json(r#"{"url":"http://h/api"}"#)).unwrap();
        assert_eq!(r["ok"], true);
        assert_eq!(r["target"], "self_hosted");
        let r: serde_json::Value = serde_json::from_str(&validate_json(r#"{"uri":"x"}"#)).unwrap();
        assert_eq!(r["ok"], false);
        assert_eq!(r["problems"][0]["path"], "/uri");
        let e = config_from_json("{}").unwrap_err();
        assert!(e.message.starts_with("2 problems"), "{}", e.message);
    }
}
