//! The registry's metadata against a real redis-server 7.0.15: for every command (and
//! subcommand) we implement, our `COMMAND INFO` entry's name, arity, flags, first/last/step
//! key positions, ACL categories, tips and key specs equal redis-server's. Skipped with a
//! message when redis-server is not installed (a failure under CI).

mod support;

use respect::client::Client;
use respect::resp::{Dialect, Frame};
use respect::server::commands::command_table;
use respect::server::{Flavor, ServerConfig};

/// The fields of a `COMMAND INFO` entry compared: all but the subcommands (ours lists only
/// the subcommands we implement).
const COMPARED_FIELDS: usize = 9;
const FIELD_NAMES: [&str; COMPARED_FIELDS] = [
    "name",
    "arity",
    "flags",
    "first key",
    "last key",
    "step",
    "ACL categories",
    "tips",
    "key specs",
];

async fn info_entry(client: &mut Client, name: &str) -> Vec<Frame> {
    match client.call(&["COMMAND", "INFO", name]).await {
        Ok(Frame::Array(mut entries)) if entries.len() == 1 => match entries.remove(0) {
            Frame::Array(fields) => fields,
            other => panic!("COMMAND INFO {name}: entry {other:?}"),
        },
        other => panic!("COMMAND INFO {name}: {other:?}"),
    }
}

#[tokio::test]
async fn every_command_we_implement_is_described_as_redis_describes_it() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let ours = support::our_server(ServerConfig::default()).await;
    let mut theirs_client = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("connect to redis-server");
    let mut ours_client = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("connect to ours");
    let specs = command_table(Flavor::Redis);
    assert!(
        specs.len() > 50,
        "the registry lists {} commands",
        specs.len()
    );
    let mut compared = 0;
    for spec in specs
        .iter()
        .flat_map(|s| std::iter::once(*s).chain(s.subcommands.iter()))
    {
        let theirs = info_entry(&mut theirs_client, spec.name).await;
        let got = info_entry(&mut ours_client, spec.name).await;
        for (i, field) in FIELD_NAMES.iter().enumerate() {
            assert_eq!(
                got.get(i),
                theirs.get(i),
                "COMMAND INFO {}: {field} differs from redis-server's",
                spec.name
            );
        }
        // The registry's own fields agree with what the server says.
        assert_eq!(got.get(1), Some(&Frame::Integer(i64::from(spec.arity))));
        assert_eq!(
            got.get(3),
            Some(&Frame::Integer(i64::from(spec.keys.first)))
        );
        compared += 1;
    }
    assert!(compared > specs.len(), "subcommands were compared too");
    ours.shutdown().await;
}

#[tokio::test]
async fn command_count_and_list_come_from_the_registry() {
    let ours = support::our_server(ServerConfig::default()).await;
    let mut client = Client::connect(ours.addr(), Dialect::Resp2)
        .await
        .expect("connect");
    let specs = command_table(Flavor::Redis);
    assert_eq!(
        client.call(&["COMMAND", "COUNT"]).await.expect("COUNT"),
        Frame::Integer(specs.len() as i64)
    );
    let Frame::Array(listed) = client.call(&["COMMAND", "LIST"]).await.expect("LIST") else {
        panic!("COMMAND LIST is not an array");
    };
    let with_subcommands = specs.iter().map(|s| 1 + s.subcommands.len()).sum::<usize>();
    assert_eq!(listed.len(), with_subcommands);
    let Frame::Array(hashes) = client
        .call(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "hash"])
        .await
        .expect("LIST FILTERBY")
    else {
        panic!("COMMAND LIST FILTERBY is not an array");
    };
    assert!(hashes.contains(&Frame::Bulk("hget".into())));
    assert!(!hashes.contains(&Frame::Bulk("get".into())));
    // RESP2: the map of name -> docs as a flat array.
    let Frame::Array(docs) = client
        .call(&["COMMAND", "DOCS", "get"])
        .await
        .expect("DOCS")
    else {
        panic!("COMMAND DOCS is not an array in RESP2");
    };
    assert_eq!(docs.first(), Some(&Frame::Bulk("get".into())));
    assert_eq!(docs.len(), 2);
    ours.shutdown().await;
}
