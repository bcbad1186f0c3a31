//! Under pipelined and fragmented delivery, a verdict names the request the failing reply
//! answers, not the last one sent.

use std::path::Path;

use respect::conformance::{run_scenarios, start_embedded, Outcome, RunOptions, Scenario};
use respect::resp::Flavor;

#[tokio::test]
async fn pipelined_and_fragmented_replies_name_their_request() {
    let server = start_embedded(Flavor::Redis).await.expect("server");
    let pipelined = "# needs: NOSUCHCMD GET\n! deliver pipelined\n> NOSUCHCMD\n> GET {{k}}a\n\
                     < +OK\n< $-1\n";
    let fragmented = "! deliver bytewise\n> PING\n> GET {{k}}a\n< +PONG\n< $3\n< abc\n";
    let scenarios = vec![
        Scenario::parse(
            Path::new("conformance/redis/a/y_pipelined.scenario"),
            pipelined,
        )
        .expect("parses"),
        Scenario::parse(
            Path::new("conformance/redis/a/y_fragmented.scenario"),
            fragmented,
        )
        .expect("parses"),
    ];
    let mut results =
        run_scenarios(server.addr(), scenarios, &RunOptions::default(), &|_| {}).await;
    server.shutdown().await;
    results.sort_by(|a, b| a.path.cmp(&b.path));
    let [fragmented, pipelined] = &results[..] else {
        panic!("{results:?}")
    };
    assert_eq!(pipelined.outcome, Outcome::Unsupported, "{pipelined:?}");
    let detail = pipelined.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("does not know NOSUCHCMD (sent at line 3)"),
        "{detail}"
    );
    assert_eq!(fragmented.outcome, Outcome::Fail, "{fragmented:?}");
    let detail = fragmented.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("reply to GET (sent at line 3)"), "{detail}");
}
