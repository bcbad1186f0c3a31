//! INFO: the sections of Redis 7.0's INFO, with the fields clients and Redis's test suite
//! read. Values that describe machinery this server does not have (persistence,
//! replication, eviction) are the ones a fresh redis-server with none of it configured shows.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use respect_resp::Frame;

use super::connection::SERVER_VERSION;
use super::context::Ctx;
use super::settings::shown_hz;
use crate::state::BASE_MEMORY;

/// Every section, in the order INFO prints them, and whether it is in `INFO` / `default`.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

/// `INFO [section ...]`: `all` is every section but `modules`, `everything` all of them,
/// `default` (and no argument) the default ones; names are case-insensitive, unknown ones
/// add nothing, and each section appears once, in Redis's order.
pub fn info(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let asked = argv.get(1..).unwrap_or_default();
    let wanted = |name: &str, default: bool| {
        if asked.is_empty() {
            return default;
        }
        asked.iter().any(|a| {
            a.eq_ignore_ascii_case(name.as_bytes())
                || a.eq_ignore_ascii_case(b"everything")
                || (a.eq_ignore_ascii_case(b"all") && name != "modules")
                || (a.eq_ignore_ascii_case(b"default") && default)
        })
    };
    let mut text = String::new();
    for (name, default) in SECTIONS {
        if wanted(name, *default) {
            if !text.is_empty() {
                text.push_str("\r\n");
            }
            section(ctx, name, &mut text);
        }
    }
    Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

fn section(ctx: &Ctx<'_>, name: &str, out: &mut String) {
    let server = ctx.server;
    let settings = &server.settings;
    let setting = |n: &str| settings.get(n).unwrap_or_default();
    let stats = server.stats.snapshot();
    let mut line = |args: std::fmt::Arguments<'_>| {
        let _ = out.write_fmt(args);
        out.push_str("\r\n");
    };
    match name {
        "server" => {
            let uptime = server.started.elapsed().as_secs();
            let hz = shown_hz(setting("hz").parse().unwrap_or(10));
            line(format_args!("# Server"));
            line(format_args!("redis_version:{SERVER_VERSION}"));
            line(format_args!("redis_git_sha1:00000000"));
            line(format_args!("redis_git_dirty:0"));
            line(format_args!("redis_build_id:0"));
            line(format_args!("redis_mode:standalone"));
            line(format_args!(
                "respect_version:{}",
                env!("CARGO_PKG_VERSION")
            ));
            line(format_args!(
                "os:{} {}",
                std::env::consts::OS,
                std::env::consts::ARCH
            ));
            line(format_args!("arch_bits:{}", usize::BITS));
            line(format_args!("multiplexing_api:epoll"));
            line(format_args!("process_id:{}", std::process::id()));
            line(format_args!("process_supervised:no"));
            line(format_args!("run_id:{}", run_id()));
            line(format_args!("tcp_port:{}", server.port));
            line(format_args!(
                "server_time_usec:{}",
                crate::db::now_ms() * 1000
            ));
            line(format_args!("uptime_in_seconds:{uptime}"));
            line(format_args!("uptime_in_days:{}", uptime / 86_400));
            line(format_args!("hz:{hz}"));
            line(format_args!("configured_hz:{hz}"));
            line(format_args!("executable:"));
            line(format_args!("config_file:"));
            line(format_args!("io_threads_active:0"));
        }
        "clients" => {
            line(format_args!("# Clients"));
            line(format_args!("connected_clients:{}", stats.connected));
            line(format_args!("cluster_connections:0"));
            line(format_args!(
                "maxclients:{}",
                settings.maxclients.load(Ordering::Relaxed)
            ));
            line(format_args!("client_recent_max_input_buffer:0"));
            line(format_args!("client_recent_max_output_buffer:0"));
            line(format_args!(
                "blocked_clients:{}",
                ctx.state.hub.blocked_clients.load(Ordering::Relaxed)
            ));
            line(format_args!(
                "tracking_clients:{}",
                ctx.state.hub.tracking.clients()
            ));
            line(format_args!("clients_in_timeout_table:0"));
        }
        "memory" => {
            let used = server.used_memory();
            let maxmemory: u64 = setting("maxmemory").parse().unwrap_or(0);
            line(format_args!("# Memory"));
            line(format_args!("used_memory:{used}"));
            line(format_args!("used_memory_human:{}", human(used as u64)));
            line(format_args!("used_memory_startup:{BASE_MEMORY}"));
            line(format_args!(
                "used_memory_dataset:{}",
                used.saturating_sub(BASE_MEMORY)
            ));
            line(format_args!("maxmemory:{maxmemory}"));
            line(format_args!("maxmemory_human:{}", human(maxmemory)));
            line(format_args!(
                "maxmemory_policy:{}",
                setting("maxmemory-policy")
            ));
            let scripting = &server.scripting;
            let lua = scripting.lua_memory();
            let eval_scripts = scripting.scripts_memory.load(Ordering::Relaxed);
            let (functions, libraries, functions_memory) = scripting.function_counts();
            let vm_functions = super::scripting::EMPTY_LUA_MEMORY;
            line(format_args!("used_memory_lua:{lua}"));
            line(format_args!("used_memory_vm_eval:{lua}"));
            line(format_args!("used_memory_lua_human:{}", human(lua as u64)));
            line(format_args!("used_memory_scripts_eval:{eval_scripts}"));
            line(format_args!(
                "number_of_cached_scripts:{}",
                scripting.cached_scripts.load(Ordering::Relaxed)
            ));
            line(format_args!("number_of_functions:{functions}"));
            line(format_args!("number_of_libraries:{libraries}"));
            line(format_args!("used_memory_vm_functions:{vm_functions}"));
            let vm_total = lua + vm_functions;
            line(format_args!("used_memory_vm_total:{vm_total}"));
            line(format_args!(
                "used_memory_vm_total_human:{}",
                human(vm_total as u64)
            ));
            line(format_args!("used_memory_functions:{functions_memory}"));
            let scripts = eval_scripts + functions_memory;
            line(format_args!("used_memory_scripts:{scripts}"));
            line(format_args!(
                "used_memory_scripts_human:{}",
                human(scripts as u64)
            ));
            // What Redis leaves out of the memory eviction looks at. Our `used_memory` is
            // the dataset's estimate and never counted these, so there is nothing to take
            // off; the clients' waiting output is shown where Redis shows it.
            let outboxes: usize = ctx.state.hub.all().iter().map(|c| c.outbox_size().0).sum();
            line(format_args!("mem_not_counted_for_evict:0"));
            line(format_args!("mem_replication_backlog:0"));
            line(format_args!("mem_total_replication_buffers:0"));
            line(format_args!("mem_clients_slaves:0"));
            line(format_args!("mem_clients_normal:{outboxes}"));
            line(format_args!("mem_cluster_links:0"));
            line(format_args!("mem_aof_buffer:0"));
            line(format_args!("mem_allocator:respect"));
            line(format_args!("lazyfree_pending_objects:0"));
            line(format_args!("lazyfreed_objects:0"));
        }
        "persistence" => {
            let aof = u8::from(setting("appendonly") == "yes");
            line(format_args!("# Persistence"));
            line(format_args!("loading:0"));
            line(format_args!("async_loading:0"));
            line(format_args!(
                "rdb_changes_since_last_save:{}",
                server.persistence.dirty()
            ));
            let persistence = &server.persistence;
            let running = u8::from(persistence.bgsave_running());
            line(format_args!("rdb_bgsave_in_progress:{running}"));
            line(format_args!(
                "rdb_last_save_time:{}",
                persistence.last_save()
            ));
            let status = if persistence.last_bgsave_ok() {
                "ok"
            } else {
                "err"
            };
            line(format_args!("rdb_last_bgsave_status:{status}"));
            line(format_args!("aof_enabled:{aof}"));
            line(format_args!("aof_rewrite_in_progress:0"));
            line(format_args!("aof_rewrite_scheduled:0"));
            line(format_args!("aof_last_bgrewrite_status:ok"));
            line(format_args!("aof_last_write_status:ok"));
        }
        "stats" => {
            line(format_args!("# Stats"));
            line(format_args!(
                "total_connections_received:{}",
                stats.accepted
            ));
            line(format_args!("total_commands_processed:{}", stats.commands));
            line(format_args!("instantaneous_ops_per_sec:0"));
            line(format_args!("rejected_connections:0"));
            line(format_args!(
                "sync_full:{}",
                server.replication.full_syncs()
            ));
            line(format_args!("sync_partial_ok:0"));
            line(format_args!("sync_partial_err:0"));
            let expired: u64 = server.dbs().iter().map(|db| db.expired_count()).sum();
            line(format_args!("expired_keys:{expired}"));
            line(format_args!("evicted_keys:{}", server.stats.evicted()));
            let (hits, misses) = server
                .dbs()
                .iter()
                .map(|db| db.hits_and_misses())
                .fold((0, 0), |(h, m), (h2, m2)| (h + h2, m + m2));
            line(format_args!("keyspace_hits:{hits}"));
            line(format_args!("keyspace_misses:{misses}"));
            let pubsub = &server.hub.pubsub;
            line(format_args!(
                "pubsub_channels:{}",
                pubsub.channel_count(crate::pubsub::Kind::Channel)
            ));
            line(format_args!("pubsub_patterns:{}", pubsub.numpat()));
            line(format_args!(
                "pubsubshard_channels:{}",
                pubsub.channel_count(crate::pubsub::Kind::Shard)
            ));
            // MIGRATE opens a connection per call and keeps none.
            line(format_args!("migrate_cached_sockets:0"));
            let (keys, items, prefixes) = server.hub.tracking.totals();
            line(format_args!("tracking_total_keys:{keys}"));
            line(format_args!("tracking_total_items:{items}"));
            line(format_args!("tracking_total_prefixes:{prefixes}"));
            line(format_args!("unexpected_error_replies:0"));
            line(format_args!("total_error_replies:{}", stats.errors));
        }
        "replication" => {
            line(format_args!("# Replication"));
            match server.replication.master() {
                None => line(format_args!("role:master")),
                Some((host, port)) => {
                    line(format_args!("role:slave"));
                    line(format_args!("master_host:{host}"));
                    line(format_args!("master_port:{port}"));
                    line(format_args!("master_link_status:down"));
                    line(format_args!("master_last_io_seconds_ago:-1"));
                    line(format_args!("master_sync_in_progress:0"));
                    line(format_args!("slave_read_repl_offset:0"));
                    line(format_args!("slave_repl_offset:0"));
                    line(format_args!("master_link_down_since_seconds:-1"));
                    line(format_args!("slave_priority:100"));
                    line(format_args!("slave_read_only:1"));
                    line(format_args!("replica_announced:1"));
                }
            }
            let replication = &server.replication;
            line(format_args!("connected_slaves:{}", replication.replicas()));
            for (i, addr) in replication.replica_addrs().into_iter().enumerate() {
                let offset = replication.offset();
                let ip = addr.map_or_else(|| "?".to_string(), |a| a.ip().to_string());
                line(format_args!(
                    "slave{i}:ip={ip},port=0,state=online,offset={offset},lag=0"
                ));
            }
            line(format_args!("master_failover_state:no-failover"));
            line(format_args!("master_replid:{}", run_id()));
            line(format_args!(
                "master_replid2:0000000000000000000000000000000000000000"
            ));
            line(format_args!(
                "master_repl_offset:{}",
                server.replication.offset()
            ));
            line(format_args!("second_repl_offset:-1"));
            line(format_args!("repl_backlog_active:0"));
        }
        "cpu" => {
            let (user, sys) = cpu_seconds();
            line(format_args!("# CPU"));
            line(format_args!("used_cpu_sys:{sys:.6}"));
            line(format_args!("used_cpu_user:{user:.6}"));
            line(format_args!("used_cpu_sys_children:0.000000"));
            line(format_args!("used_cpu_user_children:0.000000"));
        }
        "modules" => line(format_args!("# Modules")),
        "commandstats" => {
            line(format_args!("# Commandstats"));
            for entry in server.stats.per_command.command_lines() {
                line(format_args!("{entry}"));
            }
        }
        "errorstats" => {
            line(format_args!("# Errorstats"));
            for entry in server.stats.per_command.error_lines() {
                line(format_args!("{entry}"));
            }
        }
        "latencystats" => line(format_args!("# Latencystats")),
        "cluster" => {
            line(format_args!("# Cluster"));
            line(format_args!("cluster_enabled:0"));
        }
        "keyspace" => {
            line(format_args!("# Keyspace"));
            for (index, db) in server.dbs().iter().enumerate() {
                let (keys, expires) = db.counts();
                if keys > 0 {
                    line(format_args!(
                        "db{index}:keys={keys},expires={expires},avg_ttl=0"
                    ));
                }
            }
        }
        _ => {}
    }
}

/// A 40-hex-digit id for this process's run (Redis's `run_id`), stable for its life.
pub(crate) fn run_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let seed = ahash::RandomState::new();
        (0..5u64)
            .map(|i| format!("{:08x}", seed.hash_one(i) as u32))
            .collect()
    })
}

/// User and system CPU seconds of this process, from `/proc/self/stat` (0 elsewhere).
fn cpu_seconds() -> (f64, f64) {
    /// The kernel's clock ticks per second for these fields on Linux.
    const TICKS: f64 = 100.0;
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the command name (which may hold spaces, hence the last ')').
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) / TICKS, tick(12) / TICKS)
}

/// Bytes as Redis's `bytesToHuman` writes them (`1.27M`, `0B`).
fn human(bytes: u64) -> String {
    let b = bytes as f64;
    const K: f64 = 1024.0;
    if b < K {
        format!("{bytes}B")
    } else if b < K * K {
        format!("{:.2}K", b / K)
    } else if b < K * K * K {
        format!("{:.2}M", b / (K * K))
    } else {
        format!("{:.2}G", b / (K * K * K))
    }
}
