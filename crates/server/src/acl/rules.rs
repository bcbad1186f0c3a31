//! A user's rules: flags, password hashes and selectors (Redis 7.0's `user` and
//! `aclSelector`), how `ACL SETUSER` modifiers change them, and how `ACL LIST` and
//! `ACL GETUSER` describe them.
//!
//! A user has a root selector (the rules given outside parentheses) and any number of
//! further selectors (`(~key* +get)`); a command is allowed when one selector allows the
//! command and every key and channel it names.

use std::collections::BTreeMap;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::table::{category, table, CommandId, COMMAND_BITS, FUTURE_COMMANDS_BIT};
use crate::commands::registry::Category;

/// Why a modifier was refused; [`SetError::text`] is Redis's `ACLSetUserStringError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetError {
    /// `EINVAL`.
    Syntax,
    /// `ENOENT`.
    UnknownCommand,
    /// `EEXIST`.
    KeyAfterAllKeys,
    /// `EISDIR`.
    ChannelAfterAllChannels,
    /// `ENODEV`.
    NoSuchPassword,
    /// `EBADMSG`.
    BadHash,
    /// `ECHILD`.
    SubcommandFirstArg,
}

impl SetError {
    /// Redis's words for it.
    pub fn text(self) -> &'static str {
        match self {
            SetError::Syntax => "Syntax error",
            SetError::UnknownCommand => "Unknown command or category name in ACL",
            SetError::KeyAfterAllKeys => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            SetError::ChannelAfterAllChannels => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            SetError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            SetError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            SetError::SubcommandFirstArg => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// One bit per command number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandBits([u64; COMMAND_BITS / 64]);

impl Default for CommandBits {
    fn default() -> Self {
        CommandBits([0; COMMAND_BITS / 64])
    }
}

impl CommandBits {
    fn get(&self, id: usize) -> bool {
        self.0
            .get(id / 64)
            .is_some_and(|w| w & (1u64 << (id % 64)) != 0)
    }

    fn set(&mut self, id: usize, on: bool) {
        if let Some(w) = self.0.get_mut(id / 64) {
            if on {
                *w |= 1u64 << (id % 64);
            } else {
                *w &= !(1u64 << (id % 64));
            }
        }
    }

    fn fill(&mut self, on: bool) {
        self.0 = [if on { u64::MAX } else { 0 }; COMMAND_BITS / 64];
    }
}

/// A key pattern and the access it grants (`~`: both, `%R~`, `%W~`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    /// The glob.
    pub pattern: Bytes,
    /// Reads allowed.
    pub read: bool,
    /// Writes allowed.
    pub write: bool,
}

impl KeyPattern {
    fn describe(&self, out: &mut Vec<u8>) {
        match (self.read, self.write) {
            (true, false) => out.extend_from_slice(b"%R~"),
            (false, true) => out.extend_from_slice(b"%W~"),
            _ => out.push(b'~'),
        }
        out.extend_from_slice(&self.pattern);
    }
}

/// One selector's permissions (Redis's `aclSelector`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    /// The user's own rules rather than a parenthesised selector.
    pub root: bool,
    /// `allkeys` / `~*`.
    pub all_keys: bool,
    /// `allchannels` / `&*`.
    pub all_channels: bool,
    /// `allcommands` / `+@all`, not narrowed since.
    pub all_commands: bool,
    commands: CommandBits,
    /// First arguments allowed for a command whose bit is off (`+select|0`), by number.
    first_args: BTreeMap<CommandId, Vec<Bytes>>,
    /// The key patterns, in the order given.
    pub keys: Vec<KeyPattern>,
    /// The channel patterns, in the order given.
    pub channels: Vec<Bytes>,
}

impl Selector {
    /// An empty selector: no command, no key; every channel when `acl-pubsub-default` is
    /// `allchannels`.
    pub fn new(root: bool, all_channels: bool) -> Selector {
        Selector {
            root,
            all_channels,
            ..Selector::default()
        }
    }

    /// Whether the command numbered `id` is allowed by its bit.
    pub fn allows_bit(&self, id: CommandId) -> bool {
        self.commands.get(usize::from(id))
    }

    /// The first arguments allowed for `id` while its bit is off.
    pub fn first_args(&self, id: CommandId) -> Option<&[Bytes]> {
        self.first_args.get(&id).map(Vec::as_slice)
    }

    /// Redis's `ACLChangeSelectorPerm`: a command's bit and its subcommands'.
    fn change(&mut self, id: CommandId, allow: bool) {
        self.set_bit(id, allow);
        self.first_args.remove(&id);
        if let Some(entry) = table().entry(id) {
            for &child in &entry.children {
                self.set_bit(child, allow);
            }
        }
    }

    fn set_bit(&mut self, id: CommandId, allow: bool) {
        self.commands.set(usize::from(id), allow);
        if !allow {
            self.all_commands = false;
        }
    }

    fn change_category(&mut self, category: Category, allow: bool) {
        for id in table().in_category(category) {
            self.change(id, allow);
        }
    }

    fn set_all_commands(&mut self, allow: bool) {
        self.commands.fill(allow);
        self.all_commands = allow;
        self.first_args.clear();
    }

    /// Applies one selector modifier (Redis's `ACLSetSelector`).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), SetError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all_commands(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all_commands(false);
        } else if let Some(first @ (b'~' | b'%')) = op.first().copied() {
            self.add_key_pattern(first, op)?;
        } else if let Some(pattern) = op.strip_prefix(b"&") {
            if self.all_channels {
                return Err(SetError::ChannelAfterAllChannels);
            }
            if has_spaces(pattern) {
                return Err(SetError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(Bytes::copy_from_slice(pattern));
            }
            self.all_channels = false;
        } else if let Some(name) = op.strip_prefix(b"+@").or_else(|| op.strip_prefix(b"-@")) {
            let found = category(name).ok_or(SetError::UnknownCommand)?;
            self.change_category(found, op.first() == Some(&b'+'));
        } else if let Some(name) = op.strip_prefix(b"+") {
            self.allow_command(name)?;
        } else if let Some(name) = op.strip_prefix(b"-") {
            let id = table().lookup(name).ok_or(SetError::UnknownCommand)?;
            self.change(id, false);
        } else {
            return Err(SetError::Syntax);
        }
        Ok(())
    }

    fn add_key_pattern(&mut self, first: u8, op: &[u8]) -> Result<(), SetError> {
        if self.all_keys {
            return Err(SetError::KeyAfterAllKeys);
        }
        let (read, write, pattern) = if first == b'%' {
            let mut read = false;
            let mut write = false;
            let mut at = 1;
            loop {
                match op.get(at).copied() {
                    Some(b'R' | b'r') if !read => read = true,
                    Some(b'W' | b'w') if !write => write = true,
                    Some(b'~') => {
                        at += 1;
                        break;
                    }
                    None => break,
                    Some(_) => return Err(SetError::Syntax),
                }
                at += 1;
            }
            // No permission at all (`%~x`): refused by redis-server 7.0.15 as packaged,
            // though the source of that tag lets it through. `%R~` and `%RW` (an empty
            // pattern) are accepted by both.
            if !(read || write) {
                return Err(SetError::Syntax);
            }
            (read, write, op.get(at..).unwrap_or_default())
        } else {
            (true, true, op.get(1..).unwrap_or_default())
        };
        if has_spaces(pattern) {
            return Err(SetError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(existing) => {
                existing.read |= read;
                existing.write |= write;
            }
            None => self.keys.push(KeyPattern {
                pattern: Bytes::copy_from_slice(pattern),
                read,
                write,
            }),
        }
        self.all_keys = false;
        Ok(())
    }

    /// `+command`, `+container|sub`, or the first-argument form `+command|arg`.
    fn allow_command(&mut self, name: &[u8]) -> Result<(), SetError> {
        let t = table();
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let id = t.lookup(name).ok_or(SetError::UnknownCommand)?;
            self.change(id, true);
            return Ok(());
        };
        let (base, sub) = (&name[..bar], &name[bar + 1..]);
        let id = t.lookup(base).ok_or(SetError::UnknownCommand)?;
        let entry = t.entry(id).ok_or(SetError::UnknownCommand)?;
        if entry.parent.is_some() {
            return Err(SetError::SubcommandFirstArg);
        }
        if sub.is_empty() {
            return Err(SetError::Syntax);
        }
        if !entry.spec.subcommands.is_empty() {
            let id = t.lookup(name).ok_or(SetError::UnknownCommand)?;
            self.change(id, true);
        } else {
            let allowed = self.first_args.entry(id).or_default();
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                allowed.push(Bytes::copy_from_slice(sub));
            }
        }
        Ok(())
    }

    /// The command rules as `ACL GETUSER` and `ACL LIST` show them (Redis's
    /// `ACLDescribeSelectorCommandRules`): `+@all` or `-@all`, then the categories that best
    /// fit the bitmap, then single commands for what they leave different.
    pub fn describe_commands(&self) -> Vec<u8> {
        let mut rules: Vec<u8> = Vec::new();
        let mut fake = Selector::default();
        let additive = !self.commands.get(FUTURE_COMMANDS_BIT);
        if additive {
            rules.extend_from_slice(b"-@all ");
            fake.set_all_commands(false);
        } else {
            rules.extend_from_slice(b"+@all ");
            fake.set_all_commands(true);
        }
        // What is left to explain: categories are applied to it inverted as they are used.
        let mut temp = Selector {
            commands: self.commands.clone(),
            ..Selector::default()
        };
        let t = table();
        let mut applied = [false; Category::ALL.len()];
        loop {
            let mut best = None;
            let (mut min_diff, mut max_same) = (u64::MAX, 0u64);
            for (j, category) in Category::ALL.iter().enumerate() {
                if applied.get(j).copied().unwrap_or(true) {
                    continue;
                }
                let (mut on, mut off) = (0u64, 0u64);
                for id in t.in_category(*category) {
                    if temp.allows_bit(id) {
                        on += 1;
                    } else {
                        off += 1;
                    }
                }
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < min_diff || (diff == min_diff && same > max_same)) {
                    best = Some(j);
                    min_diff = diff;
                    max_same = same;
                }
            }
            let Some(j) = best else { break };
            let Some(category) = Category::ALL.get(j).copied() else {
                break;
            };
            fake.change_category(category, additive);
            temp.change_category(category, !additive);
            rules.push(if additive { b'+' } else { b'-' });
            rules.extend_from_slice(category.name().as_bytes());
            rules.push(b' ');
            if let Some(done) = applied.get_mut(j) {
                *done = true;
            }
        }
        for (i, entry) in t.entries.iter().enumerate() {
            let Ok(id) = CommandId::try_from(i) else {
                continue;
            };
            let user_bit = self.allows_bit(id);
            if user_bit != fake.allows_bit(id) {
                rules.push(if user_bit { b'+' } else { b'-' });
                rules.extend_from_slice(entry.spec.name.as_bytes());
                rules.push(b' ');
                fake.change(id, user_bit);
            }
            if !user_bit {
                for arg in self.first_args(id).unwrap_or_default() {
                    rules.push(b'+');
                    rules.extend_from_slice(entry.spec.name.as_bytes());
                    rules.push(b'|');
                    rules.extend_from_slice(arg);
                    rules.push(b' ');
                }
            }
        }
        rules.pop();
        rules
    }

    /// The key patterns as `ACL GETUSER` shows them (`~*` for all keys).
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.all_keys {
            return b"~*".to_vec();
        }
        space_separated(&self.keys, |key, out| key.describe(out))
    }

    /// The channel patterns as `ACL GETUSER` shows them (`&*` for all channels).
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.all_channels {
            return b"&*".to_vec();
        }
        space_separated(&self.channels, |channel, out| {
            out.push(b'&');
            out.extend_from_slice(channel);
        })
    }

    /// The selector in `ACL LIST`'s form (Redis's `ACLDescribeSelector`).
    fn describe(&self, out: &mut Vec<u8>) {
        if self.all_keys {
            out.extend_from_slice(b"~* ");
        } else {
            for key in &self.keys {
                key.describe(out);
                out.push(b' ');
            }
        }
        if self.all_channels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for channel in &self.channels {
                out.push(b'&');
                out.extend_from_slice(channel);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&self.describe_commands());
    }
}

/// Each item as `write` writes it, one space between them.
fn space_separated<T>(items: &[T], mut write: impl FnMut(&T, &mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write(item, &mut out);
    }
    out
}

/// Redis's `ACLStringHasSpaces`: spaces and NUL bytes are refused in patterns and names.
pub fn has_spaces(text: &[u8]) -> bool {
    text.iter().any(|&b| b.is_ascii_whitespace() || b == 0)
}

/// The user flags in the order `ACL LIST` and `ACL GETUSER` show them.
pub const USER_FLAG_NAMES: [&str; 5] = [
    "on",
    "off",
    "nopass",
    "skip-sanitize-payload",
    "sanitize-payload",
];
const ON: u8 = 1;
const OFF: u8 = 2;
const NOPASS: u8 = 4;
const SKIP_SANITIZE: u8 = 8;
const SANITIZE: u8 = 16;

/// A user's rules (everything but its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    flags: u8,
    /// The SHA-256 hashes of its passwords, as 64 lowercase hex digits, in the order added.
    pub passwords: Vec<Bytes>,
    /// The root selector first, then the parenthesised ones in the order added.
    pub selectors: Vec<Selector>,
}

impl Rules {
    /// A new user's rules: `off`, no password, no command, no key; channels as
    /// `acl-pubsub-default` says.
    pub fn new(all_channels: bool) -> Rules {
        Rules {
            flags: OFF,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true, all_channels)],
        }
    }

    /// The default user's: `on nopass ~* &* +@all`.
    pub fn default_user() -> Rules {
        let mut rules = Rules::new(true);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            // Each of these is a valid modifier.
            let _ = rules.apply(op.as_bytes(), true);
        }
        rules
    }

    /// Whether the user may authenticate (`on`, not `off`).
    pub fn enabled(&self) -> bool {
        self.flags & OFF == 0
    }

    /// Whether any password is accepted.
    pub fn nopass(&self) -> bool {
        self.flags & NOPASS != 0
    }

    /// The flag names the user has, in Redis's order.
    pub fn flag_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        USER_FLAG_NAMES
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.flags & (1 << i) != 0)
            .map(|(_, n)| n)
    }

    /// Whether `password` is one of the user's (compared by hash, in constant time per
    /// hash), or the user needs none.
    pub fn accepts(&self, password: &[u8]) -> bool {
        if self.nopass() {
            return true;
        }
        let hashed = hash_password(password);
        self.passwords.iter().fold(false, |found, p| {
            let differs = p
                .iter()
                .zip(hashed.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            found | (differs == 0 && p.len() == hashed.len())
        })
    }

    /// Whether the rules allow every command, key and channel: a single selector with
    /// `+@all`, `~*` and `&*` (any user state: a connection already authenticated keeps its
    /// rights while its user is `off`, as in Redis).
    pub fn unrestricted(&self) -> bool {
        matches!(self.selectors.as_slice(), [only] if only.all_commands && only.all_keys && only.all_channels)
    }

    /// The root selector.
    pub fn root(&self) -> Option<&Selector> {
        self.selectors.first()
    }

    /// Applies one `ACL SETUSER` modifier (Redis's `ACLSetUser`); `all_channels` is
    /// `acl-pubsub-default` for new selectors and `reset`.
    pub fn apply(&mut self, op: &[u8], all_channels: bool) -> Result<(), SetError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if op.is_empty() {
            return Ok(());
        }
        if is("on") {
            self.flags = (self.flags | ON) & !OFF;
        } else if is("off") {
            self.flags = (self.flags | OFF) & !ON;
        } else if is("skip-sanitize-payload") {
            self.flags = (self.flags | SKIP_SANITIZE) & !SANITIZE;
        } else if is("sanitize-payload") {
            self.flags = (self.flags | SANITIZE) & !SKIP_SANITIZE;
        } else if is("nopass") {
            self.flags |= NOPASS;
            self.passwords.clear();
        } else if is("resetpass") {
            self.flags &= !NOPASS;
            self.passwords.clear();
        } else if let Some(b'>' | b'#') = op.first() {
            let hash = password_hash_of(op)?;
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.flags &= !NOPASS;
        } else if let Some(b'<' | b'!') = op.first() {
            let hash = password_hash_of(op)?;
            let at = self
                .passwords
                .iter()
                .position(|p| *p == hash)
                .ok_or(SetError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op.len() > 1 && op.first() == Some(&b'(') && op.last() == Some(&b')') {
            let inner = op.get(1..op.len() - 1).unwrap_or_default();
            let mut selector = Selector::new(false, all_channels);
            // Redis's sdssplitargs: unbalanced quotes give no arguments at all (an empty
            // selector), not an error.
            for part in respect_resp::split_inline(inner).unwrap_or_default() {
                selector.apply(&part)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.flags &= !NOPASS;
            self.passwords.clear();
            for op in ["resetkeys", "resetchannels"] {
                self.apply(op.as_bytes(), all_channels)?;
            }
            if all_channels {
                self.apply(b"allchannels", all_channels)?;
            }
            for op in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply(op.as_bytes(), all_channels)?;
            }
        } else {
            let root = self.selectors.first_mut().ok_or(SetError::Syntax)?;
            root.apply(op)?;
        }
        Ok(())
    }

    /// The rules in `ACL LIST`'s form, after `user <name> ` (Redis's `ACLDescribeUser`).
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for name in self.flag_names() {
            out.extend_from_slice(name.as_bytes());
            out.push(b' ');
        }
        for hash in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(hash);
            out.push(b' ');
        }
        for selector in &self.selectors {
            if selector.root {
                selector.describe(&mut out);
            } else {
                out.extend_from_slice(b" (");
                selector.describe(&mut out);
                out.push(b')');
            }
        }
        out
    }
}

/// A password's SHA-256 as 64 lowercase hex digits (Redis's `ACLHashPassword`).
pub fn hash_password(password: &[u8]) -> Bytes {
    let digest = Sha256::digest(password);
    let mut hex = Vec::with_capacity(64);
    for byte in digest {
        hex.extend_from_slice(format!("{byte:02x}").as_bytes());
    }
    Bytes::from(hex)
}

/// The hash a password modifier names: `>pass` and `<pass` hash their password, `#hash` and
/// `!hash` give one, checked.
fn password_hash_of(op: &[u8]) -> Result<Bytes, SetError> {
    let rest = op.get(1..).unwrap_or_default();
    match op.first() {
        Some(b'>' | b'<') => Ok(hash_password(rest)),
        _ => checked_hash(rest),
    }
}

/// A hash given with `#` or `!`: 64 lowercase hex digits (Redis's `ACLCheckPasswordHash`).
fn checked_hash(hash: &[u8]) -> Result<Bytes, SetError> {
    let valid = hash.len() == 64 && hash.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if valid {
        Ok(Bytes::copy_from_slice(hash))
    } else {
        Err(SetError::BadHash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(ops: &[&str]) -> Rules {
        let mut r = Rules::new(false);
        for op in ops {
            r.apply(op.as_bytes(), false).expect(op);
        }
        r
    }

    #[test]
    fn a_new_user_and_the_default_user_are_described_as_redis_describes_them() {
        assert_eq!(Rules::new(false).describe(), b"off resetchannels -@all");
        assert_eq!(Rules::default_user().describe(), b"on nopass ~* &* +@all");
    }

    #[test]
    fn categories_and_single_commands_are_described_back() {
        let r = rules(&["on", "~x*", "+@string", "-get"]);
        assert_eq!(r.describe(), b"on ~x* resetchannels -@all +@string -get");
        let r = rules(&["+@all", "-debug"]);
        assert_eq!(
            r.root().map(|s| s.describe_commands()),
            Some(b"+@all -debug".to_vec())
        );
        let r = rules(&["+select|0"]);
        assert_eq!(
            r.root().map(|s| s.describe_commands()),
            Some(b"-@all +select|0".to_vec())
        );
    }

    #[test]
    fn passwords_are_kept_as_hashes() {
        let r = rules(&[">123"]);
        assert!(r.accepts(b"123"));
        assert!(!r.accepts(b"1234"));
        assert_eq!(
            r.passwords,
            vec![hash_password(b"123")],
            "one hash, as Redis keeps"
        );
        let mut r = r;
        assert_eq!(r.apply(b"<nope", false), Err(SetError::NoSuchPassword));
        assert_eq!(r.apply(b"#abc", false), Err(SetError::BadHash));
    }

    #[test]
    fn selector_arguments_split_as_redis_splits_them() {
        let r = rules(&["(~a* \"+get\" '~x')"]);
        assert_eq!(
            r.describe(),
            b"off resetchannels -@all (~a* ~x resetchannels -@all +get)".to_vec()
        );
        // Unbalanced quotes: no arguments, an empty selector (Redis's sdssplitargs).
        let r = rules(&["(~a \"b)"]);
        assert_eq!(
            r.describe(),
            b"off resetchannels -@all (resetchannels -@all)".to_vec()
        );
    }
}
