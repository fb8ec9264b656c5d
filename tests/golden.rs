//! The golden parity suite: every fixture in ../shared/reference/fixtures
//! through the `reference` profile, compared by linked-profile.md §2.1.

mod common;

use common::{compare, fixtures, reference_options, J};

#[test]
fn every_golden_fixture_matches_the_reference() {
    let opts = reference_options();
    let fx = fixtures();
    assert!(
        fx.len() >= 19,
        "expected the shared fixtures, found {}",
        fx.len()
    );
    let mut failures = Vec::new();
    for (name, input, expected) in &fx {
        let want_error = !matches!(expected.get("reference_error"), Some(J::Null));
        match dify_opik::map(input, &opts) {
            Err(e) => {
                if !want_error {
                    failures.push(format!("{name}: unexpected error {e}"));
                }
            }
            Ok(r) => {
                if want_error {
                    failures.push(format!(
                        "{name}: expected an error, got {} traces {} spans",
                        r.traces.len(),
                        r.spans.len()
                    ));
                    continue;
                }
                let actual = J::parse(&r.to_json());
                for key in ["traces", "spans"] {
                    let (a, g) = (
                        actual.get(key).unwrap().arr(),
                        expected.get(key).unwrap().arr(),
                    );
                    if a.len() != g.len() {
                        failures.push(format!(
                            "{name}/{key}: {} objects, golden has {}",
                            a.len(),
                            g.len()
                        ));
                        continue;
                    }
                    for (i, (x, y)) in a.iter().zip(g).enumerate() {
                        if let Err(d) = compare(x, y, &format!("{name}/{key}/{i}"), true) {
                            failures.push(d);
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        fx.len(),
        failures.join("\n")
    );
    println!("golden parity: {} of {} fixtures match", fx.len(), fx.len());
}
