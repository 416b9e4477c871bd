"""Personal data: the registry of holders, erasure and export."""
