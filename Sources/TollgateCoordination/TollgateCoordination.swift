// TollgateCoordination: built by its issue.
