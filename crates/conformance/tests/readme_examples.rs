//! Every ```scenario example of `conformance/README.md` (the format's specification) parses,
//! so the document cannot drift from the parser; the examples cover every line kind; and they
//! pass on the reference server, so what the document shows is true.

use std::path::{Path, PathBuf};

use respect_conformance::scenario::{Delivery, Matcher, Scenario, Step};
use respect_conformance::{run_scenarios, start_embedded, Flavor, Outcome, RunOptions};

fn readme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/README.md")
}

/// The examples, parsed; a file name per example, so that each has its own id and keys.
fn parsed() -> Vec<(usize, Scenario)> {
    let text = std::fs::read_to_string(readme()).expect("conformance/README.md");
    examples(&text)
        .into_iter()
        .map(|(line, example)| {
            let path = Path::new("README").join(format!("y_example_at_line_{line}.scenario"));
            let scenario = Scenario::parse(&path, &example)
                .unwrap_or_else(|e| panic!("README.md example at line {line}: {e}\n{example}"));
            (line, scenario)
        })
        .collect()
}

/// The fenced blocks tagged `scenario`, with the line each starts on.
fn examples(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        match current.as_mut() {
            None if line.trim() == "```scenario" => current = Some((index + 1, String::new())),
            None => {}
            Some(_) if line.trim() == "```" => out.extend(current.take()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(current.is_none(), "an unclosed ```scenario block");
    out
}

#[test]
fn every_example_of_the_specification_parses() {
    let examples = parsed();
    assert!(examples.len() >= 15, "only {} examples", examples.len());
    let mut steps = Vec::new();
    for (line, scenario) in examples {
        assert!(
            !scenario.steps.is_empty(),
            "README.md example at line {line} has no steps"
        );
        assert!(
            !scenario.title.is_empty(),
            "README.md example at line {line} has no title"
        );
        steps.extend(scenario.steps);
    }
    // One example per feature: every kind of step and matcher appears somewhere.
    let has = |f: &dyn Fn(&Step) -> bool| steps.iter().any(f);
    let matcher = |f: fn(&Matcher) -> bool| move |s: &Step| matches!(s, Step::Expect(e) if e.alternatives.iter().any(f));
    let features: [(&str, bool); 17] = [
        (
            "`>`",
            has(&|s| {
                matches!(
                    s,
                    Step::Send {
                        command: Some(_),
                        ..
                    }
                )
            }),
        ),
        (
            "`>>`",
            has(&|s| matches!(s, Step::Send { command: None, .. })),
        ),
        ("`<`", has(&matcher(|m| matches!(m, Matcher::Exact { .. })))),
        (
            "`<~`",
            has(&matcher(|m| matches!(m, Matcher::Unordered { .. }))),
        ),
        (
            "`<|`",
            has(&|s| matches!(s, Step::Expect(e) if e.alternatives.len() > 1)),
        ),
        (
            "`? error`",
            has(&matcher(|m| matches!(m, Matcher::Error(_)))),
        ),
        (
            "`? simple`",
            has(&matcher(|m| matches!(m, Matcher::Simple(_)))),
        ),
        ("`? type`", has(&matcher(|m| matches!(m, Matcher::Type(_))))),
        ("`? any`", has(&matcher(|m| matches!(m, Matcher::Any)))),
        (
            "bytewise",
            has(&|s| matches!(s, Step::Deliver(Delivery::Bytewise))),
        ),
        (
            "chunks",
            has(&|s| matches!(s, Step::Deliver(Delivery::Chunks(_)))),
        ),
        (
            "pipelined",
            has(&|s| matches!(s, Step::Deliver(Delivery::Pipelined))),
        ),
        ("`! decode`", has(&|s| matches!(s, Step::Decode(_)))),
        ("`! open`", has(&|s| matches!(s, Step::Open(_)))),
        (
            "`! expect-close`",
            has(&|s| matches!(s, Step::ExpectClose { .. })),
        ),
        ("`! silence`", has(&|s| matches!(s, Step::Silence { .. }))),
        (
            "`! repeat`",
            has(&|s| matches!(s, Step::Expect(e) if e.repeated)),
        ),
    ];
    for (feature, shown) in features {
        assert!(shown, "no example in conformance/README.md shows {feature}");
    }
}

#[tokio::test]
async fn every_example_passes_on_the_reference_server() {
    let examples: Vec<Scenario> = parsed().into_iter().map(|(_, s)| s).collect();
    let mut ran = 0;
    for flavor in Flavor::ALL {
        let chosen: Vec<Scenario> = examples
            .iter()
            .filter(|s| s.flavor == flavor)
            .cloned()
            .collect();
        let server = start_embedded(flavor).await.expect("the embedded server");
        // Our own fresh server: the destructive and global examples may run.
        let own = RunOptions {
            allow_flush: true,
            allow_global: true,
            ..RunOptions::default()
        };
        let results = run_scenarios(server.addr(), chosen, &own, &|_| {}).await;
        server.shutdown().await;
        ran += results.len();
        for r in &results {
            assert_eq!(r.outcome, Outcome::Pass, "{}: {:?}", r.path, r.detail);
        }
    }
    assert_eq!(ran, examples.len(), "every example ran");
}
