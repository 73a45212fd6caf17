// TollgateRedis: filled in by its issue.
