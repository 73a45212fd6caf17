// TollgateJobs: built by its issue.
