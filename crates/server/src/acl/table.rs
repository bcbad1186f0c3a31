//! Every command and subcommand of the Redis flavor numbered for the ACL bitmaps (Redis's
//! `ACLGetCommandID`): a user's permissions are one bit per number.
//!
//! The numbers follow the registry's order (each command, then its subcommands), which is
//! also the order rules are described in: Redis walks its command dict in hash order, so the
//! single-command rules of `ACL LIST` come in an order of its own there.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::commands::dispatch::{lookup, lookup_subcommand, redis_commands};
use crate::commands::registry::{Category, Spec};

/// Redis's `USER_COMMAND_BITS_COUNT`: the bitmap's size. The last bit is not a command: it
/// marks a selector that was given `+@all`, which also allows commands added later.
pub const COMMAND_BITS: usize = 1024;
/// The bit `+@all` sets besides every command's (Redis's future-commands bit).
pub const FUTURE_COMMANDS_BIT: usize = COMMAND_BITS - 1;

/// A command's number.
pub type CommandId = u16;

/// One numbered command.
pub struct Entry {
    /// The registry's spec (`config|get` for a subcommand).
    pub spec: &'static Spec,
    /// The container's number, for a subcommand.
    pub parent: Option<CommandId>,
    /// The subcommands' numbers, for a container.
    pub children: Vec<CommandId>,
}

/// The numbered commands.
pub struct Table {
    /// By number.
    pub entries: Vec<Entry>,
    /// By full name (`config|get`). Not by address: a `const` table's data may be copied
    /// into each codegen unit that uses it, so the same spec can sit at two addresses.
    by_name: HashMap<&'static str, CommandId>,
    /// Each category's commands, by the category's place in `Category::ALL` (describing a
    /// user's rules counts every category many times over).
    by_category: Vec<Vec<CommandId>>,
}

/// The table, built on first use.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(build)
}

fn build() -> Table {
    let mut entries = Vec::new();
    for command in redis_commands() {
        let id = entries.len();
        entries.push(Entry {
            spec: &command.spec,
            parent: None,
            children: Vec::new(),
        });
        for sub in command.spec.subcommands {
            let child = entries.len();
            entries.push(Entry {
                spec: sub,
                parent: CommandId::try_from(id).ok(),
                children: Vec::new(),
            });
            if let (Some(parent), Ok(child)) = (entries.get_mut(id), CommandId::try_from(child)) {
                parent.children.push(child);
            }
        }
    }
    // Numbers past the bitmap would never be allowed (Redis's ACLGetCommandBitCoordinates
    // refuses them too); the registry is far below it (checked by a unit test).
    entries.truncate(FUTURE_COMMANDS_BIT);
    let by_name = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((e.spec.name, CommandId::try_from(i).ok()?)))
        .collect();
    let by_category = Category::ALL
        .iter()
        .map(|category| {
            entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.spec.acl.contains(*category))
                .filter_map(|(i, _)| CommandId::try_from(i).ok())
                .collect()
        })
        .collect();
    Table {
        entries,
        by_name,
        by_category,
    }
}

impl Table {
    /// The number of a spec the registry holds.
    pub fn id_of(&self, spec: &Spec) -> Option<CommandId> {
        self.by_name.get(spec.name).copied()
    }

    /// The entry numbered `id`.
    pub fn entry(&self, id: CommandId) -> Option<&Entry> {
        self.entries.get(usize::from(id))
    }

    /// The numbers of the commands in `category` (containers and subcommands alike).
    pub fn in_category(&self, category: Category) -> impl Iterator<Item = CommandId> + '_ {
        self.by_category
            .get(category as usize)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
    }

    /// Redis's `ACLLookupCommand`: `name` or `container|sub`, any case; `None` for an
    /// unknown name, a subcommand of a command without subcommands, or more than one `|`.
    pub fn lookup(&self, name: &[u8]) -> Option<CommandId> {
        let mut parts = name.split(|&b| b == b'|');
        let first = parts.next()?;
        let second = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let command = lookup(first)?;
        let spec = match second {
            None => &command.spec,
            Some(sub) => {
                if command.spec.subcommands.is_empty() {
                    return None;
                }
                lookup_subcommand(&command.spec, sub)?
            }
        };
        self.id_of(spec)
    }
}

/// The category named `name` (without its `@`), any case.
pub fn category(name: &[u8]) -> Option<Category> {
    Category::ALL.into_iter().find(|c| {
        c.name()
            .strip_prefix('@')
            .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_number_inside_the_bitmap() {
        let t = table();
        let total: usize = redis_commands().map(|c| 1 + c.spec.subcommands.len()).sum();
        assert_eq!(t.entries.len(), total);
        assert!(total < FUTURE_COMMANDS_BIT);
        let get = t.lookup(b"GET").expect("get");
        assert_eq!(t.entry(get).map(|e| e.spec.name), Some("get"));
        let config_get = t.lookup(b"config|GET").expect("config|get");
        assert_eq!(
            t.entry(config_get).and_then(|e| e.parent),
            t.lookup(b"config")
        );
        assert_eq!(t.lookup(b"get|x"), None);
        assert_eq!(t.lookup(b"config|get|x"), None);
        assert_eq!(category(b"STRING"), Some(Category::String));
        // `in_category` indexes by the variant's number: `Category::ALL` is in that order.
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        assert!(t
            .in_category(Category::String)
            .any(|id| Some(id) == t.lookup(b"get")));
        assert_eq!(category(b"all"), None);
    }
}
