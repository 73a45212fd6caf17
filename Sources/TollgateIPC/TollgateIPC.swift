// TollgateIPC: filled in by its issue.
