// TollgateSystemd: filled in by its issue.
