// TollgateGateway: filled in by its issue.
