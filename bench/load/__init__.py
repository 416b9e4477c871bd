"""Load generators: a closed-loop HTTP load (`bench.load.http`) and the call-center load
(`bench.load.callcenter`: agents on real sockets, calls and SMS driven as Twilio drives them)."""

from bench.load.http import LoadResult, post_load

__all__ = ["LoadResult", "post_load"]
