//! `respect matrix --client`: our server as the one target, the fixture drivers of
//! `tests/fixtures/clients/` over the fixture client scenarios. The page gets a client table
//! with the verdicts `respect clients` gives, and matrix.json a `clients` section in the shape
//! `respect clients --format json` writes; without `--client` neither appears.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::ServerProcess;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Our server as a process, Redis flavor.
fn ours() -> ServerProcess {
    ServerProcess::spawn(OsStr::new(env!("CARGO_BIN_EXE_respect")), |port| {
        vec!["serve".into(), "--bind".into(), format!("127.0.0.1:{port}")]
    })
}

/// `respect matrix` on `target` (only the `strings` server scenarios) with `extra` flags.
fn matrix(out: &Path, target: &str, extra: &[&str]) -> Output {
    let dir = fixtures();
    Command::new(env!("CARGO_BIN_EXE_respect"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["matrix", "--filter", "strings", "--target", target, "--out"])
        .arg(out)
        .arg("--drivers")
        .arg(dir.join("clients"))
        .arg("--client-dir")
        .arg(dir.join("clients-scenarios"))
        .args(extra)
        .output()
        .expect("respect matrix")
}

fn read(out: &Path) -> (serde_json::Value, String) {
    let json = serde_json::from_slice(&std::fs::read(out.join("matrix.json")).expect("json"))
        .expect("valid JSON");
    let page = std::fs::read_to_string(out.join("index.html")).expect("page");
    (json, page)
}

/// The client table's row for `id`, as the page writes it.
fn page_row<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!(">{id}</td>"))
        .unwrap_or_else(|| panic!("no row {id}"));
    let end = page[start..]
        .find("</tr>")
        .map_or(page.len(), |e| start + e);
    &page[start..end]
}

/// The page in headless Chromium (when installed): after its script ran, the DOM has the
/// client table with a HANG cell and a CRASH cell.
fn rendered_client_table(page: &Path, work: &Path) {
    if support::tool_missing(support::CHROMIUM) {
        return;
    }
    let dom = support::output_within(
        support::chromium(&work.join("profile"))
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display())),
        support::CHROMIUM_DEADLINE,
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("id=\"clients\""), "{dom:.500}");
    assert_eq!(dom.matches("<th class=\"client\">").count(), 1);
    assert!(dom.contains("<td class=\"o-HANG\""));
    assert!(dom.contains("<td class=\"o-CRASH\""));
}

#[test]
fn client_drivers_get_a_table_of_their_own() {
    let server = ours();
    let target = format!("ours={}", server.addr);
    let work = std::env::temp_dir().join(format!("respect-matrix-clients-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);

    // Without --client: no client table, no clients section.
    let plain = work.join("plain");
    let run = matrix(&plain, &target, &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (json, page) = read(&plain);
    assert!(json.get("clients").is_none(), "{json}");
    assert!(!page.contains("id=\"clients\""));
    assert!(!page.contains("o-HANG"));

    let with = work.join("with");
    let run = matrix(&with, &target, &["--client", "scripted"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (json, page) = read(&with);
    assert_eq!(json["columns"].as_array().map(Vec::len), Some(1));
    let clients = json["clients"].as_array().expect("a clients section");
    assert_eq!(clients.len(), 1);
    let scripted = &clients[0];
    assert_eq!(scripted["client"], "scripted");
    assert_eq!(scripted["library"], "fixture 1");
    assert_eq!(scripted["started"], true);
    let want = [
        ("t.closed", "PASS"),
        ("t.die", "CRASH"),
        ("t.garbage", "CRASH"),
        ("t.hang", "HANG"),
        ("t.internal", "CRASH"),
        ("t.ok", "NON-STRICT"),
        ("t.ok-after-hang", "NON-STRICT"),
        ("t.unsupported", "UNSUPPORTED"),
    ];
    let got: Vec<(&str, &str)> = scripted["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or(""),
                r["grade"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(scripted["counts"]["CRASH"], 3);
    assert_eq!(scripted["counts"]["HANG"], 1);

    // The page: one client column, a cell per verdict in the outcome colours, a detail per
    // non-PASS cell with the reply sent, what the library surfaced and the expectation.
    assert!(page.contains("<table class=\"matrix\" id=\"clients\">"));
    assert_eq!(page.matches("<th class=\"client\">").count(), 1);
    assert!(page.contains("<tr class=\"area\" data-area=\"clients/t\">"));
    assert!(page.contains("<option>clients/t</option>"));
    assert!(page.contains("<option>HANG</option>"));
    for (id, verdict) in want {
        let row = page_row(&page, id);
        assert!(
            row.contains(&format!("<td class=\"o-{verdict}\"")),
            "{id}: {row}"
        );
        assert_eq!(row.contains("href=\"#client-"), verdict != "PASS", "{id}");
    }
    let die = page
        .split("<details id=\"client-")
        .find(|d| d.contains("<b>t.die</b>"))
        .expect("t.die's detail");
    assert!(die.contains("\"+OK\\r\\n\""), "the reply, escaped: {die}");
    assert!(die.contains("2b 4f 4b 0d 0a"), "{die}");
    assert!(die.contains("dying on purpose"), "{die}");
    assert!(
        die.contains("value {&quot;simple&quot;:&quot;OK&quot;}"),
        "{die}"
    );
    rendered_client_table(&with.join("index.html"), &work);

    // A driver that cannot start is a column saying why, and exit 2; details are clipped by
    // --max-logged-bytes.
    let broken = work.join("broken");
    let run = matrix(
        &broken,
        &target,
        &[
            "--client",
            "scripted",
            "--client",
            "silent-start",
            "--client-filter",
            "t.die",
            "--max-logged-bytes",
            "16",
        ],
    );
    assert_eq!(run.status.code(), Some(2));
    let (json, page) = read(&broken);
    let clients = json["clients"].as_array().expect("a clients section");
    assert_eq!(clients.len(), 2);
    assert_eq!(clients[1]["started"], false);
    assert_eq!(clients[0]["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(page.matches("<th class=\"client\">").count(), 2);
    assert!(page.contains("cannot import the library"));
    assert!(page.contains("crash: the drive… (16 of "), "clipped detail");
    assert!(!page.contains("dying on purpose"), "clipped detail");

    // A driver that does not exist is a usage error before anything runs.
    let run = matrix(&work.join("none"), &target, &["--client", "no-such-driver"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(!work.join("none").exists());
    let _ = std::fs::remove_dir_all(&work);
}
