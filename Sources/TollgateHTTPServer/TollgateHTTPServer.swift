// TollgateHTTPServer: filled in by its issue.
