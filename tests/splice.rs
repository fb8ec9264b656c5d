//! The spliced output (written text plus input stretches) rebuilds exactly
//! the text `map_json` returns, in bytes and in the UTF-16 units a JS host
//! slices by, on every fixture and example in both profiles.

mod common;

use dify_opik::splice::{rebuild_utf16, Spliced};
use dify_opik::{Options, Profile};

/// Rebuilds the output from the UTF-16 pieces, as the npm wrapper does with
/// `String.prototype.slice`, and compares it with `expected`.
fn check_utf16(s: &Spliced, input: &str, expected: &str, what: &str) {
    let u = s.utf16_pieces(input).expect("offsets fit 32 bits");
    assert_eq!(u.len(), s.pieces.len() * 3, "{what}");
    assert!(
        rebuild_utf16(&s.text, input, &u) == Some(expected.encode_utf16().collect()),
        "{what}: UTF-16 splice differs"
    );
}

fn inputs() -> Vec<(String, String)> {
    let mut v = common::all_inputs();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/traces");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    names.sort();
    for p in names {
        v.push((
            p.display().to_string(),
            std::fs::read_to_string(&p).unwrap(),
        ));
    }
    v
}

#[test]
fn spliced_output_joins_to_map_json_on_every_input() {
    let mut pieces = 0;
    for (name, input) in inputs() {
        for profile in [Profile::Linked, Profile::Reference] {
            let o = Options {
                profile,
                ..common::linked_options()
            };
            let what = format!("{name} {profile:?}");
            let (Ok(plain), Ok(s)) = (
                dify_opik::map_json(&input, &o),
                dify_opik::map_json_spliced(&input, &o),
            ) else {
                // Reference refuses some linked fixtures; both must agree.
                assert_eq!(
                    dify_opik::map_json(&input, &o).is_ok(),
                    dify_opik::map_json_spliced(&input, &o).is_ok(),
                    "{what}"
                );
                continue;
            };
            assert_eq!(s.join(&input), plain, "{what}");
            check_utf16(&s, &input, &plain, &what);
            pieces += s.pieces.len();
            let each = dify_opik::map_each_json_spliced(&input, &o).unwrap();
            let each_plain = dify_opik::map_each_json(&input, &o).unwrap();
            assert_eq!(each.join(&input), each_plain, "{what} (each)");
            check_utf16(&each, &input, &each_plain, &what);
        }
    }
    // The examples pass long prompts and outputs through: some become pieces.
    assert!(pieces > 20, "only {pieces} pieces over all inputs");
}

#[test]
fn passed_through_text_in_any_script_is_spliced_with_the_right_offsets() {
    // A workflow whose node values are long, mixed-script and escaped.
    let text = "Ωμέγα — 漢字かな 😀🎉 naïve café \\n \\\"quoted\\\" ".repeat(20);
    let input = common::linked_fixture("workflow_nested_containers")
        .replace(
            "\"inputs\": {",
            &format!("\"inputs\": {{\"long\": \"{text}\", "),
        )
        .replace("\", }", "\"}");
    let o = common::linked_options();
    let plain = dify_opik::map_json(&input, &o).unwrap();
    let s = dify_opik::map_json_spliced(&input, &o).unwrap();
    assert!(!s.pieces.is_empty());
    assert!(s.text.len() < plain.len());
    assert_eq!(s.join(&input), plain);
    check_utf16(&s, &input, &plain, "mixed");
}
