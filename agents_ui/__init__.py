"""The agents', supervisors' and dispatchers' web console."""
