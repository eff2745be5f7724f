"""申报通知: calls for proposals, their rules, extra form fields and required attachments."""
