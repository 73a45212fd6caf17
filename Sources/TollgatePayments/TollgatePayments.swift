// TollgatePayments: built by its issue.
