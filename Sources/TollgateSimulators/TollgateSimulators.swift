// TollgateSimulators: built by its issue.
