//! Placeholder: registered by a later step.

use mlua::{Lua, Table};

/// Adds this library to `libs`.
pub fn register(_lua: &Lua, _libs: &Table) -> mlua::Result<()> {
    Ok(())
}
