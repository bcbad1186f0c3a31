//! `respect matrix` against real servers (a redis-server 7.0.15, our server in both flavors),
//! its page rendered by headless Chromium: the screenshot is not blank, the page has one
//! column per target, and the JSON agrees.

mod support;

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use support::{chromium, output_within, RedisServer, ServerProcess, CHROMIUM, CHROMIUM_DEADLINE};

/// Our server as a process, in `flavor`.
fn ours(flavor: &str) -> ServerProcess {
    let flavor = flavor.to_string();
    ServerProcess::spawn(OsStr::new(env!("CARGO_BIN_EXE_respect")), move |port| {
        vec![
            "serve".into(),
            "--bind".into(),
            format!("127.0.0.1:{port}"),
            "--flavor".into(),
            flavor.clone(),
        ]
    })
}

#[test]
fn matrix_page_renders_with_one_column_per_target() {
    if support::tool_missing(CHROMIUM) {
        return;
    }
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (ours_redis, ours_seed) = (ours("redis"), ours("seed"));
    let work = std::env::temp_dir().join(format!("respect-matrix-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let out = work.join("matrix");
    let status = Command::new(env!("CARGO_BIN_EXE_respect"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // Global scenarios too (ACL users, CONFIG SET...): these servers are the test's
        // own, and the page's first area (`acl`) would otherwise be all SKIPPED.
        .args(["matrix", "--allow-global", "--out"])
        .arg(&out)
        .args([
            "--target",
            &format!("redis7={}", redis.addr),
            "--target",
            &format!("ours={}", ours_redis.addr),
            "--target",
            &format!("ours-seed=seed@{}", ours_seed.addr),
        ])
        .stderr(Stdio::inherit())
        .status()
        .expect("respect matrix");
    assert!(status.success(), "respect matrix exited {status}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("matrix.json")).expect("matrix.json"))
            .expect("valid JSON");
    let columns = json["columns"].as_array().expect("columns");
    assert_eq!(columns.len(), 3);
    let rows = json["rows"].as_array().expect("rows");
    assert!(rows.len() > 100, "{} rows", rows.len());
    for row in rows {
        let cells = row["cells"].as_array().expect("cells");
        assert_eq!(cells.len(), 3);
        // A seed scenario is not run on a Redis target, and the other way round.
        let seed = row["area"].as_str().is_some_and(|a| a.starts_with("seed"));
        assert_eq!(cells[0]["outcome"].is_null(), seed, "{}", row["id"]);
        assert_eq!(cells[2]["outcome"].is_null(), !seed, "{}", row["id"]);
    }
    assert!(
        columns[0]["counts"]["pass"].as_u64().unwrap_or(0) > 100,
        "{}",
        columns[0]
    );

    // The DOM after the page's script ran: one header per target.
    let page = format!("file://{}", out.join("index.html").display());
    let dom = output_within(
        chromium(&work.join("profile-dom"))
            .arg("--dump-dom")
            .arg(&page),
        CHROMIUM_DEADLINE,
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<th class=\"target\"").count(), 3, "{dom:.500}");

    let shot = work.join("matrix.png");
    let shot_run = output_within(
        chromium(&work.join("profile-shot"))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&page),
        CHROMIUM_DEADLINE,
    );
    assert!(shot_run.status.success());
    let decoder = png::Decoder::new(std::fs::File::open(&shot).expect("screenshot"));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!((info.width, info.height), (1400, 900));
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let (mut inked, mut green) = (0usize, 0usize);
    for px in pixels[..info.buffer_size()].chunks_exact(channels) {
        let (r, g, b) = (px[0], px[1], px[2]);
        if r < 240 || g < 240 || b < 240 {
            inked += 1;
        }
        // The PASS colour, #3fa34d.
        if r.abs_diff(0x3f) < 12 && g.abs_diff(0xa3) < 12 && b.abs_diff(0x4d) < 12 {
            green += 1;
        }
    }
    let total = (info.width * info.height) as usize;
    assert!(
        inked * 10 > total,
        "only {inked} of {total} pixels are not white"
    );
    assert!(green * 20 > total, "only {green} PASS-green pixels");
    let _ = std::fs::remove_dir_all(&work);
}
