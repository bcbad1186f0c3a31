"""respect's driver for redis-py (the line protocol: conformance/clients/README.md).

One JSON line per case on stdin, one answer line on stdout. `--parser python` uses redis-py's
own RESP2/RESP3 parser, `--parser hiredis` the hiredis one. Each case is a fresh connection,
with retries off and the command's response callbacks off, so the value printed is what the
protocol layer surfaced.
"""
import json
import math
import sys

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis._parsers import _HiredisParser, _RESP2Parser
from redis import exceptions as ex

I64 = (-(2**63), 2**63 - 1)


def text(b):
    if isinstance(b, str):
        return b
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": b.hex()}


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
    if isinstance(v, (bytes, bytearray, str)):
        return {"bulk": text(bytes(v) if isinstance(v, bytearray) else v)}
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
    if isinstance(e, ex.TimeoutError):
        return "timeout"
    if isinstance(e, ex.ConnectionError):
        return "connection"
    if isinstance(e, ex.InvalidResponse):
        return "protocol"
    if isinstance(e, ex.ResponseError):
        return "server"
    if isinstance(e, ex.RedisError):
        return "protocol"
    return "internal"


def run_case(case, parser):
    pool = redis.ConnectionPool(
        host=case["host"],
        port=case["port"],
        protocol=case["protocol"],
        socket_timeout=case["timeout"],
        socket_connect_timeout=case["timeout"],
        retry=Retry(NoBackoff(), 0),
        parser_class=parser,
    )
    r = redis.Redis(connection_pool=pool)
    r.response_callbacks.clear()
    try:
        return {"value": canonical(r.execute_command(*case["argv"]))}
    except Exception as e:  # every failure is reported with its kind
        kind = error_kind(e)
        message = str(e) if kind == "server" else f"{type(e).__name__}: {e}"
        return {"error": {"kind": kind, "message": message}}
    finally:
        try:
            pool.disconnect()
        except Exception:
            pass


def main():
    which = sys.argv[sys.argv.index("--parser") + 1] if "--parser" in sys.argv else "python"
    if which == "hiredis":
        from redis.utils import HIREDIS_AVAILABLE

        if not HIREDIS_AVAILABLE:
            sys.exit("hiredis is not importable")
        import hiredis

        parser, library = _HiredisParser, f"redis-py {redis.__version__} + hiredis {hiredis.__version__}"
    else:
        parser, library = _RESP2Parser, f"redis-py {redis.__version__} (Python parser)"
    print(json.dumps({"driver": f"redis-py-{which}", "library": library}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        answer = run_case(json.loads(line), parser)
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
