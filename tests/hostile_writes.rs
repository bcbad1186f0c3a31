//! No acknowledged write lost (issue 16): clients that write, read their acknowledgement,
//! then hang up in the middle of their next frame. Every
//! write a client saw `+OK` for must be there afterwards, with its value, and the cut
//! frames must have written nothing.

mod hostile;
mod support;

use std::io::Write;

use hostile::{command, connect, read_reply, roundtrip, scaled, table_row};

#[test]
fn acknowledged_writes_survive_clients_cut_mid_frame() {
    let clients = scaled(50, 400);
    let writes = scaled(40, 200);
    let mut rows = Vec::new();
    for target in hostile::both(&[]) {
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                let addr = target.addr();
                std::thread::spawn(move || {
                    let mut acked = 0u64;
                    let mut conn = connect(addr);
                    for w in 0..writes {
                        let key = format!("ack:{c}:{w}");
                        conn.write_all(&command(&[b"SET", key.as_bytes(), key.as_bytes()]))
                            .expect("send");
                        assert_eq!(read_reply(&mut conn), b"+OK\r\n");
                        acked += 1;
                        // Every tenth write, hang up mid-frame and reconnect.
                        if w % 10 == 9 {
                            let cut = command(&[b"SET", format!("cut:{c}:{w}").as_bytes(), b"x"]);
                            let _ = conn.write_all(&cut[..cut.len() / 2]);
                            drop(conn);
                            conn = connect(addr);
                        }
                    }
                    acked
                })
            })
            .collect();
        let acked: u64 = workers.into_iter().map(|w| w.join().expect("client")).sum();
        let mut missing = 0;
        for c in 0..clients {
            for w in 0..writes {
                let key = format!("ack:{c}:{w}");
                let reply = roundtrip(target.addr(), &command(&[b"GET", key.as_bytes()]));
                if reply != format!("${}\r\n{key}\r\n", key.len()).into_bytes() {
                    missing += 1;
                }
            }
        }
        let cut_keys = roundtrip(target.addr(), &command(&[b"KEYS", b"cut:*"]));
        assert_eq!(cut_keys, b"*0\r\n", "{}: a cut frame wrote", target.name);
        eprintln!("{}: {acked} acknowledged, {missing} lost", target.name);
        assert_eq!(missing, 0, "{} lost acknowledged writes", target.name);
        rows.push((target.name, acked, missing));
    }
    let ours = rows.iter().find(|r| r.0 == "ours").expect("ours ran");
    let redis = rows.iter().find(|r| r.0 == "redis");
    table_row(
        &format!("{clients} clients cut mid-frame"),
        "acknowledged writes lost",
        redis.map(|r| format!("{} of {}", r.2, r.1)),
        format!("{} of {}", ours.2, ours.1),
    );
}
