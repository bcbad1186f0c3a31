//! The compatibility matrix as one self-contained HTML page: no scripts, styles or fonts
//! fetched from anywhere, so it opens from a file, in CI artifacts and offline.
//!
//! Rows are scenarios grouped by area, columns are targets, cells are verdicts coloured by
//! outcome. A little inline script filters rows by area and by verdict. Every cell that ran
//! and did not PASS links to its wire log further down the same page (a `<details>` element
//! with an anchor): bytes sent, expected and actual, escaped and in hex, and the first
//! differing offset.

use std::io::{self, Write};

use crate::clients::Grade;
use crate::matrix::{Cell, ClientMatrix, Exchange, Matrix, WireBytes};
use crate::runner::Outcome;

/// Every outcome in the order the page lists them.
const OUTCOMES: [Outcome; 7] = [
    Outcome::Pass,
    Outcome::NonStrict,
    Outcome::Unsupported,
    Outcome::Version,
    Outcome::Skipped,
    Outcome::Fail,
    Outcome::Error,
];

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#1b1b1b;background:#fff}
h1{font-size:20px;margin:0 0 8px}
table.matrix{border-collapse:collapse;margin-top:8px}
.matrix th,.matrix td{border:1px solid #ccc;padding:2px 6px;text-align:center;white-space:nowrap}
.matrix td.id{text-align:left;font-family:ui-monospace,monospace;font-size:12px}
.matrix thead th{position:sticky;top:0;background:#f3f3f3}
.matrix th.target{white-space:normal;max-width:170px}
.matrix tr.area th{text-align:left;background:#e6ecf5}
.matrix .counts{font-size:11px;font-weight:normal;color:#444}
.o-PASS{background:#3fa34d;color:#fff}
.o-NON-STRICT{background:#9bd37a}
.o-UNSUPPORTED{background:#b0b0b0}
.o-VERSION{background:#7aa6e0}
.o-SKIPPED{background:#e8e8e8;color:#555}
.o-FAIL{background:#d9412b;color:#fff}
.o-ERROR{background:#7b1fa2;color:#fff}
.o-NA{background:#fafafa;color:#aaa}
td a{color:inherit}
.legend span{display:inline-block;padding:1px 6px;margin-right:4px}
details{border:1px solid #ddd;margin:6px 0;padding:4px 8px}
details:target{outline:3px solid #f0a000}
pre{white-space:pre-wrap;word-break:break-all;margin:2px 0;font-size:12px}
table.wire td,table.wire th{border:1px solid #ddd;padding:2px 4px;vertical-align:top;text-align:left}
table.wire{border-collapse:collapse;width:100%}
"#;

/// The client verdicts the server outcomes do not have.
const CLIENT_ONLY: [Grade; 2] = [Grade::Hang, Grade::Crash];

/// Added to [`STYLE`] only when the page has a client table.
const CLIENT_STYLE: &str = r#"
.o-HANG{background:#e07b00;color:#fff}
.o-CRASH{background:#4a148c;color:#fff}
.matrix th.client{white-space:normal;max-width:170px}
"#;

const SCRIPT: &str = r#"
function applyFilters(){
  var area=document.getElementById('area').value, verdict=document.getElementById('verdict').value;
  var rows=document.querySelectorAll('tbody tr');
  for(var i=0;i<rows.length;i++){
    var r=rows[i], a=r.getAttribute('data-area');
    var show=(area===''||a===area);
    if(show&&verdict!==''&&r.className!=='area'){show=(' '+r.getAttribute('data-outcomes')+' ').indexOf(' '+verdict+' ')>=0;}
    r.style.display=show?'':'none';
  }
}
function openTarget(){
  var id=location.hash.slice(1); if(!id)return;
  var d=document.getElementById(id); if(d&&d.tagName==='DETAILS'){d.open=true;}
}
window.addEventListener('hashchange',openTarget);
window.addEventListener('load',openTarget);
"#;

/// Text with `&`, `<`, `>` and quotes escaped for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The anchor of the wire log of row `r`, column `c`.
fn anchor(r: usize, c: usize) -> String {
    format!("log-{r}-{c}")
}

/// Writes the matrix page.
pub fn write_html(matrix: &Matrix, title: &str, out: &mut impl Write) -> io::Result<()> {
    write_html_with_clients(matrix, None, title, out)
}

/// Writes the matrix page; with `clients`, a second table follows the servers' (client
/// scenarios by area x client drivers), with a detail per non-PASS cell, under the same filters.
pub fn write_html_with_clients(
    matrix: &Matrix,
    clients: Option<&ClientMatrix>,
    title: &str,
    out: &mut impl Write,
) -> io::Result<()> {
    let client_style = if clients.is_some() { CLIENT_STYLE } else { "" };
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}{client_style}</style>\n<script>{SCRIPT}</script></head><body>",
        esc(title)
    )?;
    writeln!(out, "<h1>{}</h1>", esc(title))?;
    write_legend(clients.is_some(), out)?;
    write_filters(matrix, clients, out)?;
    write_table(matrix, out)?;
    if let Some(clients) = clients {
        write_client_table(clients, out)?;
    }
    write_logs(matrix, out)?;
    if let Some(clients) = clients {
        write_client_details(clients, out)?;
    }
    writeln!(out, "</body></html>")
}

fn write_legend(clients: bool, out: &mut impl Write) -> io::Result<()> {
    write!(out, "<p class=\"legend\">")?;
    for o in OUTCOMES {
        write!(out, "<span class=\"o-{0}\">{0}</span>", o.label())?;
    }
    if clients {
        for g in CLIENT_ONLY {
            write!(out, "<span class=\"o-{0}\">{0}</span>", g.label())?;
        }
    }
    writeln!(out, "<span class=\"o-NA\">— not for this target</span></p>")
}

fn write_filters(
    matrix: &Matrix,
    clients: Option<&ClientMatrix>,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut areas: Vec<&str> = matrix.rows.iter().map(|r| r.area.as_str()).collect();
    if let Some(clients) = clients {
        areas.extend(clients.rows.iter().map(|r| r.area.as_str()));
    }
    areas.dedup();
    write!(
        out,
        "<p><label>Area <select id=\"area\" onchange=\"applyFilters()\"><option value=\"\">all</option>"
    )?;
    for a in areas {
        write!(out, "<option>{}</option>", esc(a))?;
    }
    write!(
        out,
        "</select></label> <label>Verdict <select id=\"verdict\" onchange=\"applyFilters()\"><option value=\"\">any</option>"
    )?;
    for o in OUTCOMES {
        write!(out, "<option>{}</option>", o.label())?;
    }
    if clients.is_some() {
        for g in CLIENT_ONLY {
            write!(out, "<option>{}</option>", g.label())?;
        }
    }
    writeln!(out, "</select></label></p>")
}

fn write_table(matrix: &Matrix, out: &mut impl Write) -> io::Result<()> {
    write!(
        out,
        "<table class=\"matrix\" id=\"matrix\"><thead><tr><th>scenario</th>"
    )?;
    for c in &matrix.columns {
        let k = c.counts;
        let counts = match &c.error {
            Some(e) => format!("not run: {}", esc(e)),
            None => {
                let counts = [
                    (k.pass, Outcome::Pass),
                    (k.non_strict, Outcome::NonStrict),
                    (k.unsupported, Outcome::Unsupported),
                    (k.version, Outcome::Version),
                    (k.skipped, Outcome::Skipped),
                    (k.fail, Outcome::Fail),
                    (k.error, Outcome::Error),
                ];
                counts_text(counts.map(|(n, o)| (n, o.label())))
            }
        };
        write!(
            out,
            "<th class=\"target\" title=\"{}\">{}<br><span class=\"counts\">{}</span><br><span class=\"counts\">{}</span></th>",
            esc(&c.addr),
            esc(&c.name),
            esc(&c.server),
            counts
        )?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    let span = matrix.columns.len() + 1;
    let mut area: Option<&str> = None;
    for (r, row) in matrix.rows.iter().enumerate() {
        let outcomes: Vec<&str> = row
            .cells
            .iter()
            .filter_map(|c| c.outcome.map(Outcome::label))
            .collect();
        let head = RowHead {
            area: &row.area,
            id: &row.id,
            title: &row.title,
            verdicts: &outcomes,
        };
        write_row_head(&head, &mut area, span, out)?;
        for (c, cell) in row.cells.iter().enumerate() {
            write_cell(cell, &anchor(r, c), out)?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table>")
}

/// A column's counts for its header: the grades that occur, one per line (`3&nbsp;PASS`).
fn counts_text<'a>(counts: impl IntoIterator<Item = (usize, &'a str)>) -> String {
    let shown: Vec<String> = counts
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, label)| format!("{n}&nbsp;{label}"))
        .collect();
    shown.join("<br>")
}

/// What starts a row of the server or the client table.
struct RowHead<'a, 'b> {
    area: &'a str,
    id: &'b str,
    title: &'b str,
    /// The verdicts of its cells, for the verdict filter.
    verdicts: &'b [&'b str],
}

/// Opens a row of a table (`span` columns wide): an area heading first when the row's area
/// differs from the last row's (`area`), then the row with its filter attributes and its id.
fn write_row_head<'a>(
    row: &RowHead<'a, '_>,
    area: &mut Option<&'a str>,
    span: usize,
    out: &mut impl Write,
) -> io::Result<()> {
    if *area != Some(row.area) {
        *area = Some(row.area);
        writeln!(
            out,
            "<tr class=\"area\" data-area=\"{0}\"><th colspan=\"{span}\">{0}</th></tr>",
            esc(row.area)
        )?;
    }
    write!(
        out,
        "<tr data-area=\"{}\" data-outcomes=\"{}\"><td class=\"id\" title=\"{}\">{}</td>",
        esc(row.area),
        row.verdicts.join(" "),
        esc(row.title),
        esc(row.id)
    )
}

fn write_cell(cell: &Cell, anchor: &str, out: &mut impl Write) -> io::Result<()> {
    match cell.outcome {
        None => write!(out, "<td class=\"o-NA\">—</td>"),
        Some(o) => {
            let tip = esc(cell.detail.as_deref().unwrap_or(""));
            if cell.wire.is_some() || (o != Outcome::Pass && cell.detail.is_some()) {
                write!(
                    out,
                    "<td class=\"o-{0}\" title=\"{tip}\"><a href=\"#{anchor}\">{0}</a></td>",
                    o.label()
                )
            } else {
                write!(
                    out,
                    "<td class=\"o-{0}\" title=\"{tip}\">{0}</td>",
                    o.label()
                )
            }
        }
    }
}

fn write_logs(matrix: &Matrix, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<h2>Wire logs</h2>")?;
    for (r, row) in matrix.rows.iter().enumerate() {
        for (c, cell) in row.cells.iter().enumerate() {
            let Some(outcome) = cell.outcome else {
                continue;
            };
            if cell.wire.is_none() && (outcome == Outcome::Pass || cell.detail.is_none()) {
                continue;
            }
            let column = matrix.columns.get(c).map(|c| c.name.as_str()).unwrap_or("");
            writeln!(
                out,
                "<details id=\"{}\"><summary><b>{}</b> on <b>{}</b>: {}</summary>",
                anchor(r, c),
                esc(&row.id),
                esc(column),
                outcome.label()
            )?;
            if let Some(detail) = &cell.detail {
                writeln!(out, "<pre>{}</pre>", esc(detail))?;
            }
            if let Some(wire) = &cell.wire {
                if let Some(stopped) = &wire.stopped {
                    writeln!(out, "<p>Replay stopped: {}</p>", esc(stopped))?;
                }
                writeln!(
                    out,
                    "<table class=\"wire\"><tr><th>line</th><th>sent</th><th>expected</th><th>actual</th><th>first difference</th></tr>"
                )?;
                for x in &wire.exchanges {
                    write_exchange(x, out)?;
                }
                writeln!(out, "</table>")?;
            }
            writeln!(out, "</details>")?;
        }
    }
    Ok(())
}

/// The anchor of the detail of client row `r`, driver `c`.
fn client_anchor(r: usize, c: usize) -> String {
    format!("client-{r}-{c}")
}

fn write_client_table(clients: &ClientMatrix, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<h2>Clients</h2>")?;
    write!(
        out,
        "<table class=\"matrix\" id=\"clients\"><thead><tr><th>client scenario</th>"
    )?;
    for run in &clients.runs {
        let counts = if run.started {
            counts_text(run.counts().into_iter().zip(Grade::ALL.map(Grade::label)))
        } else {
            "not run".into()
        };
        write!(
            out,
            "<th class=\"client\">{}<br><span class=\"counts\">{}</span><br><span class=\"counts\">{}</span></th>",
            esc(&run.client),
            esc(&run.library),
            counts
        )?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    let span = clients.runs.len() + 1;
    let mut area: Option<&str> = None;
    for (r, row) in clients.rows.iter().enumerate() {
        let grades: Vec<&str> = row
            .cells
            .iter()
            .flatten()
            .map(|c| c.grade.label())
            .collect();
        let head = RowHead {
            area: &row.area,
            id: &row.id,
            title: &row.title,
            verdicts: &grades,
        };
        write_row_head(&head, &mut area, span, out)?;
        for (c, cell) in row.cells.iter().enumerate() {
            match cell {
                None => write!(out, "<td class=\"o-NA\">—</td>")?,
                Some(cell) if cell.grade == Grade::Pass => {
                    write!(out, "<td class=\"o-PASS\">PASS</td>")?
                }
                Some(cell) => write!(
                    out,
                    "<td class=\"o-{0}\" title=\"{1}\"><a href=\"#{2}\">{0}</a></td>",
                    cell.grade.label(),
                    esc(&cell.detail),
                    client_anchor(r, c)
                )?,
            }
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table>")
}

fn write_client_details(clients: &ClientMatrix, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "<h2>Client details</h2>")?;
    for (r, row) in clients.rows.iter().enumerate() {
        for (c, cell) in row.cells.iter().enumerate() {
            let Some(cell) = cell.as_ref().filter(|c| c.grade != Grade::Pass) else {
                continue;
            };
            let client = clients.runs.get(c).map(|r| r.client.as_str()).unwrap_or("");
            writeln!(
                out,
                "<details id=\"{}\"><summary><b>{}</b> on <b>{}</b>: {}</summary>",
                client_anchor(r, c),
                esc(&row.id),
                esc(client),
                cell.grade.label()
            )?;
            writeln!(
                out,
                "<table class=\"wire\"><tr><th>reply sent</th><th>library surfaced</th><th>expected</th></tr>"
            )?;
            writeln!(
                out,
                "<tr><td>{}{}</td><td><pre>{}</pre></td><td><pre>{}</pre></td></tr></table>",
                bytes_cell(Some(&row.reply)),
                if row.delivery.is_empty() {
                    String::new()
                } else {
                    format!("<br>({})", esc(&row.delivery))
                },
                esc(&cell.detail),
                esc(&row.expectation)
            )?;
            writeln!(out, "</details>")?;
        }
    }
    Ok(())
}

fn write_exchange(x: &Exchange, out: &mut impl Write) -> io::Result<()> {
    let mark = if x.matched {
        ""
    } else {
        " style=\"background:#fde8e4\""
    };
    write!(
        out,
        "<tr{mark}><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        x.line,
        esc(&x.connection),
        bytes_cell(Some(&x.sent)),
        // A loose form (`? type integer`) has no bytes: say what it accepts instead.
        match &x.expected {
            Some(b) => bytes_cell(Some(b)),
            None => format!("<pre>{}</pre>", esc(&x.expected_form)),
        },
        match &x.actual {
            Some(b) => bytes_cell(Some(b)),
            None => "(no reply)".into(),
        },
        x.first_difference
            .map(|d| format!("byte {d}"))
            .unwrap_or_else(|| if x.matched {
                "matches".into()
            } else {
                "—".into()
            })
    )?;
    writeln!(out)
}

/// Bytes escaped, then in hex, with a note when clipped.
fn bytes_cell(bytes: Option<&WireBytes>) -> String {
    let Some(b) = bytes else {
        return String::new();
    };
    let clipped = if b.truncated() {
        format!("<br>({} of {} bytes shown)", b.shown.len(), b.len)
    } else {
        String::new()
    };
    format!(
        "<pre>\"{}\"</pre><pre class=\"hex\">{}</pre>{clipped}",
        esc(&b.escaped()),
        esc(&b.hex())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{Column, Row, WireLog};
    use crate::report::Counts;

    fn column(name: &str) -> Column {
        Column {
            name: name.into(),
            addr: "127.0.0.1:1".into(),
            flavor: "redis".into(),
            server: "redis 7.0.15".into(),
            counts: Counts::default(),
            error: None,
            millis: 0,
        }
    }

    #[test]
    fn page_has_a_column_per_target_and_links_each_non_pass_cell_to_its_log() {
        let matrix = Matrix {
            columns: vec![column("a"), column("b<script>")],
            rows: vec![Row {
                id: "strings/y_get".into(),
                area: "redis/strings".into(),
                title: "GET".into(),
                cells: vec![
                    Cell {
                        outcome: Some(Outcome::Pass),
                        detail: None,
                        wire: None,
                    },
                    Cell {
                        outcome: Some(Outcome::Fail),
                        detail: Some("line 3: first difference at byte 1".into()),
                        wire: Some(WireLog {
                            exchanges: vec![Exchange {
                                line: 3,
                                connection: "main".into(),
                                sent: WireBytes::clipped(b"*1\r\n$3\r\nGET\r\n", 4096),
                                expected_form: "\"+OK\\r\\n\"".into(),
                                expected: Some(WireBytes::clipped(b"+OK\r\n", 4096)),
                                actual: Some(WireBytes::clipped(b"-ERR\r\n", 2)),
                                matched: false,
                                first_difference: Some(0),
                            }],
                            stopped: None,
                        }),
                    },
                ],
            }],
        };
        let mut page = Vec::new();
        write_html(&matrix, "m", &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert_eq!(page.matches("<th class=\"target\"").count(), 2);
        assert!(page.contains("b&lt;script&gt;"));
        assert!(page.contains("<a href=\"#log-0-1\">FAIL</a>"));
        assert!(page.contains("<details id=\"log-0-1\">"));
        assert!(page.contains("2b 4f 4b 0d 0a"));
        assert!(page.contains("(2 of 6 bytes shown)"));
        assert!(page.contains("byte 0"));
        assert!(!page.contains("http"));
    }

    #[test]
    fn client_table_escapes_and_links_each_non_pass_cell_to_its_detail() {
        use crate::clients::{ClientResult, ClientRun};
        use crate::matrix::{ClientCell, ClientRow};
        let run = ClientRun {
            client: "lib<1>".into(),
            library: "lib 1.0".into(),
            started: true,
            results: vec![ClientResult {
                client: "lib<1>".into(),
                id: "resp3.x".into(),
                path: "resp3/y_x.scenario".into(),
                title: "x".into(),
                grade: Grade::Hang,
                detail: "no answer in time (killed)".into(),
                millis: 0,
            }],
        };
        let clients = ClientMatrix {
            runs: vec![run],
            rows: vec![ClientRow {
                id: "resp3.x".into(),
                area: "clients/resp3".into(),
                title: "x".into(),
                reply: WireBytes::clipped(b"%1\r\n<\r\n", 4096),
                delivery: "one byte per write".into(),
                expectation: "survive".into(),
                cells: vec![Some(ClientCell {
                    grade: Grade::Hang,
                    detail: "no answer in time (killed)".into(),
                })],
            }],
        };
        let matrix = Matrix {
            columns: vec![column("a")],
            rows: vec![],
        };
        let mut page = Vec::new();
        write_html_with_clients(&matrix, Some(&clients), "m", &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("<th class=\"client\">lib&lt;1&gt;"));
        assert!(page.contains("<a href=\"#client-0-0\">HANG</a>"));
        assert!(page.contains("<details id=\"client-0-0\">"));
        assert!(
            page.contains("%1\\r\\n&lt;\\r\\n"),
            "the reply, escaped twice over"
        );
        assert!(page.contains("(one byte per write)"));
        assert!(page.contains(".o-HANG{"));
        assert!(!page.contains("http"));
        let mut plain = Vec::new();
        write_html(&matrix, "m", &mut plain).unwrap();
        assert!(!String::from_utf8(plain).unwrap().contains("o-HANG"));
    }
}
