// TollgateRuntime: filled in by its issue.
