//! The command registry: every command's metadata as Redis 7.0 describes it in `COMMAND INFO`
//! and `COMMAND DOCS`, next to its handler, one static table per family file.
//!
//! The metadata ([`Spec`]) is public: the conformance harness reads key positions from it (one
//! source of truth for "which arguments are keys"), and `COMMAND` replies are written from it.
//! Handlers stay private to the crate ([`Command`] pairs a spec with one).
//!
//! The Redis flavor's entries were taken from a real redis-server 7.0.15 (`COMMAND INFO`,
//! `COMMAND DOCS`); `tests/server_command_table.rs` compares them with one on every run.
//! The seed flavor's table ([`super::seed`]) uses the same [`Spec`], with the few fields
//! simpledb has a notion of (name, key positions, `no_auth`).

use std::collections::HashMap;

use bytes::Bytes;
use respect_resp::Frame;

use super::context::Ctx;

/// One command flag, as `COMMAND INFO` spells it. The declaration order is the order Redis
/// lists them in (its `addReplyCommandFlags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant is the Redis flag of the same name.
pub enum Flag {
    Write,
    Readonly,
    Denyoom,
    Module,
    Admin,
    Pubsub,
    Noscript,
    Blocking,
    Loading,
    Stale,
    SkipMonitor,
    SkipSlowlog,
    Asking,
    Fast,
    NoAuth,
    MayReplicate,
    NoMandatoryKeys,
    NoAsyncLoading,
    NoMulti,
    Movablekeys,
    AllowBusy,
}

impl Flag {
    /// Every flag, in Redis's order.
    pub const ALL: [Flag; 21] = [
        Flag::Write,
        Flag::Readonly,
        Flag::Denyoom,
        Flag::Module,
        Flag::Admin,
        Flag::Pubsub,
        Flag::Noscript,
        Flag::Blocking,
        Flag::Loading,
        Flag::Stale,
        Flag::SkipMonitor,
        Flag::SkipSlowlog,
        Flag::Asking,
        Flag::Fast,
        Flag::NoAuth,
        Flag::MayReplicate,
        Flag::NoMandatoryKeys,
        Flag::NoAsyncLoading,
        Flag::NoMulti,
        Flag::Movablekeys,
        Flag::AllowBusy,
    ];

    /// The word `COMMAND INFO` shows.
    pub const fn name(self) -> &'static str {
        match self {
            Flag::Write => "write",
            Flag::Readonly => "readonly",
            Flag::Denyoom => "denyoom",
            Flag::Module => "module",
            Flag::Admin => "admin",
            Flag::Pubsub => "pubsub",
            Flag::Noscript => "noscript",
            Flag::Blocking => "blocking",
            Flag::Loading => "loading",
            Flag::Stale => "stale",
            Flag::SkipMonitor => "skip_monitor",
            Flag::SkipSlowlog => "skip_slowlog",
            Flag::Asking => "asking",
            Flag::Fast => "fast",
            Flag::NoAuth => "no_auth",
            Flag::MayReplicate => "may_replicate",
            Flag::NoMandatoryKeys => "no_mandatory_keys",
            Flag::NoAsyncLoading => "no_async_loading",
            Flag::NoMulti => "no_multi",
            Flag::Movablekeys => "movablekeys",
            Flag::AllowBusy => "allow_busy",
        }
    }
}

/// A set of [`Flag`]s (a bitset: checking one is a mask test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(u32);

impl Flags {
    /// The set holding `flags`.
    pub const fn of(flags: &[Flag]) -> Flags {
        let mut bits = 0;
        let mut i = 0;
        while i < flags.len() {
            bits |= 1 << flags[i] as u32;
            i += 1;
        }
        Flags(bits)
    }

    /// Whether `flag` is in the set.
    pub const fn contains(self, flag: Flag) -> bool {
        self.0 & (1 << flag as u32) != 0
    }

    /// The set with `flag` added.
    pub const fn with(self, flag: Flag) -> Flags {
        Flags(self.0 | 1 << flag as u32)
    }

    /// The set with `flag` removed.
    pub const fn without(self, flag: Flag) -> Flags {
        Flags(self.0 & !(1 << flag as u32))
    }

    /// The flags in the set, in Redis's order.
    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

/// One ACL category, as `COMMAND INFO` spells it without the `@`. Declaration order is
/// Redis's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant is the Redis ACL category of the same name.
pub enum Category {
    Keyspace,
    Read,
    Write,
    Set,
    Sortedset,
    List,
    Hash,
    String,
    Bitmap,
    Hyperloglog,
    Geo,
    Stream,
    Pubsub,
    Admin,
    Fast,
    Slow,
    Blocking,
    Dangerous,
    Connection,
    Transaction,
    Scripting,
}

impl Category {
    /// Every category, in Redis's order.
    pub const ALL: [Category; 21] = [
        Category::Keyspace,
        Category::Read,
        Category::Write,
        Category::Set,
        Category::Sortedset,
        Category::List,
        Category::Hash,
        Category::String,
        Category::Bitmap,
        Category::Hyperloglog,
        Category::Geo,
        Category::Stream,
        Category::Pubsub,
        Category::Admin,
        Category::Fast,
        Category::Slow,
        Category::Blocking,
        Category::Dangerous,
        Category::Connection,
        Category::Transaction,
        Category::Scripting,
    ];

    /// The name with its `@`, as `COMMAND INFO` shows it.
    pub const fn name(self) -> &'static str {
        match self {
            Category::Keyspace => "@keyspace",
            Category::Read => "@read",
            Category::Write => "@write",
            Category::Set => "@set",
            Category::Sortedset => "@sortedset",
            Category::List => "@list",
            Category::Hash => "@hash",
            Category::String => "@string",
            Category::Bitmap => "@bitmap",
            Category::Hyperloglog => "@hyperloglog",
            Category::Geo => "@geo",
            Category::Stream => "@stream",
            Category::Pubsub => "@pubsub",
            Category::Admin => "@admin",
            Category::Fast => "@fast",
            Category::Slow => "@slow",
            Category::Blocking => "@blocking",
            Category::Dangerous => "@dangerous",
            Category::Connection => "@connection",
            Category::Transaction => "@transaction",
            Category::Scripting => "@scripting",
        }
    }
}

/// A set of [`Category`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Categories(u32);

impl Categories {
    /// The set holding `categories`.
    pub const fn of(categories: &[Category]) -> Categories {
        let mut bits = 0;
        let mut i = 0;
        while i < categories.len() {
            bits |= 1 << categories[i] as u32;
            i += 1;
        }
        Categories(bits)
    }

    /// Whether `category` is in the set.
    pub const fn contains(self, category: Category) -> bool {
        self.0 & (1 << category as u32) != 0
    }

    /// The categories in the set, in Redis's order.
    pub fn iter(self) -> impl Iterator<Item = Category> {
        Category::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

/// A key spec's flags (Redis 7's `RO`, `RW`, `access`, ...). Declaration order is Redis's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant is the Redis key-spec flag of the same name.
pub enum KeyFlag {
    Ro,
    Rw,
    Ow,
    Rm,
    Access,
    Update,
    Insert,
    Delete,
    NotKey,
    Incomplete,
    VariableFlags,
}

impl KeyFlag {
    /// Every key flag, in Redis's order.
    pub const ALL: [KeyFlag; 11] = [
        KeyFlag::Ro,
        KeyFlag::Rw,
        KeyFlag::Ow,
        KeyFlag::Rm,
        KeyFlag::Access,
        KeyFlag::Update,
        KeyFlag::Insert,
        KeyFlag::Delete,
        KeyFlag::NotKey,
        KeyFlag::Incomplete,
        KeyFlag::VariableFlags,
    ];

    /// The word `COMMAND INFO` shows.
    pub const fn name(self) -> &'static str {
        match self {
            KeyFlag::Ro => "RO",
            KeyFlag::Rw => "RW",
            KeyFlag::Ow => "OW",
            KeyFlag::Rm => "RM",
            KeyFlag::Access => "access",
            KeyFlag::Update => "update",
            KeyFlag::Insert => "insert",
            KeyFlag::Delete => "delete",
            KeyFlag::NotKey => "not_key",
            KeyFlag::Incomplete => "incomplete",
            KeyFlag::VariableFlags => "variable_flags",
        }
    }
}

/// A set of [`KeyFlag`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyFlags(u16);

impl KeyFlags {
    /// The set holding `flags`.
    pub const fn of(flags: &[KeyFlag]) -> KeyFlags {
        let mut bits = 0;
        let mut i = 0;
        while i < flags.len() {
            bits |= 1 << flags[i] as u16;
            i += 1;
        }
        KeyFlags(bits)
    }

    /// Whether `flag` is in the set.
    pub const fn contains(self, flag: KeyFlag) -> bool {
        self.0 & (1 << flag as u16) != 0
    }

    /// The flags in the set, in Redis's order.
    pub fn iter(self) -> impl Iterator<Item = KeyFlag> {
        KeyFlag::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

/// Where the search for a key spec's keys starts (Redis 7 `begin_search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument index (the command name is index 0).
    Index(i32),
    /// After the argument equal to `keyword`, searched from `start_from` (negative: from the
    /// end, backwards).
    Keyword {
        /// The keyword, any case.
        keyword: &'static str,
        /// Where the search starts.
        start_from: i32,
    },
    /// Redis's `unknown`: the keys cannot be found from the spec (SORT's STORE, which may
    /// come anywhere; its BY and GET patterns, which name keys by the sorted elements).
    Unknown,
}

/// How the keys are found from where the search began (Redis 7 `find_keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys every `key_step` arguments up to `last_key` (relative to the start; negative
    /// counts from the end: -1 is the last argument); `limit` > 1 stops at 1/limit of the
    /// remaining arguments.
    Range {
        /// The last key, relative to the start (0: only the first).
        last_key: i32,
        /// The step between keys.
        key_step: i32,
        /// 0 or 1: no limit.
        limit: i32,
    },
    /// The number of keys is the argument at `key_num_index` (relative to the start); the
    /// keys begin at `first_key` (relative) and come every `key_step` arguments.
    KeyNum {
        /// Where the count is.
        key_num_index: i32,
        /// Where the first key is.
        first_key: i32,
        /// The step between keys.
        key_step: i32,
    },
    /// Not Redis's: the argument at the start is one dict whose keys are the keys (the seed
    /// dialect's `MSET {k: v, ...}`). `COMMAND INFO` never shows it.
    DictKeys,
    /// Redis's `unknown`, with [`BeginSearch::Unknown`]: the command's own key finder
    /// (`unknown_keys`) says where the keys are.
    Unknown,
}

/// One Redis 7 key spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Redis's note, when it has one.
    pub notes: Option<&'static str>,
    /// What the command does with the keys.
    pub flags: KeyFlags,
    /// Where the search starts.
    pub begin: BeginSearch,
    /// How the keys are found.
    pub find: FindKeys,
}

/// The legacy key positions `COMMAND INFO` shows as first/last/step (1-based argument
/// indexes; last -1 is the last argument; all 0: no keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange {
    /// First key's index.
    pub first: i32,
    /// Last key's index (negative: from the end).
    pub last: i32,
    /// Step between keys.
    pub step: i32,
}

impl KeyRange {
    /// No keys.
    pub const NONE: KeyRange = KeyRange {
        first: 0,
        last: 0,
        step: 0,
    };
    /// The first argument only.
    pub const FIRST: KeyRange = KeyRange {
        first: 1,
        last: 1,
        step: 1,
    };
    /// Every argument.
    pub const ALL: KeyRange = KeyRange {
        first: 1,
        last: -1,
        step: 1,
    };
}

/// A deprecated command's notice in `COMMAND DOCS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    /// The version it was deprecated in.
    pub since: &'static str,
    /// What to use instead.
    pub replaced_by: &'static str,
}

/// What `COMMAND DOCS` says about a command (the argument tree is not held: see
/// `server`'s `COMMAND DOCS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Docs {
    /// One line.
    pub summary: &'static str,
    /// First version with it.
    pub since: &'static str,
    /// Its group (`string`, `hash`, `connection`, ...).
    pub group: &'static str,
    /// Time complexity.
    pub complexity: &'static str,
    /// Set for a deprecated command.
    pub deprecated: Option<Deprecation>,
    /// (version, change) pairs.
    pub history: &'static [(&'static str, &'static str)],
}

/// One command's metadata: everything `COMMAND INFO` and `COMMAND DOCS` report, and where its
/// keys are. No handler: this is the public face of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Lowercase name, as Redis spells it in errors (`client|id` for a subcommand).
    pub name: &'static str,
    /// Arity in Redis's convention: N, exactly N arguments including the name; -N, at least N.
    pub arity: i32,
    /// Flags.
    pub flags: Flags,
    /// Legacy first/last/step key positions.
    pub keys: KeyRange,
    /// Redis 7 key specs (what the harness reads).
    pub key_specs: &'static [KeySpec],
    /// ACL categories.
    pub acl: Categories,
    /// Command tips (`nondeterministic_output`, `request_policy:all_shards`, ...).
    pub tips: &'static [&'static str],
    /// `COMMAND DOCS`.
    pub docs: Docs,
    /// The subcommands we implement (`client|id`, ...).
    pub subcommands: &'static [Spec],
}

impl Spec {
    /// Whether `argc` arguments (the name included) satisfy the arity.
    pub const fn arity_accepts(&self, argc: usize) -> bool {
        let arity = self.arity as i64;
        let argc = argc as i64;
        (arity > 0 && argc == arity) || (arity < 0 && argc >= -arity)
    }

    /// The indexes of the keys in `args` (the command name is index 0), found by the key
    /// specs as Redis's `getKeysUsingKeySpecs` does; for [`FindKeys::DictKeys`], the index of
    /// the dict argument. `args` holds each argument's bytes (empty for a typed value).
    /// Keys past the end of `args` are not reported.
    pub fn key_positions(&self, args: &[&[u8]]) -> Vec<usize> {
        self.keys_with_flags(args)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }

    /// [`Spec::key_positions`] with each key's flags: those of the key spec that found it
    /// (for SORT's STORE, `OW update`; for its sorted key, `RO access`, as Redis's
    /// `sortGetKeys` gives them). The ACL checks read and write access from them.
    ///
    /// A spec whose keys run past the arguments (EVAL's `numkeys` larger than what follows)
    /// makes the command name no key at all, as Redis's `getKeysUsingKeySpecs` gives up and
    /// the command's own finder (`evalGetKeys`, `zunionInterDiffGetKeys`...) finds none.
    pub fn keys_with_flags<A: AsRef<[u8]>>(&self, args: &[A]) -> Vec<(usize, KeyFlags)> {
        let argc = args.len();
        let mut found = Vec::new();
        // An `unknown` or `incomplete` spec: Redis falls back on the command's own finder.
        if self
            .key_specs
            .iter()
            .any(|s| s.begin == BeginSearch::Unknown || s.flags.contains(KeyFlag::Incomplete))
        {
            return unknown_keys(self.name, args);
        }
        for spec in self.key_specs {
            let Some(first) = begin_index(spec.begin, args) else {
                continue;
            };
            let flags = if spec.flags.contains(KeyFlag::VariableFlags) {
                variable_flags(self.name, args).unwrap_or(spec.flags)
            } else {
                spec.flags
            };
            match spec.find {
                FindKeys::Range {
                    last_key,
                    key_step,
                    limit,
                } => {
                    let last = if last_key >= 0 {
                        first.saturating_add(last_key as usize)
                    } else if limit <= 1 {
                        argc.saturating_sub(last_key.unsigned_abs() as usize)
                    } else {
                        let share = argc.saturating_sub(first) / limit as usize;
                        (first + share).saturating_sub(last_key.unsigned_abs() as usize)
                    };
                    let step = usize::try_from(key_step.max(1)).unwrap_or(1);
                    if last >= argc || last < first {
                        return Vec::new();
                    }
                    found.extend((first..=last).step_by(step).map(|i| (i, flags)));
                }
                FindKeys::KeyNum {
                    key_num_index,
                    first_key,
                    key_step,
                } => {
                    let count = args
                        .get(first + key_num_index as usize)
                        .and_then(|n| std::str::from_utf8(n.as_ref()).ok())
                        .and_then(|n| n.parse::<usize>().ok())
                        .unwrap_or(0);
                    let step = usize::try_from(key_step.max(1)).unwrap_or(1);
                    let start = first + first_key as usize;
                    let last = count
                        .checked_sub(1)
                        .and_then(|c| c.checked_mul(step))
                        .and_then(|span| start.checked_add(span));
                    match last {
                        Some(last) if last < argc => {}
                        _ => return Vec::new(),
                    }
                    found.extend((start..argc).step_by(step).take(count).map(|i| (i, flags)));
                }
                FindKeys::DictKeys => {
                    if first < argc {
                        found.push((first, flags));
                    }
                }
                FindKeys::Unknown => {}
            }
        }
        found
    }
}

/// The keys of a command whose key specs include an `unknown` one, found as Redis's
/// `getkeys_proc` for it finds them. SORT (`sortGetKeys`): the sorted key, and the argument
/// after the last `STORE` (any case) that has one, skipping LIMIT's two arguments and BY's
/// and GET's one. SORT_RO (`sortROGetKeys`): the sorted key. The keys BY and GET patterns
/// name are not reported, as Redis does not.
fn unknown_keys<A: AsRef<[u8]>>(name: &str, args: &[A]) -> Vec<(usize, KeyFlags)> {
    const SORTED: KeyFlags = KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access]);
    const STORED: KeyFlags = KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update]);
    match name {
        "sort_ro" => (args.len() > 1)
            .then_some((1, SORTED))
            .into_iter()
            .collect(),
        "sort" => {
            let mut found = vec![(1, SORTED)];
            let mut store = None;
            let mut i = 2;
            while i < args.len() {
                let arg = args.get(i).map(|a| a.as_ref()).unwrap_or_default();
                if arg.eq_ignore_ascii_case(b"limit") {
                    i += 2;
                } else if arg.eq_ignore_ascii_case(b"get") || arg.eq_ignore_ascii_case(b"by") {
                    i += 1;
                } else if arg.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
                    store = Some((i + 1, STORED));
                }
                i += 1;
            }
            found.extend(store);
            found.retain(|&(i, _)| i < args.len());
            found
        }
        "migrate" => migrate_keys(args),
        _ => Vec::new(),
    }
}

/// MIGRATE's keys (Redis's `migrateGetKeys`): the key argument, or with `KEYS` (found after
/// the options, skipping AUTH's and AUTH2's values) every argument after it, and none when
/// the key argument is not empty then (a syntax error MIGRATE reports).
fn migrate_keys<A: AsRef<[u8]>>(args: &[A]) -> Vec<(usize, KeyFlags)> {
    const MIGRATED: KeyFlags = KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Delete]);
    let arg = |i: usize| args.get(i).map(|a| a.as_ref()).unwrap_or_default();
    let (mut first, mut count) = (3, 1);
    let mut i = 6;
    while i < args.len() {
        let word = arg(i);
        if word.eq_ignore_ascii_case(b"keys") {
            if arg(3).is_empty() {
                first = i + 1;
                count = args.len() - first;
            } else {
                count = 0;
            }
            break;
        }
        if word.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if word.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    (first..first + count)
        .filter(|&i| i < args.len())
        .map(|i| (i, MIGRATED))
        .collect()
}

/// The flags of the key of a command whose key spec says `variable_flags`, as Redis's
/// `setGetKeys` and `bitfieldGetKeys` give them: SET reads its key only with GET, BITFIELD
/// writes it only with SET or INCRBY (or arguments it cannot parse).
fn variable_flags<A: AsRef<[u8]>>(name: &str, args: &[A]) -> Option<KeyFlags> {
    const READ_WRITE: KeyFlags = KeyFlags::of(&[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update]);
    let arg = |i: usize| args.get(i).map(|a| a.as_ref()).unwrap_or_default();
    match name {
        "set" => {
            let get = (3..args.len()).any(|i| arg(i).eq_ignore_ascii_case(b"get"));
            Some(if get {
                READ_WRITE
            } else {
                KeyFlags::of(&[KeyFlag::Ow, KeyFlag::Update])
            })
        }
        "bitfield" => {
            let mut i = 2;
            let mut read_only = true;
            while i < args.len() {
                let left = args.len() - i - 1;
                let word = arg(i);
                if word.eq_ignore_ascii_case(b"get") && left >= 2 {
                    i += 3;
                } else if word.eq_ignore_ascii_case(b"overflow") && left >= 1 {
                    i += 2;
                } else {
                    // SET, INCRBY, or what Redis cannot parse: assumed to write.
                    read_only = false;
                    break;
                }
            }
            Some(if read_only {
                KeyFlags::of(&[KeyFlag::Ro, KeyFlag::Access])
            } else {
                READ_WRITE
            })
        }
        _ => None,
    }
}

/// Where a key spec's search starts among `args`, or `None` when it finds nothing.
fn begin_index<A: AsRef<[u8]>>(begin: BeginSearch, args: &[A]) -> Option<usize> {
    match begin {
        BeginSearch::Unknown => None,
        BeginSearch::Index(i) => usize::try_from(i).ok().filter(|&i| i < args.len()),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            let matches = |i: &usize| {
                args.get(*i)
                    .is_some_and(|a| a.as_ref().eq_ignore_ascii_case(keyword.as_bytes()))
            };
            let at = if start_from >= 0 {
                (start_from as usize..args.len()).find(matches)
            } else {
                let start = args.len().checked_sub(start_from.unsigned_abs() as usize)?;
                (1..=start).rev().find(matches)
            };
            at.map(|i| i + 1)
        }
    }
}

/// The metadata shared by the Redis flavor's dispatch and `COMMAND`: a spec and the code.
pub struct Command {
    /// The public metadata.
    pub spec: Spec,
    /// The implementation.
    pub run: Run,
}

/// A Redis-flavor command's implementation.
pub type Run = fn(&mut Ctx<'_>, &[Bytes]) -> Frame;

/// Longer than any command name: a longer first argument is an unknown command.
pub(crate) const MAX_COMMAND_NAME: usize = 32;

/// A name index over a command table, built once.
pub(crate) type NameIndex<C> = HashMap<&'static [u8], &'static C, ahash::RandomState>;

/// Builds a [`NameIndex`] from `(lowercase name, command)` pairs.
pub(crate) fn index<C: 'static>(
    commands: impl Iterator<Item = (&'static str, &'static C)>,
) -> NameIndex<C> {
    commands.map(|(name, c)| (name.as_bytes(), c)).collect()
}

/// Looks `name` up in `index`, any case, lower-casing on the stack: the lookup runs for
/// every command and allocates nothing.
pub(crate) fn find<C>(index: &NameIndex<C>, name: &[u8]) -> Option<&'static C> {
    let mut lower = [0u8; MAX_COMMAND_NAME];
    let lower = lower.get_mut(..name.len())?;
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index.get(&*lower).copied()
}

/// Lookups of every name in the registry's tables agree with a scan: a unit check of
/// [`find`] on case and length.
#[cfg(test)]
mod tests {
    use super::*;

    static ITEMS: [u8; 2] = [1, 2];

    #[test]
    fn find_ignores_case_and_refuses_overlong_names() {
        let idx = index([("get", &ITEMS[0]), ("set", &ITEMS[1])].into_iter());
        assert_eq!(find(&idx, b"GeT"), Some(&1));
        assert_eq!(find(&idx, b"SET"), Some(&2));
        assert_eq!(find(&idx, b"gets"), None);
        assert_eq!(find(&idx, &[b'a'; MAX_COMMAND_NAME + 1]), None);
    }

    /// A spec with `key_specs` (leaked: a test builds a handful).
    fn spec_with(key_specs: Vec<KeySpec>) -> Spec {
        let key_specs: &'static [KeySpec] = Vec::leak(key_specs);
        Spec {
            name: "t",
            arity: -1,
            flags: Flags::of(&[]),
            keys: KeyRange::NONE,
            key_specs,
            acl: Categories::of(&[]),
            tips: &[],
            docs: Docs {
                summary: "",
                since: "",
                group: "",
                complexity: "",
                deprecated: None,
                history: &[],
            },
            subcommands: &[],
        }
    }

    #[test]
    fn key_positions_follow_range_keynum_and_keyword_specs() {
        let args: Vec<&[u8]> = vec![b"mset", b"a", b"1", b"b", b"2"];
        let pairs = spec_with(vec![KeySpec {
            notes: None,
            flags: KeyFlags::of(&[KeyFlag::Ow]),
            begin: BeginSearch::Index(1),
            find: FindKeys::Range {
                last_key: -1,
                key_step: 2,
                limit: 0,
            },
        }]);
        assert_eq!(pairs.key_positions(&args), vec![1, 3]);
        let numkeys: Vec<&[u8]> = vec![b"eval", b"s", b"2", b"k1", b"k2", b"arg"];
        let keynum = spec_with(vec![KeySpec {
            notes: None,
            flags: KeyFlags::of(&[KeyFlag::Rw]),
            begin: BeginSearch::Index(2),
            find: FindKeys::KeyNum {
                key_num_index: 0,
                first_key: 1,
                key_step: 1,
            },
        }]);
        assert_eq!(keynum.key_positions(&numkeys), vec![3, 4]);
        let streams: Vec<&[u8]> = vec![
            b"xread", b"COUNT", b"1", b"STREAMS", b"s1", b"s2", b"0", b"0",
        ];
        let keyword = spec_with(vec![KeySpec {
            notes: None,
            flags: KeyFlags::of(&[KeyFlag::Ro]),
            begin: BeginSearch::Keyword {
                keyword: "STREAMS",
                start_from: 1,
            },
            find: FindKeys::Range {
                last_key: -1,
                key_step: 1,
                limit: 2,
            },
        }]);
        assert_eq!(keyword.key_positions(&streams), vec![4, 5]);
        // A declared key count larger than the arguments names no key at all (Redis's
        // invalid spec, then evalGetKeys finding none).
        let short: Vec<&[u8]> = vec![b"eval", b"s", b"9", b"k1"];
        assert_eq!(keynum.key_positions(&short), Vec::<usize>::new());
    }
}
