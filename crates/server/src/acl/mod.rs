//! Access control lists (Redis 7.0's `acl.c`): users, their passwords and permissions, the
//! check every command passes before it runs, and the security log.
//!
//! A connection is authenticated as one [`User`]. The user is shared: `ACL SETUSER` changes
//! it in place, so every connection authenticated as it obeys the new rules from its next
//! command, as in Redis. `ACL DELUSER` disconnects them.
//!
//! For the default user's `+@all ~* &*` (or any user whose one selector allows everything)
//! the check is one atomic load: no lock is taken, so connections on different threads do
//! not contend for the rules' lock on every command.

pub mod log;
pub mod rules;
pub mod table;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use bytes::Bytes;

use crate::commands::registry::{KeyFlag, KeyFlags, Spec};
use crate::glob::glob_match;
use rules::{Rules, Selector, SetError};

pub use log::{AclLog, Context as LogContext, Reason};

/// The user every connection starts as.
pub const DEFAULT_USER: &str = "default";

/// One user: a name and rules that `ACL SETUSER` changes in place.
#[derive(Debug)]
pub struct User {
    /// The name, as given to `ACL SETUSER`.
    pub name: Bytes,
    rules: RwLock<Rules>,
    /// Whether the rules allow every command, key and channel (kept with them).
    unrestricted: AtomicBool,
}

impl User {
    fn new(name: Bytes, rules: Rules) -> User {
        User {
            name,
            unrestricted: AtomicBool::new(rules.unrestricted()),
            rules: RwLock::new(rules),
        }
    }

    /// The current rules, to read.
    pub fn rules(&self) -> RwLockReadGuard<'_, Rules> {
        self.rules.read().unwrap_or_else(|p| p.into_inner())
    }

    fn replace(&self, rules: Rules) {
        let mut current = self.rules.write().unwrap_or_else(|p| p.into_inner());
        self.unrestricted
            .store(rules.unrestricted(), Ordering::Release);
        *current = rules;
    }
}

/// Why a command is refused (Redis's `ACL_DENIED_*`), with the index of the argument that
/// caused it for keys and channels. The order (variant, then index) is the one Redis picks
/// the refusal to report by when no selector allows a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    /// The command or subcommand.
    Command,
    /// The key at this argument index.
    Key(usize),
    /// The channel at this argument index.
    Channel(usize),
}

impl Denied {
    /// The reason the ACL log records.
    pub fn reason(self) -> Reason {
        match self {
            Denied::Command => Reason::Command,
            Denied::Key(_) => Reason::Key,
            Denied::Channel(_) => Reason::Channel,
        }
    }

    /// Redis's refusal of a command before it runs (`processCommand`).
    pub fn refusal(self, command: &str) -> String {
        match self {
            Denied::Command => {
                format!("NOPERM this user has no permissions to run the '{command}' command")
            }
            Denied::Key(_) => {
                "NOPERM this user has no permissions to access one of the keys used as arguments"
                    .to_string()
            }
            Denied::Channel(_) => "NOPERM this user has no permissions to access one of the channels used as arguments".to_string(),
        }
    }

    /// Redis's `getAclErrorMessage`, which script errors are built from.
    pub fn message(self) -> &'static str {
        match self {
            Denied::Command => "can't run this command or subcommand",
            Denied::Key(_) => {
                "can't access at least one of the keys mentioned in the command arguments"
            }
            Denied::Channel(_) => "can't publish to the channel mentioned in the command",
        }
    }

    /// EXEC's reason for a queued command no longer allowed (`execCommand`).
    pub fn exec_reason(self) -> &'static str {
        match self {
            Denied::Command => "no permission to execute the command or subcommand",
            Denied::Key(_) => "no permission to touch the specified keys",
            Denied::Channel(_) => "no permission to access one of the channels used as arguments",
        }
    }
}

/// The server's users and security log.
#[derive(Debug)]
pub struct Acl {
    /// By name, in byte order (the order `ACL LIST` and `ACL USERS` show, as Redis's rax).
    users: RwLock<BTreeMap<Bytes, Arc<User>>>,
    default: Arc<User>,
    /// `ACL LOG`.
    pub log: Mutex<AclLog>,
}

impl Default for Acl {
    fn default() -> Self {
        Acl::new()
    }
}

impl Acl {
    /// Only the default user, `on nopass ~* &* +@all`.
    pub fn new() -> Acl {
        let default = Arc::new(User::new(
            Bytes::from_static(DEFAULT_USER.as_bytes()),
            Rules::default_user(),
        ));
        let mut users = BTreeMap::new();
        users.insert(default.name.clone(), Arc::clone(&default));
        Acl {
            users: RwLock::new(users),
            default,
            log: Mutex::new(AclLog::default()),
        }
    }

    /// The default user.
    pub fn default_user(&self) -> Arc<User> {
        Arc::clone(&self.default)
    }

    /// Whether the default user has a password (AUTH with one argument needs it).
    pub fn default_requires_password(&self) -> bool {
        !self.default.rules().nopass()
    }

    /// Redis's `authRequired` for a connection not yet authenticated: the default user has
    /// a password or is off.
    pub fn default_requires_auth(&self) -> bool {
        let rules = self.default.rules();
        !rules.nopass() || !rules.enabled()
    }

    /// `requirepass` (Redis's `ACLUpdateDefaultUserPassword`): the default user's password
    /// becomes `password`, or none is needed when it is empty.
    pub fn set_default_password(&self, password: &[u8]) {
        let mut rules = self.default.rules().clone();
        let _ = rules.apply(b"resetpass", true);
        let op: Vec<u8> = if password.is_empty() {
            b"nopass".to_vec()
        } else {
            [b">".as_slice(), password].concat()
        };
        let _ = rules.apply(&op, true);
        self.default.replace(rules);
    }

    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<Bytes, Arc<User>>> {
        self.users.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The user called `name`.
    pub fn user(&self, name: &[u8]) -> Option<Arc<User>> {
        self.read().get(name).cloned()
    }

    /// Every user, in name order.
    pub fn users(&self) -> Vec<Arc<User>> {
        self.read().values().cloned().collect()
    }

    /// The user called `name` if `password` opens it (Redis's `ACLCheckUserCredentials`).
    pub fn authenticate(&self, name: &[u8], password: &[u8]) -> Option<Arc<User>> {
        let user = self.user(name)?;
        let rules = user.rules();
        let accepted = rules.enabled() && rules.accepts(password);
        drop(rules);
        accepted.then_some(user)
    }

    /// `ACL SETUSER name ops...`: every modifier is applied to a copy, and the user changes
    /// (or is created) only if all are valid. Returns the user's rules before and after
    /// (before: `None` for a new user). The error is Redis's text without `ERR `.
    pub fn set_user(
        &self,
        name: &[u8],
        ops: &[Bytes],
        all_channels: bool,
    ) -> Result<(Option<Rules>, Arc<User>), String> {
        let merged = merge_selector_arguments(ops).map_err(|start| {
            format!(
                "Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(&start)
            )
        })?;
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        let existing = users.get(name).cloned();
        let before = existing.as_ref().map(|u| u.rules().clone());
        let mut rules = before.clone().unwrap_or_else(|| Rules::new(all_channels));
        for op in &merged {
            rules.apply(op, all_channels).map_err(|e: SetError| {
                format!(
                    "Error in ACL SETUSER modifier '{}': {}",
                    String::from_utf8_lossy(op),
                    e.text()
                )
            })?;
        }
        let user = match existing {
            Some(user) => {
                user.replace(rules);
                user
            }
            None => {
                let user = Arc::new(User::new(Bytes::copy_from_slice(name), rules));
                users.insert(user.name.clone(), Arc::clone(&user));
                user
            }
        };
        Ok((before, user))
    }

    /// Removes the user called `name`; the default user cannot be removed (the caller
    /// checks, to refuse the whole command).
    pub fn delete_user(&self, name: &[u8]) -> Option<Arc<User>> {
        if name == DEFAULT_USER.as_bytes() {
            return None;
        }
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        users.remove(name)
    }
}

/// Redis's `ACLMergeSelectorArguments`: a selector split over several arguments
/// (`(~x*` `+get)`) becomes one, joined by spaces. `Err` holds the argument an unclosed
/// parenthesis starts at.
fn merge_selector_arguments(ops: &[Bytes]) -> Result<Vec<Vec<u8>>, Bytes> {
    let mut merged = Vec::new();
    let mut open: Option<(Bytes, Vec<u8>)> = None;
    for op in ops {
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((op.clone(), op.to_vec()));
            continue;
        }
        if let Some((start, mut selector)) = open.take() {
            selector.push(b' ');
            selector.extend_from_slice(op);
            if op.last() == Some(&b')') {
                merged.push(selector);
            } else {
                open = Some((start, selector));
            }
            continue;
        }
        merged.push(op.to_vec());
    }
    match open {
        Some((start, _)) => Err(start),
        None => Ok(merged),
    }
}

/// Channels a command names (Redis's `getChannelsFromCommand`), with whether each is a
/// pattern. Unsubscribing is not checked, so only publishing and subscribing are listed.
fn channels(name: &str, argc: usize) -> (std::ops::Range<usize>, bool) {
    match name {
        "publish" | "spublish" => (1..argc.min(2), false),
        "subscribe" | "ssubscribe" => (1..argc, false),
        "psubscribe" => (1..argc, true),
        _ => (0..0, false),
    }
}

/// Whether one selector allows the command (Redis's `ACLSelectorCheckCmd`).
fn selector_check<A: AsRef<[u8]>>(
    selector: &Selector,
    id: Option<table::CommandId>,
    spec: &'static Spec,
    argv: &[A],
    keys: &mut Option<Vec<(usize, KeyFlags)>>,
) -> Result<(), Denied> {
    use crate::commands::registry::Flag;
    if !selector.all_commands && !spec.flags.contains(Flag::NoAuth) {
        let Some(id) = id else {
            return Err(Denied::Command);
        };
        if !selector.allows_bit(id) {
            let is_sub = table::table().entry(id).is_some_and(|e| e.parent.is_some());
            let arg = argv.get(if is_sub { 2 } else { 1 });
            let allowed = match (arg, selector.first_args(id)) {
                (Some(arg), Some(allowed)) => {
                    allowed.iter().any(|a| a.eq_ignore_ascii_case(arg.as_ref()))
                }
                _ => false,
            };
            if !allowed {
                return Err(Denied::Command);
            }
        }
    }
    if !selector.all_keys && (!spec.key_specs.is_empty()) {
        let found = keys.get_or_insert_with(|| spec.keys_with_flags(argv));
        for &(at, flags) in found.iter() {
            if flags.contains(KeyFlag::NotKey) {
                continue;
            }
            let key = argv.get(at).map(|a| a.as_ref()).unwrap_or_default();
            if !key_allowed(selector, key, flags) {
                return Err(Denied::Key(at));
            }
        }
    }
    if !selector.all_channels {
        let (range, pattern) = channels(spec.name, argv.len());
        for at in range {
            let channel = argv.get(at).map(|a| a.as_ref()).unwrap_or_default();
            if !channel_allowed(&selector.channels, channel, pattern) {
                return Err(Denied::Channel(at));
            }
        }
    }
    Ok(())
}

/// Redis's `ACLSelectorCheckKey`: a pattern granting every access the key spec needs
/// (reads for `access`, writes for `insert`, `delete`, `update`) matches the key.
fn key_allowed(selector: &Selector, key: &[u8], flags: KeyFlags) -> bool {
    if selector.all_keys {
        return true;
    }
    let read = flags.contains(KeyFlag::Access);
    let write = flags.contains(KeyFlag::Insert)
        || flags.contains(KeyFlag::Delete)
        || flags.contains(KeyFlag::Update);
    selector
        .keys
        .iter()
        .any(|p| (p.read || !read) && (p.write || !write) && glob_match(&p.pattern, key))
}

/// Redis's `ACLCheckChannelAgainstList`: a channel is matched against the patterns; a
/// PSUBSCRIBE pattern must equal one of them literally.
fn channel_allowed(patterns: &[Bytes], channel: &[u8], is_pattern: bool) -> bool {
    patterns.iter().any(|p| {
        if is_pattern {
            p.as_ref() == channel
        } else {
            glob_match(p, channel)
        }
    })
}

/// Whether `user` may run `spec` with `argv` (Redis's `ACLCheckAllUserCommandPerm`): one
/// selector must allow it; otherwise the refusal is the command if no selector allowed the
/// command itself, else the last key or channel no selector could match.
pub fn check<A: AsRef<[u8]>>(user: &User, spec: &'static Spec, argv: &[A]) -> Result<(), Denied> {
    if user.unrestricted.load(Ordering::Acquire) {
        return Ok(());
    }
    let rules = user.rules();
    let id = table::table().id_of(spec);
    let mut keys = None;
    let mut relevant = Denied::Command;
    for selector in &rules.selectors {
        match selector_check(selector, id, spec, argv, &mut keys) {
            Ok(()) => return Ok(()),
            Err(denied) => {
                // The derived order is Redis's: command < key < channel, then by position.
                relevant = relevant.max(denied);
            }
        }
    }
    Err(relevant)
}

/// Whether `user` may run the command and read every key (Redis's
/// `ACLUserCheckCmdWithUnrestrictedKeyAccess` with `CMD_KEY_ACCESS`): one selector allows the
/// command and has `allkeys` or a `*` pattern granting reads. SORT's BY and GET need it.
pub fn may_read_any_key<A: AsRef<[u8]>>(user: &User, spec: &'static Spec, argv: &[A]) -> bool {
    if user.unrestricted.load(Ordering::Acquire) {
        return true;
    }
    let rules = user.rules();
    let id = table::table().id_of(spec);
    let mut keys = None;
    rules.selectors.iter().any(|s| {
        selector_check(s, id, spec, argv, &mut keys).is_ok()
            && (s.all_keys || s.keys.iter().any(|p| p.read && p.pattern.as_ref() == b"*"))
    })
}

/// Whether a user's pub/sub clients must be disconnected after its channels changed from
/// `before` to `after` (Redis's `ACLKillPubsubClientsIfNeeded`): `None` when every channel
/// allowed before is still listed, else the patterns now allowed (every selector's), against
/// which each subscription is checked.
pub fn revoked_channels(before: &Rules, after: &Rules) -> Option<Vec<Bytes>> {
    if after.selectors.iter().any(|s| s.all_channels) {
        return None;
    }
    let upcoming: Vec<Bytes> = after
        .selectors
        .iter()
        .flat_map(|s| s.channels.iter().cloned())
        .collect();
    let kept = before
        .selectors
        .iter()
        .all(|s| !s.all_channels && s.channels.iter().all(|c| upcoming.contains(c)));
    (!kept).then_some(upcoming)
}

/// Whether a subscription survives the patterns [`revoked_channels`] returned.
pub fn subscription_allowed(upcoming: &[Bytes], channel: &[u8], is_pattern: bool) -> bool {
    channel_allowed(upcoming, channel, is_pattern)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::dispatch::lookup;

    fn spec(name: &str) -> &'static Spec {
        &lookup(name.as_bytes()).expect(name).spec
    }

    fn user(ops: &[&str]) -> User {
        let acl = Acl::new();
        let ops: Vec<Bytes> = ops.iter().map(|o| Bytes::from(o.to_string())).collect();
        let (_, user) = acl.set_user(b"u", &ops, false).expect("rules");
        let rules = user.rules().clone();
        User::new(user.name.clone(), rules)
    }

    #[test]
    fn commands_keys_and_channels_are_checked_per_selector() {
        let u = user(&["on", "+get", "+set", "%R~r*", "~x*", "(+hset ~h*)"]);
        assert_eq!(check(&u, spec("get"), &["get", "x1"]), Ok(()));
        assert_eq!(check(&u, spec("get"), &["get", "r1"]), Ok(()));
        assert_eq!(
            check(&u, spec("set"), &["set", "r1", "v"]),
            Err(Denied::Key(1))
        );
        assert_eq!(check(&u, spec("del"), &["del", "x"]), Err(Denied::Command));
        assert_eq!(check(&u, spec("hset"), &["hset", "h1", "f", "v"]), Ok(()));
        assert_eq!(
            check(&u, spec("hset"), &["hset", "x1", "f", "v"]),
            Err(Denied::Key(1))
        );
        let u = user(&["on", "+publish", "+psubscribe", "&news.*"]);
        assert_eq!(
            check(&u, spec("publish"), &["publish", "news.1", "m"]),
            Ok(())
        );
        assert_eq!(
            check(&u, spec("publish"), &["publish", "other", "m"]),
            Err(Denied::Channel(1))
        );
        assert_eq!(
            check(&u, spec("psubscribe"), &["psubscribe", "news.*"]),
            Ok(())
        );
        assert_eq!(
            check(&u, spec("psubscribe"), &["psubscribe", "news.1"]),
            Err(Denied::Channel(1))
        );
    }

    #[test]
    fn setuser_is_all_or_nothing_and_merges_split_selectors() {
        let acl = Acl::new();
        let ops = |v: &[&str]| {
            v.iter()
                .map(|o| Bytes::from(o.to_string()))
                .collect::<Vec<_>>()
        };
        acl.set_user(b"u", &ops(&["on", "(~a*", "+get)"]), false)
            .expect("valid");
        let err = acl
            .set_user(b"u", &ops(&["off", "+nosuch"]), false)
            .expect_err("invalid");
        assert_eq!(
            err,
            "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"
        );
        let u = acl.user(b"u").expect("user");
        assert_eq!(
            u.rules().describe(),
            b"on resetchannels -@all (~a* resetchannels -@all +get)"
        );
        let err = acl
            .set_user(b"v", &ops(&["(~a*"]), false)
            .expect_err("unmatched");
        assert_eq!(
            err,
            "Unmatched parenthesis in acl selector starting at '(~a*'."
        );
        assert!(acl.user(b"v").is_none());
    }
}
