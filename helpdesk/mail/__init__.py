"""The e-mail channel: messages in (IMAP, raw-MIME ingress) and out (SMTP outbox), threaded into
tickets. See docs/email.md."""
