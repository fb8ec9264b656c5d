//! `dify-opik`: the command-line face of the core.
//!
//! ```text
//! dify-opik map [--profile reference|linked] [--project NAME] [--files-url URL]
//!               [--now RFC3339] [--naive-offset +HH:MM] [--no-redact] [--type CLASS]
//!               [--id-time-at RFC3339 [--events-from T --events-to T]] [--pretty] [FILE|-]
//! ```
//! Prints `{"traces":[…],"spans":[…],"warnings":[…]}` and exits 0, or
//! `{"error":{"code","message","path"}}` and exits 2.
//!
//! ```text
//! dify-opik requests [--url U] [--api-key K] [--workspace W] [--project P]
//!                    [--max-items N] [--max-body-bytes N] [--show-secrets] [map options] [FILE|-]
//! ```
//! Prints `{"requests":[{method,url,headers,body,kind,count}],"warnings":[…]}`
//! (the API key masked unless `--show-secrets`).

use std::io::{Read, Write};
use std::process::ExitCode;

use dify_opik::config::{validate, ConfigInput};
use dify_opik::json::Json;
use dify_opik::options::{parse_id_time, parse_instant, IdTime};
use dify_opik::requests::{build, Limits};
use dify_opik::{map_each, Error, ErrorCode, Options, Profile};

const USAGE: &str =
    "usage: dify-opik map [--profile reference|linked] [--project NAME] [--files-url URL] \
[--now RFC3339] [--naive-offset +HH:MM] [--no-redact] [--type CLASS] \
[--id-time-at RFC3339 [--events-from RFC3339 --events-to RFC3339]] [--pretty] [FILE|-]
       dify-opik version";

fn usage_error(msg: &str) -> Error {
    Error::new(
        ErrorCode::InvalidOption,
        "/options",
        format!("{msg}\n{USAGE}"),
    )
}

fn print_json(v: &serde_json::Value, pretty: bool) {
    let text = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    }
    .unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

fn fail(e: &Error, pretty: bool) -> ExitCode {
    print_json(&serde_json::json!({ "error": e }), pretty);
    ExitCode::from(2)
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

struct Args {
    opts: Options,
    file: Option<String>,
    pretty: bool,
    config: ConfigInput,
    limits: Limits,
    show_secrets: bool,
}

fn parse_args(args: &[String]) -> Result<Args, Error> {
    let mut opts = Options {
        now: Some(now_micros()),
        ..Options::default()
    };
    let mut file = None;
    let mut pretty = false;
    let mut config = ConfigInput::default();
    let mut limits = Limits::default();
    let mut show_secrets = false;
    let (mut at, mut from, mut to) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| usage_error(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--profile" => {
                let v = value("--profile")?;
                opts.profile = Profile::parse(&v)
                    .ok_or_else(|| usage_error("--profile is reference or linked"))?;
            }
            "--project" => {
                let p = value("--project")?;
                opts.project = dify_opik::options::normalize_project(Some(&p));
                config.project = Some(p);
            }
            "--url" => config.url = Some(value("--url")?),
            "--api-key" => config.api_key = Some(value("--api-key")?),
            "--workspace" => config.workspace = Some(value("--workspace")?),
            "--show-secrets" => show_secrets = true,
            "--max-items" => {
                limits.max_items = value("--max-items")?
                    .parse()
                    .map_err(|_| usage_error("--max-items takes a number"))?
            }
            "--max-body-bytes" => {
                limits.max_body_bytes = value("--max-body-bytes")?
                    .parse()
                    .map_err(|_| usage_error("--max-body-bytes takes a number"))?
            }
            "--files-url" => opts.files_url = value("--files-url")?,
            "--now" => opts.now = Some(parse_instant(&Json::Str(value("--now")?.into()), "now")?),
            "--naive-offset" => {
                opts.naive_offset = dify_opik::time::parse_offset(&value("--naive-offset")?)
                    .map_err(|_| usage_error("--naive-offset takes an offset such as +08:00"))?
            }
            "--no-redact" => opts.redact = false,
            "--type" => opts.trace_info_type = Some(value("--type")?),
            "--id-time-at" => at = Some(value("--id-time-at")?),
            "--events-from" => from = Some(value("--events-from")?),
            "--events-to" => to = Some(value("--events-to")?),
            "--pretty" => pretty = true,
            "-h" | "--help" => return Err(usage_error("help")),
            "-" => file = None,
            s if s.starts_with("--") => return Err(usage_error(&format!("unknown option {s}"))),
            s => {
                if file.is_some() {
                    return Err(usage_error("only one input file"));
                }
                file = Some(s.to_owned());
            }
        }
    }
    if let Some(at) = at {
        let mut m = vec![("at".into(), Json::Str(at.into()))];
        if let Some(f) = from {
            m.push(("events_from".into(), Json::Str(f.into())));
        }
        if let Some(t) = to {
            m.push(("events_to".into(), Json::Str(t.into())));
        }
        opts.id_time = parse_id_time(&Json::Obj(m))?;
    } else if from.is_some() || to.is_some() {
        return Err(usage_error("--events-from/--events-to need --id-time-at"));
    }
    debug_assert!(matches!(
        opts.id_time,
        IdTime::Event | IdTime::At(_) | IdTime::Range { .. }
    ));
    Ok(Args {
        opts,
        file,
        pretty,
        config,
        limits,
        show_secrets,
    })
}

fn read_input(file: &Option<String>) -> Result<String, Error> {
    let mut buf = Vec::new();
    let res = match file {
        Some(f) => std::fs::File::open(f).and_then(|mut h| h.read_to_end(&mut buf)),
        None => std::io::stdin().read_to_end(&mut buf),
    };
    res.map_err(|e| {
        Error::new(
            ErrorCode::InvalidJson,
            "",
            format!("cannot read the input: {}", e.kind()),
        )
    })?;
    String::from_utf8(buf).map_err(|e| {
        Error::new(
            ErrorCode::InvalidJson,
            "",
            format!(
                "the input is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn run_map(args: &[String]) -> ExitCode {
    let a = match parse_args(args) {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    let text = match read_input(&a.file) {
        Ok(t) => t,
        Err(e) => return fail(&e, a.pretty),
    };
    match map_each(&text, &a.opts) {
        Err(e) => fail(&e, a.pretty),
        Ok(b) if !b.batch && !b.errors.is_empty() => fail(&b.errors[0], a.pretty),
        Ok(b) => {
            #[derive(serde::Serialize)]
            struct Out<'r, 'a> {
                #[serde(flatten)]
                result: &'r dify_opik::MapResult<'a>,
                #[serde(skip_serializing_if = "Option::is_none")]
                error: Option<&'r Error>,
                #[serde(skip_serializing_if = "<[_]>::is_empty")]
                errors: &'r [Error],
            }
            let out = Out {
                result: &b.result,
                error: b.errors.first(),
                errors: &b.errors,
            };
            let text = if a.pretty {
                serde_json::to_string_pretty(&out)
            } else {
                serde_json::to_string(&out)
            }
            .unwrap_or_default();
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{text}");
            if b.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }
    }
}

fn run_requests(args: &[String]) -> ExitCode {
    let a = match parse_args(args) {
        Ok(a) => a,
        Err(e) => return fail(&e, false),
    };
    let (cfg, report) = validate(&a.config);
    let Some(cfg) = cfg else {
        print_json(
            &serde_json::json!({ "error": report.problems[0], "problems": report.problems }),
            a.pretty,
        );
        return ExitCode::from(2);
    };
    let text = match read_input(&a.file) {
        Ok(t) => t,
        Err(e) => return fail(&e, a.pretty),
    };
    let b = match map_each(&text, &a.opts) {
        Err(e) => return fail(&e, a.pretty),
        Ok(b) if !b.batch && !b.errors.is_empty() => return fail(&b.errors[0], a.pretty),
        Ok(b) => b,
    };
    let mut built = build(&b.result, &cfg, &a.limits);
    if !a.show_secrets {
        built.requests = built.requests.iter().map(|r| r.masked()).collect();
    }
    let mut warnings = b.result.warnings.clone();
    warnings.extend(built.warnings);
    let mut out = serde_json::json!({ "requests": built.requests, "warnings": warnings });
    if !b.errors.is_empty() {
        out["error"] = serde_json::to_value(&b.errors[0]).unwrap_or_default();
        out["errors"] = serde_json::to_value(&b.errors).unwrap_or_default();
    }
    print_json(&out, a.pretty);
    if b.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("map") => run_map(&args[1..]),
        Some("requests") => run_requests(&args[1..]),
        Some("version") | Some("--version") => {
            println!("dify-opik {}", dify_opik::VERSION);
            ExitCode::SUCCESS
        }
        _ => {
            let _ = writeln!(std::io::stderr(), "{USAGE}");
            ExitCode::from(2)
        }
    }
}
