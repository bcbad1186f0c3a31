//! The geo commands (Redis 7.0.15's `geo.c`): GEOADD, GEOPOS, GEODIST, GEOHASH, GEORADIUS,
//! GEORADIUSBYMEMBER and their `_RO` forms, GEOSEARCH and GEOSEARCHSTORE.
//!
//! A geo set is a sorted set (type `zset`) whose scores are 52-bit geohashes ([`hash`]); GEOADD
//! is ZADD with computed scores (its event is `zadd`). Replies as Redis writes them:
//! distances as bulk strings with four decimals (`addReplyDoubleDistance`, in RESP3 too),
//! coordinates as the decoded cell centre in Redis's human long double text (`%.17Lf`,
//! trailing zeros cut: a bulk string in RESP2, a `,` double in RESP3). Arguments are parsed in
//! Redis's order, interleaved with the key lookups as Redis does them, so that the first error
//! is Redis's.

pub(crate) mod hash;

use bytes::Bytes;
use respect_resp::Frame;

use super::args::{is_keyword, parse_i64};
use super::collection::read;
use super::context::Ctx;
use super::events::notify;
use super::long_double::LongDouble;
use super::registry::{
    BeginSearch, Categories, Category, Command, Deprecation, Docs, FindKeys, Flag, Flags, KeyFlag,
    KeyFlags, KeyRange, KeySpec, Spec,
};
use super::reply::{not_integer, syntax_error};
use super::watch::signal_modified;
use crate::zset::{parse_score, ZSet};
use hash::{Extent, Point, Shape};

/// This family's commands, with their specs as redis-server 7.0.15's COMMAND INFO and
/// COMMAND DOCS give them (`scripts/registry_specs.py` printed them).
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    Command {
        spec: Spec {
            name: "geoadd",
            arity: -5,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Add one or more geospatial items in the geospatial index represented using a sorted set",
                since: "3.2.0",
                group: "geo",
                complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
                deprecated: None,
                history: &[("6.2.0", "Added the `CH`, `NX` and `XX` options.")],
            },
            subcommands: &[],
        },
        run: geoadd,
    },
    Command {
        spec: Spec {
            name: "geopos",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Returns longitude and latitude of members of a geospatial index",
                since: "3.2.0",
                group: "geo",
                complexity: "O(N) where N is the number of members requested.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: geopos,
    },
    Command {
        spec: Spec {
            name: "geodist",
            arity: -4,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Returns the distance between two members of a geospatial index",
                since: "3.2.0",
                group: "geo",
                complexity: "O(log(N))",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: geodist,
    },
    Command {
        spec: Spec {
            name: "geohash",
            arity: -2,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Returns members of a geospatial index as standard geohash strings",
                since: "3.2.0",
                group: "geo",
                complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        },
        run: geohash,
    },
    Command {
        spec: Spec {
            name: "georadius",
            arity: -6,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Movablekeys]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Keyword { keyword: "STORE", start_from: 6 }, find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Keyword { keyword: "STOREDIST", start_from: 6 }, find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
                since: "3.2.0",
                group: "geo",
                complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument" }),
                history: &[("6.2.0", "Added the `ANY` option for `COUNT`."), ("7.0.0", "Added support for uppercase unit names.")],
            },
            subcommands: &[],
        },
        run: georadius,
    },
    Command {
        spec: Spec {
            name: "georadiusbymember",
            arity: -5,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom, Flag::Movablekeys]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Keyword { keyword: "STORE", start_from: 5 }, find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Keyword { keyword: "STOREDIST", start_from: 5 }, find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
                since: "3.2.0",
                group: "geo",
                complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments" }),
                history: &[("7.0.0", "Added support for uppercase unit names.")],
            },
            subcommands: &[],
        },
        run: georadiusbymember,
    },
    Command {
        spec: Spec {
            name: "georadius_ro",
            arity: -6,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "A read-only variant for GEORADIUS",
                since: "3.2.10",
                group: "geo",
                complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`GEOSEARCH` with the `BYRADIUS` argument" }),
                history: &[("6.2.0", "Added the `ANY` option for `COUNT`.")],
            },
            subcommands: &[],
        },
        run: georadius_ro,
    },
    Command {
        spec: Spec {
            name: "georadiusbymember_ro",
            arity: -5,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "A read-only variant for GEORADIUSBYMEMBER",
                since: "3.2.10",
                group: "geo",
                complexity: "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.",
                deprecated: Some(Deprecation { since: "6.2.0", replaced_by: "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments" }),
                history: &[],
            },
            subcommands: &[],
        },
        run: georadiusbymember_ro,
    },
    Command {
        spec: Spec {
            name: "geosearch",
            arity: -7,
            flags: Flags::of(&[Flag::Readonly]),
            keys: KeyRange { first: 1, last: 1, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Read, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
                since: "6.2.0",
                group: "geo",
                complexity: "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape",
                deprecated: None,
                history: &[("7.0.0", "Added support for uppercase unit names.")],
            },
            subcommands: &[],
        },
        run: geosearch,
    },
    Command {
        spec: Spec {
            name: "geosearchstore",
            arity: -8,
            flags: Flags::of(&[Flag::Write, Flag::Denyoom]),
            keys: KeyRange { first: 1, last: 2, step: 1 },
            key_specs: &[KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]), begin: BeginSearch::Index(1), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }, KeySpec { notes: None, flags: KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]), begin: BeginSearch::Index(2), find: FindKeys::Range { last_key: 0, key_step: 1, limit: 0 } }],
            acl: Categories::of(&[Category::Write, Category::Geo, Category::Slow]),
            tips: &[],
            docs: Docs {
                summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
                since: "6.2.0",
                group: "geo",
                complexity: "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape",
                deprecated: None,
                history: &[("7.0.0", "Added support for uppercase unit names.")],
            },
            subcommands: &[],
        },
        run: geosearchstore,
    },
];

/// `getDoubleFromObjectOrReply`: a double (`strtod` on the whole text), or `-ERR message`
/// (`value is not a valid float` without one).
fn double_arg(text: &[u8], message: &str) -> Result<f64, Frame> {
    parse_score(text).ok_or_else(|| Frame::error(format!("ERR {message}")))
}

/// `extractLongLatOrReply`: a longitude and a latitude, in range.
fn lon_lat(argv: &[Bytes], at: usize) -> Result<[f64; 2], Frame> {
    let text = |i: usize| argv.get(i).map_or(&b""[..], |b| &b[..]);
    let longitude = double_arg(text(at), "value is not a valid float")?;
    let latitude = double_arg(text(at + 1), "value is not a valid float")?;
    if !(hash::LONG_MIN..=hash::LONG_MAX).contains(&longitude)
        || !(hash::LAT_MIN..=hash::LAT_MAX).contains(&latitude)
    {
        return Err(Frame::error(format!(
            "ERR invalid longitude,latitude pair {longitude:.6},{latitude:.6}"
        )));
    }
    Ok([longitude, latitude])
}

/// `extractUnitOrReply`: meters in one `unit` (compared as a C string: a NUL ends it).
fn unit(text: &[u8]) -> Result<f64, Frame> {
    let text = text.split(|&b| b == 0).next().unwrap_or_default();
    match () {
        _ if text.eq_ignore_ascii_case(b"m") => Ok(1.0),
        _ if text.eq_ignore_ascii_case(b"km") => Ok(1000.0),
        _ if text.eq_ignore_ascii_case(b"ft") => Ok(0.3048),
        _ if text.eq_ignore_ascii_case(b"mi") => Ok(1609.34),
        _ => Err(Frame::error(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        )),
    }
}

/// `extractDistanceOrReply`: `radius unit` as (radius, meters in a unit).
fn radius_arg(argv: &[Bytes], at: usize) -> Result<(f64, f64), Frame> {
    let text = |i: usize| argv.get(i).map_or(&b""[..], |b| &b[..]);
    let radius = double_arg(text(at), "need numeric radius")?;
    if radius < 0.0 {
        return Err(Frame::error("ERR radius cannot be negative"));
    }
    Ok((radius, unit(text(at + 1))?))
}

/// `extractBoxOrReply`: `width height unit` as (width, height, meters in a unit).
fn box_arg(argv: &[Bytes], at: usize) -> Result<(f64, f64, f64), Frame> {
    let text = |i: usize| argv.get(i).map_or(&b""[..], |b| &b[..]);
    let width = double_arg(text(at), "need numeric width")?;
    let height = double_arg(text(at + 1), "need numeric height")?;
    if height < 0.0 || width < 0.0 {
        return Err(Frame::error("ERR height or width cannot be negative"));
    }
    Ok((width, height, unit(text(at + 2))?))
}

/// `longLatFromMember`: the centre of the cell `member` is stored in.
fn member_xy(set: &ZSet, member: &[u8]) -> Result<[f64; 2], Frame> {
    set.score(member)
        .map(hash::decode_score)
        .ok_or_else(|| Frame::error("ERR could not decode requested zset member"))
}

/// `addReplyDoubleDistance`: a bulk string with four decimals (`fixedpoint_d2string`: the
/// value times 10^4 rounded half to even, in every protocol).
fn distance_reply(d: f64) -> Frame {
    Frame::Bulk(Bytes::from(fixed4(d)))
}

fn fixed4(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_string();
    }
    let scaled = hash::c_i64((d * 10000.0).round_ties_even());
    let sign = if scaled < 0 { "-" } else { "" };
    let value = scaled.unsigned_abs();
    format!("{sign}{}.{:04}", value / 10000, value % 10000)
}

/// `addReplyHumanLongDouble`: a coordinate as Redis's human long double text, a bulk string in
/// RESP2 and a double in RESP3.
fn coordinate(resp3: bool, v: f64) -> Frame {
    let text = Bytes::from(LongDouble::from_f64(v).to_human());
    if resp3 {
        Frame::DoubleText(text)
    } else {
        Frame::Bulk(text)
    }
}

/// `GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]`: ZADD
/// with the members' geohashes as scores.
fn geoadd(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut at = 2;
    while let Some(option) = argv.get(at) {
        match () {
            _ if is_keyword(option, "NX") => nx = true,
            _ if is_keyword(option, "XX") => xx = true,
            _ if is_keyword(option, "CH") => ch = true,
            _ => break,
        }
        at += 1;
    }
    let rest = argv.get(at..).unwrap_or_default();
    if rest.len() % 3 != 0 || (xx && nx) {
        return syntax_error();
    }
    let mut pairs = Vec::with_capacity(rest.len() / 3);
    for triple in rest.chunks_exact(3) {
        let [longitude, latitude] = match lon_lat(triple, 0) {
            Ok(xy) => xy,
            Err(error) => return error,
        };
        let score = hash::score_of(longitude, latitude).unwrap_or(0);
        let member = triple.get(2).cloned().unwrap_or_default();
        pairs.push((score as f64, member));
    }
    let key = argv.get(1).cloned().unwrap_or_default();
    super::zsets::geo_add(ctx, &key, nx, xx, ch, &pairs)
}

/// `GEOPOS key [member ...]`: each member's position (the centre of its cell), or a null.
fn geopos(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let members = argv.get(2..).unwrap_or_default();
    let resp3 = ctx.resp3();
    let null = ctx.null_array();
    let found = read::<ZSet, _>(ctx, &key, |set| {
        members
            .iter()
            .map(|m| match set.as_ref().and_then(|s| s.score(m)) {
                Some(score) => {
                    let [longitude, latitude] = hash::decode_score(score);
                    Frame::Array(vec![
                        coordinate(resp3, longitude),
                        coordinate(resp3, latitude),
                    ])
                }
                None => null.clone(),
            })
            .collect()
    });
    match found {
        Ok(items) => Frame::Array(items),
        Err(error) => error,
    }
}

/// `GEOHASH key [member ...]`: each member's 11-character standard geohash, or a null.
fn geohash(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let key = argv.get(1).cloned().unwrap_or_default();
    let members = argv.get(2..).unwrap_or_default();
    let found = read::<ZSet, _>(ctx, &key, |set| {
        members
            .iter()
            .map(|m| match set.as_ref().and_then(|s| s.score(m)) {
                Some(score) => Frame::Bulk(Bytes::copy_from_slice(&hash::geohash_string(score))),
                None => Frame::Null,
            })
            .collect()
    });
    match found {
        Ok(items) => Frame::Array(items),
        Err(error) => error,
    }
}

/// `GEODIST key member1 member2 [M|KM|FT|MI]`: the distance, or a null when a member (or the
/// key) is missing. The unit is checked before the key, as Redis does.
fn geodist(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let to_meters = match argv.len() {
        5 => match unit(argv.get(4).map_or(&b""[..], |b| &b[..])) {
            Ok(to_meters) => to_meters,
            Err(error) => return error,
        },
        0..=4 => 1.0,
        _ => return syntax_error(),
    };
    let key = argv.get(1).cloned().unwrap_or_default();
    let (a, b) = (
        argv.get(2).cloned().unwrap_or_default(),
        argv.get(3).cloned().unwrap_or_default(),
    );
    let found = read::<ZSet, _>(ctx, &key, |set| {
        let set = set?;
        Some((set.score(&a)?, set.score(&b)?))
    });
    match found {
        Ok(Some((s1, s2))) => {
            let [x1, y1] = hash::decode_score(s1);
            let [x2, y2] = hash::decode_score(s2);
            distance_reply(hash::distance(x1, y1, x2, y2) / to_meters)
        }
        Ok(None) => Frame::Null,
        Err(error) => error,
    }
}

/// Which command of the GEORADIUS family runs (Redis's `RADIUS_*` and `GEOSEARCH*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS: `key longitude latitude radius unit`.
    Coords,
    /// GEORADIUSBYMEMBER: `key member radius unit`.
    Member,
    /// GEOSEARCH: FROMMEMBER/FROMLONLAT and BYRADIUS/BYBOX options.
    Search,
    /// GEOSEARCHSTORE: GEOSEARCH's options, a destination first and STOREDIST.
    SearchStore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// How two points are ordered (ASC or DESC).
type PointOrder<'a> = dyn Fn(&Point, &Point) -> std::cmp::Ordering + 'a;

/// What a search was asked for, once its arguments are read.
struct Query {
    store: Option<Bytes>,
    storedist: bool,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    sort: Sort,
    any: bool,
    /// 0: no COUNT.
    count: usize,
    shape: Shape,
}

/// Reads GEORADIUS's, GEORADIUSBYMEMBER's or GEOSEARCH's arguments against the source set
/// (`None`: missing key), in Redis's order, and searches it: the query and the points found
/// (`None` when the key is missing), sorted and cut to COUNT.
fn query(
    argv: &[Bytes],
    kind: Kind,
    nostore: bool,
    set: Option<&ZSet>,
) -> Result<(Query, Option<Vec<Point>>), Frame> {
    let text = |i: usize| argv.get(i).map_or(&b""[..], |b| &b[..]);
    let mut q = Query {
        store: None,
        storedist: false,
        withdist: false,
        withhash: false,
        withcoord: false,
        sort: Sort::None,
        any: false,
        count: 0,
        shape: Shape {
            xy: [0.0, 0.0],
            extent: Extent::Radius(0.0),
            conversion: 0.0,
        },
    };
    let search = matches!(kind, Kind::Search | Kind::SearchStore);
    let base = match (kind, set) {
        (Kind::Coords, _) => {
            q.shape.xy = lon_lat(argv, 2)?;
            let (radius, conversion) = radius_arg(argv, 4)?;
            q.shape.extent = Extent::Radius(radius);
            q.shape.conversion = conversion;
            6
        }
        (Kind::Member, None) => 5,
        (Kind::Member, Some(set)) => {
            q.shape.xy = member_xy(set, text(2))?;
            let (radius, conversion) = radius_arg(argv, 3)?;
            q.shape.extent = Extent::Radius(radius);
            q.shape.conversion = conversion;
            5
        }
        (Kind::Search, _) => 2,
        (Kind::SearchStore, _) => {
            q.store = argv.get(1).cloned();
            3
        }
    };
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let remaining = argv.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let arg = text(base + i);
        let word = |w: &str| arg.eq_ignore_ascii_case(w.as_bytes());
        if word("withdist") {
            q.withdist = true;
        } else if word("withhash") {
            q.withhash = true;
        } else if word("withcoord") {
            q.withcoord = true;
        } else if word("any") {
            q.any = true;
        } else if word("asc") {
            q.sort = Sort::Asc;
        } else if word("desc") {
            q.sort = Sort::Desc;
        } else if word("count") && i + 1 < remaining {
            let count = parse_i64(text(base + i + 1)).ok_or_else(not_integer)?;
            if count <= 0 {
                return Err(Frame::error("ERR COUNT must be > 0"));
            }
            q.count = usize::try_from(count).unwrap_or(usize::MAX);
            i += 1;
        } else if (word("store") || word("storedist")) && i + 1 < remaining && !nostore && !search {
            q.store = argv.get(base + i + 1).cloned();
            q.storedist = word("storedist");
            i += 1;
        } else if word("storedist") && kind == Kind::SearchStore {
            q.storedist = true;
        } else if word("frommember") && i + 1 < remaining && search && !fromloc {
            if let Some(set) = set {
                q.shape.xy = member_xy(set, text(base + i + 1))?;
            }
            frommember = true;
            i += 1;
        } else if word("fromlonlat") && i + 2 < remaining && search && !frommember {
            q.shape.xy = lon_lat(argv, base + i + 1)?;
            fromloc = true;
            i += 2;
        } else if word("byradius") && i + 2 < remaining && search && !bybox {
            let (radius, conversion) = radius_arg(argv, base + i + 1)?;
            q.shape.extent = Extent::Radius(radius);
            q.shape.conversion = conversion;
            byradius = true;
            i += 2;
        } else if word("bybox") && i + 3 < remaining && search && !byradius {
            let (width, height, conversion) = box_arg(argv, base + i + 1)?;
            q.shape.extent = Extent::Box { width, height };
            q.shape.conversion = conversion;
            bybox = true;
            i += 3;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    if q.store.is_some() && (q.withdist || q.withhash || q.withcoord) {
        let which = if kind == Kind::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(Frame::error(format!(
            "ERR {which} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(text(0));
    if search && !(frommember || fromloc) {
        return Err(Frame::error(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if search && !(byradius || bybox) {
        return Err(Frame::error(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if q.any && q.count == 0 {
        return Err(Frame::error("ERR the ANY argument requires COUNT argument"));
    }
    let Some(set) = set else {
        return Ok((q, None));
    };
    if q.count != 0 && q.sort == Sort::None && !q.any {
        q.sort = Sort::Asc;
    }
    let mut points = hash::search(set, &q.shape, if q.any { q.count } else { 0 });
    let found = points.len();
    let returned = if q.count == 0 || found < q.count {
        found
    } else {
        q.count
    };
    // Redis's comparator: greater, equal, else less (qsort, which glibc's merge sort makes
    // stable; `pqsort` when COUNT keeps fewer than all).
    let ascending = |a: &Point, b: &Point| {
        if a.dist > b.dist {
            std::cmp::Ordering::Greater
        } else if a.dist == b.dist {
            std::cmp::Ordering::Equal
        } else {
            std::cmp::Ordering::Less
        }
    };
    let order: Option<&PointOrder<'_>> = match q.sort {
        Sort::None => None,
        Sort::Asc => Some(&ascending),
        Sort::Desc => Some(&|a: &Point, b: &Point| ascending(a, b).reverse()),
    };
    if let Some(order) = order {
        if returned == found {
            points.sort_by(order);
        } else if returned > 0 {
            super::sort::partial_sort(&mut points, 0, returned - 1, order);
        }
    }
    points.truncate(returned);
    for point in &mut points {
        point.dist /= q.shape.conversion;
    }
    Ok((q, Some(points)))
}

/// The GEORADIUS family: search the set at `argv[src]`, then reply or store.
fn radius_generic(
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
    src: usize,
    kind: Kind,
    nostore: bool,
) -> Frame {
    let key = argv.get(src).cloned().unwrap_or_default();
    let searched = read::<ZSet, _>(ctx, &key, |set| query(argv, kind, nostore, set.as_deref()));
    let (q, points) = match searched {
        Ok(Ok(found)) => found,
        Ok(Err(error)) | Err(error) => return error,
    };
    let event = if matches!(kind, Kind::Search | Kind::SearchStore) {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    match (q.store, points) {
        (Some(dst), points) => {
            let mut result = ZSet::new();
            for p in points.unwrap_or_default() {
                let score = if q.storedist { p.dist } else { p.score };
                result.insert(p.member, score);
            }
            result.settle_encoding();
            store(ctx, &dst, result, event)
        }
        (None, None) => Frame::Array(Vec::new()),
        (None, Some(points)) => {
            let resp3 = ctx.resp3();
            let extras =
                usize::from(q.withdist) + usize::from(q.withhash) + usize::from(q.withcoord);
            let items = points
                .into_iter()
                .map(|p| {
                    if extras == 0 {
                        return Frame::Bulk(p.member);
                    }
                    let mut item = Vec::with_capacity(extras + 1);
                    item.push(Frame::Bulk(p.member));
                    if q.withdist {
                        item.push(distance_reply(p.dist));
                    }
                    if q.withhash {
                        item.push(Frame::Integer(hash::c_i64(p.score)));
                    }
                    if q.withcoord {
                        item.push(Frame::Array(vec![
                            coordinate(resp3, p.xy[0]),
                            coordinate(resp3, p.xy[1]),
                        ]));
                    }
                    Frame::Array(item)
                })
                .collect();
            Frame::Array(items)
        }
    }
}

/// Stores a search's result at `dst` as Redis's `georadiusGeneric` does: the set (event
/// `event`) or, when nothing was found, the deletion of `dst` (event `del`, only if it
/// existed); WATCH and tracking are told either way the key changed. Replies the count.
fn store(ctx: &mut Ctx<'_>, dst: &Bytes, result: ZSet, event: &str) -> Frame {
    let len = result.len();
    let now = ctx.now;
    let db = ctx.state.db_index;
    if len == 0 {
        let deleted = ctx.db.shard(dst).remove(dst, now).is_some();
        if deleted {
            signal_modified(ctx, db, dst);
            notify(ctx, crate::notify::GENERIC, "del", dst);
        }
        return Frame::Integer(0);
    }
    ctx.db.shard(dst).insert(
        dst.clone(),
        crate::db::Entry::new(crate::db::Value::ZSet(result)),
        now,
    );
    signal_modified(ctx, db, dst);
    notify(ctx, crate::notify::ZSET, event, dst);
    super::events::signal_created(ctx, dst);
    Frame::Integer(i64::try_from(len).unwrap_or(i64::MAX))
}

/// Whether a GEORADIUS or GEORADIUSBYMEMBER may STORE (an argument after the fixed ones is
/// STORE or STOREDIST, any case): such a command runs under the server's gate exclusively.
pub(crate) fn stores(argv: &[Bytes]) -> bool {
    argv.iter()
        .skip(4)
        .any(|a| is_keyword(a, "STORE") || is_keyword(a, "STOREDIST"))
}

/// `GEORADIUS key longitude latitude radius unit [options]`.
fn georadius(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    radius_generic(ctx, argv, 1, Kind::Coords, false)
}

/// `GEORADIUSBYMEMBER key member radius unit [options]`.
fn georadiusbymember(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    radius_generic(ctx, argv, 1, Kind::Member, false)
}

/// `GEORADIUS_RO`: GEORADIUS without STORE.
fn georadius_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    radius_generic(ctx, argv, 1, Kind::Coords, true)
}

/// `GEORADIUSBYMEMBER_RO`: GEORADIUSBYMEMBER without STORE.
fn georadiusbymember_ro(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    radius_generic(ctx, argv, 1, Kind::Member, true)
}

/// `GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [options]`.
fn geosearch(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    radius_generic(ctx, argv, 1, Kind::Search, false)
}

/// `GEOSEARCHSTORE destination source ... [STOREDIST]`.
fn geosearchstore(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    radius_generic(ctx, argv, 2, Kind::SearchStore, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_have_four_decimals_rounded_half_to_even() {
        assert_eq!(fixed4(0.0), "0.0000");
        assert_eq!(fixed4(166274.1516), "166274.1516");
        assert_eq!(fixed4(0.00004), "0.0000");
        assert_eq!(fixed4(-1.5), "-1.5000");
    }
}
