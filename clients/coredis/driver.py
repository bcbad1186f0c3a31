"""respect's driver for coredis (the line protocol: conformance/clients/README.md).

coredis 6 speaks RESP3 only (6.0 removed `protocol_version` and RESP2), so a RESP2 case is
answered `unsupported`. Each case is a fresh client inside its own `async with` (coredis 6
requires it), with `NoRetryPolicy()`, no cache, no version checks, its stream and connect
timeouts set to the case's timeout, and the command sent as a raw `CommandRequest` with
coredis's `NoopCallback`, so the value printed is what its parser surfaced, with bytes kept
(`decode_responses=False`).

What coredis's types cannot tell apart (the grader's NON-STRICT ladder takes these): `+`, `$`
and `=` are all `bytes` (printed as `bulk`; a verbatim string's `txt:` is dropped), `:` and `(`
are both `int` (printed as `int` inside 64 bits, else `bignum`). A map's aggregate keys come
back as tuples or frozensets (hashable stand-ins), printed as an array or a set.
"""

import json
import math
import sys

import anyio
import coredis
from coredis import exceptions as ex
from coredis.commands.request import CommandRequest
from coredis.response._callbacks import NoopCallback
from coredis.retry import NoRetryPolicy

I64 = (-(2**63), 2**63 - 1)


def text(b):
    if isinstance(b, str):
        return b
    try:
        return bytes(b).decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": bytes(b).hex()}


def canonical(v, depth=0):
    if depth > 60:
        raise ValueError("nested too deep")
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": v} if I64[0] <= v <= I64[1] else {"bignum": str(v)}
    if isinstance(v, float):
        if math.isnan(v):
            return {"double": "nan"}
        if math.isinf(v):
            return {"double": "inf" if v > 0 else "-inf"}
        return {"double": v}
    if v is None:
        return {"null": None}
    if isinstance(v, (bytes, bytearray, memoryview, str)):
        return {"bulk": text(v)}
    if isinstance(v, BaseException):
        return {"error": str(v)}
    if isinstance(v, (list, tuple)):
        return {"array": [canonical(x, depth + 1) for x in v]}
    if isinstance(v, (set, frozenset)):
        return {"set": [canonical(x, depth + 1) for x in v]}
    if isinstance(v, dict):
        return {"map": [[canonical(k, depth + 1), canonical(x, depth + 1)] for k, x in v.items()]}
    return {"bulk": repr(v)}


def error_kind(e):
    if isinstance(e, TimeoutError):
        return "timeout"
    if isinstance(e, ex.ProtocolError):  # a ConnectionError subclass in coredis
        return "protocol"
    if isinstance(e, (ex.ConnectionError, ConnectionError, OSError, anyio.BrokenResourceError,
                      anyio.ClosedResourceError, anyio.EndOfStream)):
        return "connection"
    if isinstance(e, ex.InvalidResponse):
        return "protocol"
    if isinstance(e, ex.ResponseError):
        return "server"
    if isinstance(e, ex.RedisError):
        return "protocol"
    return "internal"


def unwrap(e):
    """anyio task groups wrap what a task raised; the first leaf is the library's error."""
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    return e


async def run_case(case):
    if case["protocol"] != 3:
        return {"unsupported": "coredis 6 speaks RESP3 only (RESP2 was removed in 6.0)"}
    client = coredis.Redis(
        host=case["host"],
        port=case["port"],
        stream_timeout=case["timeout"],
        connect_timeout=case["timeout"],
        pool_timeout=case["timeout"],
        decode_responses=False,
        verify_version=False,
        retry_policy=NoRetryPolicy(),
    )
    name, *args = case["argv"]
    try:
        async with client:
            request = CommandRequest(
                name.upper().encode(),
                *[a.encode() for a in args],
                callback=NoopCallback(),
                execution_parameters={},
                resolver=client.execute_command,
            )
            return {"value": canonical(await request)}
    except BaseException as e:  # every failure is reported with its kind
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        e = unwrap(e)
        kind = error_kind(e)
        message = str(e) if kind == "server" else f"{type(e).__name__}: {e}"
        return {"error": {"kind": kind, "message": message}}


def main():
    print(json.dumps({"driver": "coredis", "library": f"coredis {coredis.__version__}"}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        case = json.loads(line)
        try:
            answer = anyio.run(run_case, case)
        except Exception as e:  # the driver must outlive anything the library does
            answer = {"error": {"kind": "internal", "message": f"{type(e).__name__}: {e}"}}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
