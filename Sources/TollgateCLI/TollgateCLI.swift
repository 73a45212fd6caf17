// TollgateCLI: filled in by its issue.
