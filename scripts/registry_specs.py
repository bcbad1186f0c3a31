#!/usr/bin/env python3
"""Prints `Spec` literals for crates/server/src/commands/registry.rs tables from a running
redis-server 7.0.15's COMMAND INFO and COMMAND DOCS, so a family's specs are Redis's own.

    python3 scripts/registry_specs.py --port 7390 zadd zcard ... > /tmp/specs.rs

Each spec is printed with `run: <name>` (the handler of the same name); paste and adjust.
Needs redis-py (`pip install redis`)."""

import argparse

import redis


def camel(word):
    return "".join(p.capitalize() for p in word.replace("-", "_").split("_"))


def rstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pairs(flat):
    if isinstance(flat, dict):
        return flat
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def key_spec(spec):
    spec = pairs(spec)
    notes = f"Some({rstr(spec['notes'])})" if "notes" in spec else "None"
    flags = ", ".join(f"KeyFlag::{camel(f.lower())}" for f in spec["flags"])
    begin = pairs(spec["begin_search"])
    bspec = pairs(begin["spec"])
    if begin["type"] == "index":
        b = f"BeginSearch::Index({bspec['index']})"
    else:
        b = f"BeginSearch::Keyword {{ keyword: {rstr(bspec['keyword'])}, start_from: {bspec['startfrom']} }}"
    find = pairs(spec["find_keys"])
    fspec = pairs(find["spec"])
    if find["type"] == "range":
        f = f"FindKeys::Range {{ last_key: {fspec['lastkey']}, key_step: {fspec['keystep']}, limit: {fspec['limit']} }}"
    else:
        f = f"FindKeys::KeyNum {{ key_num_index: {fspec['keynumidx']}, first_key: {fspec['firstkey']}, key_step: {fspec['keystep']} }}"
    return f"KeySpec {{ notes: {notes}, flags: KeyFlags::of(&[{flags}]), begin: {b}, find: {f} }}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    # A deadline on every connect and read: a wedged server ends the script, not the session.
    r = redis.Redis(
        port=args.port, decode_responses=True, socket_timeout=10, socket_connect_timeout=10
    )
    for name in args.names:
        # redis-py parses COMMAND INFO into a dict; read the raw reply instead.
        raw = r.connection_pool.get_connection()
        raw.send_command("COMMAND", "INFO", name)
        info = raw.read_response()[0]
        raw.send_command("COMMAND", "DOCS", name)
        docs = raw.read_response()
        docs = docs[1] if isinstance(docs, list) else docs[name]
        docs = docs if isinstance(docs, dict) else pairs(docs)
        r.connection_pool.release(raw)
        (cname, arity, flags, first, last, step, acl, tips, kspecs, _subs) = info
        flag_list = ", ".join(f"Flag::{camel(f)}" for f in flags)
        acl_list = ", ".join(f"Category::{camel(c.lstrip('@'))}" for c in acl)
        tip_list = ", ".join(rstr(t) for t in tips)
        specs = ", ".join(key_spec(s) for s in kspecs)
        if "deprecated_since" in docs:
            dep = f"Some(Deprecation {{ since: {rstr(docs['deprecated_since'])}, replaced_by: {rstr(docs['replaced_by'])} }})"
        else:
            dep = "None"
        history = ", ".join(f"({rstr(v)}, {rstr(t)})" for v, t in docs.get("history", []))
        print(f"""    Command {{
        spec: Spec {{
            name: {rstr(cname)},
            arity: {arity},
            flags: Flags::of(&[{flag_list}]),
            keys: KeyRange {{ first: {first}, last: {last}, step: {step} }},
            key_specs: &[{specs}],
            acl: Categories::of(&[{acl_list}]),
            tips: &[{tip_list}],
            docs: Docs {{
                summary: {rstr(docs['summary'])},
                since: {rstr(docs['since'])},
                group: {rstr(docs['group'])},
                complexity: {rstr(docs['complexity'])},
                deprecated: {dep},
                history: &[{history}],
            }},
            subcommands: &[],
        }},
        run: {cname},
    }},""")


if __name__ == "__main__":
    main()
