// TollgateTelegram: built by its issue.
