// TollgateScheduler: filled in by its issue.
