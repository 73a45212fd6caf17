// TollgateHTTP: filled in by its issue.
