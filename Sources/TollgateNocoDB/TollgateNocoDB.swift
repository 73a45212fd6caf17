// TollgateNocoDB: built by its issue.
