"""The audit log: who did which privileged thing (roles, exports, erasures, configuration), when."""
