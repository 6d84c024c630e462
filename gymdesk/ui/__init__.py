"""The widgets: role views, status, alerts and dialogs of gymdesk."""
